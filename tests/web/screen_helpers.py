"""Helpers for the sign-in, cashier and customer screen tests."""

import html
import re

from flask_babel import force_locale, get_translations, gettext

LANGUAGES = ("en", "fr", "de", "lb")
# How each language writes dates and numbers in Luxembourg (the default LOCALE_REGION; i18n.py).
IN_LUXEMBOURG = {"en": "en_GB", "fr": "fr_LU", "de": "de_LU", "lb": "lb_LU"}
HTMX = {"HX-Request": "true"}


def sign_in(client, user) -> None:
    """Put the user in the client's session, as the login page would."""
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True


def choose_language(client, locale: str) -> None:
    with client.session_transaction() as session:
        session["locale"] = locale


def translated(locale: str, message: str, **variables) -> str:
    """The message in `locale`, to look for in `text(response)`."""
    with force_locale(locale):
        return gettext(message, **variables)


def translated_plural(locale: str, singular: str, plural: str, count: int, **variables) -> str:
    """ngettext in `locale`; `num` defaults to `count`, as in the templates."""
    with force_locale(locale):
        template = get_translations().ngettext(singular, plural, count)
    return template % {"num": count, **variables}


def text(response) -> str:
    """The response body with HTML entities decoded, so translations compare as plain text."""
    return html.unescape(response.get_data(as_text=True))


def hidden_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)
