"""The outbox worker: `flask loyalty worker`. Claims due messages, delivers each through its
handler (services/outbox.py), records the outcome, and waits a moment when there is nothing to do.

Several workers may run at once on PostgreSQL (claims use FOR UPDATE SKIP LOCKED, so they never
take the same message). On SQLite one worker takes one message at a time. SIGTERM or SIGINT stop
the worker after the message in hand; messages it had claimed but not started go back to the
queue at once.
"""

import dataclasses
import logging
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable

from flask import Flask

from .clock import token_urlsafe, utcnow
from .extensions import db
from .services import activity_alerts, outbox, statistics_service

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 60.0
# How often the worker looks whether a shop's daily activity alert is due.
ALERTS_EVERY_SECONDS = 300.0


class Worker:
    def __init__(
        self,
        app: Flask,
        *,
        settings: outbox.DeliverySettings | None = None,
        poll_seconds: float | None = None,
        rng: random.Random | None = None,
        name: str | None = None,
        monotonic: Callable[[], float] | None = None,
    ):
        self.app = app
        self.settings = settings or outbox.DeliverySettings.from_config(app.config)
        with app.app_context():
            if db.engine.dialect.name != "postgresql":
                # One writer at a time: a batch would only hold messages others cannot take.
                self.settings = dataclasses.replace(self.settings, batch_size=1)
        self.poll_seconds = (
            poll_seconds if poll_seconds is not None else app.config["OUTBOX_POLL_SECONDS"]
        )
        self.rng = rng or random.Random()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{token_urlsafe(4)}"
        self._stop = threading.Event()
        self._monotonic = monotonic or time.monotonic
        self._last_prune = float("-inf")
        self._last_alerts = float("-inf")

    def stop(self, *_signal_args) -> None:
        """Finish the message in hand, then return from run()."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run_once(self) -> list[outbox.Outcome]:
        """Claim one batch and deliver it (stopping early if asked); the outcomes."""
        outcomes = []
        with self.app.app_context():
            try:
                claimed = outbox.claim(self.name, self.settings)
                announcements = [m for m in claimed if m.kind in outbox.ANNOUNCEMENTS]
                if announcements:  # database work only: done together, quickly
                    outcomes += outbox.fan_out(announcements, self.name, self.settings, self.rng)
                delivered = []
                for message in claimed:
                    if self.stopping:
                        break
                    if message.kind in outbox.ANNOUNCEMENTS:
                        continue
                    error = outbox.run_handler(message)
                    if error is None:
                        delivered.append(message)
                    else:
                        outcomes.append(outbox.record_failure(
                            message, self.name, error, self.settings, self.rng
                        ))
                # Recorded together at the end of the batch: one commit for all. A crash
                # before it delivers them again (handlers are idempotent).
                outcomes += outbox.record_successes(delivered, self.name)
            finally:
                if self.stopping:
                    outbox.release(self.name)
                db.session.remove()
        return outcomes

    def run_until_idle(self) -> list[outbox.Outcome]:
        """Deliver until nothing is due (tests, `flask loyalty worker --until-idle`)."""
        outcomes = []
        while not self.stopping:
            batch = self.run_once()
            if not batch:
                break
            outcomes.extend(batch)
        return outcomes

    def run(self) -> None:
        """Deliver until stopped; SIGTERM and SIGINT stop it (when run in the main thread)."""
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = {}
        if in_main_thread:
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, self.stop)
        log.info("outbox worker %s started", self.name)
        try:
            while not self.stopping:
                try:
                    busy = bool(self.run_once())
                    self._prune_now_and_then()
                    self._alerts_now_and_then()
                except Exception:  # the database went away, say: log it, wait, try again
                    log.exception("outbox worker %s: a round failed", self.name)
                    busy = False
                if not busy:
                    self._stop.wait(self.poll_seconds)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        log.info("outbox worker %s stopped", self.name)

    def _alerts_now_and_then(self) -> None:
        """The owners' daily activity alerts, when due (services/activity_alerts.py)."""
        now = self._monotonic()
        if now - self._last_alerts < ALERTS_EVERY_SECONDS:
            return
        self._last_alerts = now
        with self.app.app_context():
            try:
                activity_alerts.send_due_alerts(utcnow())
            finally:
                db.session.remove()

    def _prune_now_and_then(self) -> None:
        now = self._monotonic()
        if now - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = now
        with self.app.app_context():
            try:
                outbox.prune_delivered(self.settings)
                statistics_service.compact_daily_activity()
            finally:
                db.session.remove()
