"""E-mail: one message composed in the recipient's language, sent through Flask-Mailman.

A service that wants an e-mail sent calls `enqueue(Email(...))` inside its transaction; the message
leaves only once that transaction has committed, so a refused or rolled-back change never sends a
link that does not work. `Email` holds plain strings only (template name, address, language and
the template's values), so it can be stored and sent later by a worker.

MAIL_BACKEND decides where messages go: `smtp` (MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS/SSL,
MAIL_USERNAME/PASSWORD), `console` (`make run` without SMTP: printed on the terminal) or `locmem`
(tests that do not start an SMTP server).
"""

from dataclasses import asdict, dataclass, field

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_mailman import EmailMultiAlternatives
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from ..i18n import SUPPORTED_LOCALES

# Each kind of e-mail: its subject; its bodies are templates/email/<kind>.txt and .html.
SUBJECTS = {
    "invitation": _l("Your login for %(shop)s on Loyalty Portal"),
    "password_reset": _l("Choose a new password for Loyalty Portal"),
    "card_link": _l("Your loyalty card at %(shop)s"),
    "activity_alert": _l("Unusual activity at %(shop)s on %(day)s"),
}
_PENDING_KEY = "loyalty_pending_emails"


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
    """Send `email` once the current database transaction commits (nothing on a rollback)."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any query still forgets the e-mail
    session.info.setdefault(_PENDING_KEY, []).append(email)


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    for email in session.info.pop(_PENDING_KEY, []):
        try:
            send(email)
        except Exception:  # the change is committed; a lost e-mail is asked for again
            current_app.logger.exception("E-mail %s to %s could not be sent", email.kind,
                                         email.to)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
