"""A real SMTP server for the e-mail tests (aiosmtpd on a free loopback port): the app sends
through Flask-Mailman's SMTP backend, the tests read what arrived.

`smtp_server` (a fixture, registered in tests/conftest.py) starts it and points the test's app at
it; `smtp_server.messages` are the received e-mails as `email.message.EmailMessage` objects, and
`smtp_server.link_in(message)` finds the first https?:// link in the plain-text body.

E-mails leave through the outbox: before the fixture's server is read, the outbox worker delivers
what is due (`deliver_outbox`), as `flask loyalty worker` would. A server of one's own (browser
tests) runs a worker beside the app and waits with `wait_for(address)`.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

LINK = re.compile(r"https?://\S+")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Collector:
    def __init__(self):
        self.received: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd in its own thread; with `username`, it demands AUTH LOGIN/PLAIN."""

    def __init__(self, username: str | None = None, password: str | None = None):
        self.collector = _Collector()
        self.port = _free_port()
        self.username, self.password = username, password
        self.logins: list[str] = []
        options = {}
        if username:
            options = {"authenticator": self._authenticate, "auth_required": True,
                       "auth_require_tls": False}
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port,
                                     **options)
        self.before_read = None  # e.g. let the outbox worker deliver first

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == self.username
              and auth_data.password.decode() == self.password)
        if ok:
            self.logins.append(self.username)
        return AuthResult(success=ok)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def config(self) -> dict:
        """App settings that send through this server."""
        return {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port,
                "MAIL_USE_TLS": False, "MAIL_USE_SSL": False,
                "MAIL_USERNAME": self.username, "MAIL_PASSWORD": self.password}

    @property
    def envelopes(self) -> list[tuple[str, list[str], bytes]]:
        if self.before_read is not None:
            self.before_read()
        with self.collector.lock:
            return list(self.collector.received)

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(raw, policy=policy.default) for _, _, raw in self.envelopes]

    def messages_to(self, address: str) -> list[EmailMessage]:
        return [message_from_bytes(raw, policy=policy.default)
                for _, rcpt, raw in self.envelopes if address in rcpt]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        """The messages to `address` once `count` have arrived (a worker delivers meanwhile)."""
        deadline = time.monotonic() + timeout
        while len(found := self.messages_to(address)) < count:
            assert time.monotonic() < deadline, f"no e-mail to {address} within {timeout} s"
            time.sleep(0.05)
        return found

    @staticmethod
    def bodies(message: EmailMessage) -> tuple[str, str]:
        """The plain-text and HTML bodies."""
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        return text, html

    def link_in(self, message: EmailMessage) -> str:
        text, _ = self.bodies(message)
        match = LINK.search(text)
        assert match, f"no link in {text!r}"
        return match.group(0)


def deliver_outbox(app) -> None:
    """Deliver every due outbox message now, as `flask loyalty worker` would (the test's session
    is committed first, so the worker's own session sees its data and SQLite's lock is free)."""
    from flask import has_app_context

    from loyalty_portal.extensions import db
    from loyalty_portal.worker import Worker

    if has_app_context():
        db.session.commit()
    Worker(app, poll_seconds=0).run_until_idle()


@pytest.fixture
def smtp_server(app):
    """A local SMTP server that the test's app sends through; stopped after the test."""
    from loyalty_portal.extensions import mail

    server = SmtpServer().start()
    app.config.update(server.config())
    mail.init_app(app)  # Flask-Mailman reads its settings once, when bound to the app
    server.before_read = lambda: deliver_outbox(app)
    yield server
    server.stop()
