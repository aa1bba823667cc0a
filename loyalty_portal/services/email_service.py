"""E-mail: one message composed in the recipient's language, sent through Flask-Mailman.

A service that wants an e-mail sent calls `enqueue(Email(...))` inside its transaction: an outbox
message (kind "email.send") committed with the change, so a refused or rolled-back change never
sends a link that does not work; the outbox worker (`flask loyalty worker`, started by `make run`)
sends it, retrying while SMTP is unreachable. `Email` holds plain strings only (template name,
address, language and the template's values): that is the message's payload.

MAIL_BACKEND decides where messages go: `smtp` (MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS/SSL,
MAIL_USERNAME/PASSWORD), `console` (`make run` without SMTP: printed on the terminal) or `locmem`
(tests that do not start an SMTP server).
"""

from dataclasses import asdict, dataclass, field

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_mailman import EmailMultiAlternatives

from ..i18n import SUPPORTED_LOCALES
from . import outbox

# Each kind of e-mail: its subject; its bodies are templates/email/<kind>.txt and .html.
SUBJECTS = {
    "invitation": _l("Your login for %(shop)s on Loyalty Portal"),
    "password_reset": _l("Choose a new password for Loyalty Portal"),
    "card_link": _l("Your loyalty card at %(shop)s"),
    "activity_alert": _l("Unusual activity at %(shop)s on %(day)s"),
}
# The outbox delivery kind of every e-mail; its payload is `Email.to_dict()`.
EMAIL_KIND = "email.send"


@dataclass(frozen=True)
class Email:
    kind: str  # a key of SUBJECTS
    to: str
    locale: str
    values: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def public_url(path: str) -> str:
    """An address on the site as customers and owners reach it (PUBLIC_BASE_URL)."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def compose(email: Email) -> EmailMultiAlternatives:
    """The message with a plain-text body and an HTML alternative, both in `email.locale`
    (English when that language is not offered)."""
    if email.kind not in SUBJECTS:
        raise ValueError(f"unknown e-mail kind {email.kind!r}")
    locale = email.locale if email.locale in SUPPORTED_LOCALES else "en"
    with force_locale(locale):
        subject = str(SUBJECTS[email.kind]) % email.values
        text = render_template(f"email/{email.kind}.txt", locale=locale, **email.values)
        html = render_template(f"email/{email.kind}.html", locale=locale, subject=subject,
                               **email.values)
    message = EmailMultiAlternatives(subject, text, to=[email.to],
                                     headers={"Content-Language": locale})
    message.attach_alternative(html, "text/html")
    return message


def send(email: Email) -> None:
    """Send one e-mail now through the configured backend; SMTP errors are raised."""
    compose(email).send()


def enqueue(email: Email) -> None:
    """Send `email` once the current database transaction commits: an outbox message written in
    that transaction (nothing is sent on a rollback), delivered by `flask loyalty worker`, which
    retries with backoff while the SMTP server is unreachable."""
    outbox.enqueue(EMAIL_KIND, reason=email.kind, payload=email.to_dict())


@outbox.handler(EMAIL_KIND)
def deliver(message: outbox.Message) -> None:
    """The outbox worker's handler: compose and send now; an SMTP error fails the delivery, which
    the worker retries."""
    send(Email(**message.payload))
