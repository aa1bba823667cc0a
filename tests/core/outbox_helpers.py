"""Helpers for the outbox tests: a handler that records what it was given, and a worker run."""

import random
from dataclasses import dataclass

from sqlalchemy import select

from loyalty_portal.extensions import db
from loyalty_portal.models import LoyaltyCard, OutboxMessage
from loyalty_portal.services import outbox
from loyalty_portal.worker import Worker

RECORDING_KIND = "test.record"


@dataclass(frozen=True)
class Delivery:
    message: outbox.Message
    stamp_count: int | None  # the card's balance when the handler read it


class Recorder:
    """A delivery kind subscribed to every announcement; it reads the card as a handler would."""

    def __init__(self):
        self.deliveries: list[Delivery] = []
        self.fail_with: Exception | None = None

    def __call__(self, message: outbox.Message) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        card = db.session.get(LoyaltyCard, message.card_id) if message.card_id else None
        self.deliveries.append(Delivery(message, card.stamp_count if card else None))

    @property
    def messages(self) -> list[outbox.Message]:
        return [delivery.message for delivery in self.deliveries]


class FixedRandom(random.Random):
    """uniform(a, b) always gives the same point of the range (0: a, 1: b)."""

    def __init__(self, point: float):
        super().__init__(0)
        self.point = point

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.point


def drain(app, **worker_options) -> list[outbox.Outcome]:
    """Commit the test's session, then deliver everything that is due."""
    db.session.commit()
    worker_options.setdefault("poll_seconds", 0)
    worker_options.setdefault("rng", FixedRandom(1.0))
    return Worker(app, **worker_options).run_until_idle()


def messages(**filters) -> list[OutboxMessage]:
    """The messages as they are now, detached: reading them later opens no transaction (on
    SQLite every transaction holds the write lock a worker needs)."""
    db.session.commit()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    for name, value in filters.items():
        query = query.where(getattr(OutboxMessage, name) == value)
    rows = list(db.session.scalars(query))
    for row in rows:
        db.session.expunge(row)
    db.session.commit()
    return rows


def announced() -> list[tuple]:
    """The pending announcements as (kind, reason, card, program, customer)."""
    return [
        (m.kind, m.reason, m.card_id, m.program_id, m.customer_id)
        for m in messages(status="pending")
        if m.kind in outbox.ANNOUNCEMENTS
    ]
