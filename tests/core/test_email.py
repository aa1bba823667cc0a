"""E-mail for real: composed in the recipient's language with a plain-text and an HTML body, sent
through SMTP to a local aiosmtpd server, and only once the transaction that asked for it commits."""

import pytest
from sqlalchemy import select

from loyalty_portal.extensions import mail
from loyalty_portal.models import OutboxMessage
from loyalty_portal.services import email_service
from loyalty_portal.services.email_service import Email
from tests.smtp_server import SmtpServer, deliver_outbox

GREETING = {"en": "Hello Paul,", "fr": "Bonjour Paul,", "de": "Hallo Paul,", "lb": "Moien Paul,"}


def invitation(locale: str = "en", to: str = "paul@example.com") -> Email:
    return Email("invitation", to, locale, {"shop": "Café Lumière", "name": "Paul",
                                            "link": "http://shop.test/invitation/abc", "days": "7"})


@pytest.mark.parametrize("locale", ["en", "fr", "de", "lb"])
def test_an_email_arrives_over_smtp_with_text_and_html_in_the_recipients_language(
    db, smtp_server, locale
):
    email_service.send(invitation(locale))

    [message] = smtp_server.messages
    assert message["To"] == "paul@example.com"
    assert message["Content-Language"] == locale
    assert "Café Lumière" in message["Subject"]
    text, html = smtp_server.bodies(message)
    assert GREETING[locale] in text and GREETING[locale] in html
    assert "http://shop.test/invitation/abc" in text
    assert 'href="http://shop.test/invitation/abc"' in html
    assert f'<html lang="{locale}">' in html


def test_an_unknown_language_falls_back_to_english(db, smtp_server):
    email_service.send(invitation("pt"))
    text, _ = smtp_server.bodies(smtp_server.messages[0])
    assert text.startswith("Hello Paul,")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_smtp_login_is_sent_when_configured(app, db):
    server = SmtpServer(username="mailer", password="s3cret").start()
    try:
        app.config.update(server.config())
        mail.init_app(app)
        email_service.send(invitation())
        assert server.logins == ["mailer"]
        assert len(server.messages) == 1
    finally:
        server.stop()


def test_an_enqueued_email_leaves_only_when_the_transaction_commits(db, smtp_server):
    email_service.enqueue(invitation(to="rolled-back@example.com"))
    db.session.rollback()
    email_service.enqueue(invitation(to="committed@example.com"))
    assert [m.payload["to"] for m in db.session.scalars(select(OutboxMessage))] == [
        "committed@example.com"]
    db.session.commit()

    assert [m["To"] for m in smtp_server.messages] == ["committed@example.com"]


def test_an_email_is_an_outbox_message_retried_while_smtp_fails(app, db):
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_TIMEOUT=2)
    mail.init_app(app)
    email_service.enqueue(invitation())
    db.session.commit()
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert (message.kind, message.reason) == ("email.send", "invitation")
    assert message.payload["to"] == "paul@example.com"

    deliver_outbox(app)
    db.session.expire_all()
    failed = db.session.get(OutboxMessage, message.id)
    assert failed.status == "pending" and failed.attempts == 1
    assert "Connection refused" in failed.last_error or "Errno" in failed.last_error


def test_the_console_backend_prints_the_email(app, db, capsys):
    app.config["MAIL_BACKEND"] = "console"
    mail.init_app(app)
    email_service.send(invitation())
    printed = capsys.readouterr().out
    assert "To: paul@example.com" in printed
    assert "http://shop.test/invitation/abc" in printed
