"""The transactional outbox: telling the outside world about changes, after they commit.

A change and its outbox message are written in one transaction (they commit or roll back
together); `flask loyalty worker` (worker.py) delivers messages after commit, retrying with
backoff. A message names *what* changed and *why*; the handler reads the current state when it
delivers, so messages can fold together (coalescing): five stamps on one card before the worker
looks are one delivery of the final balance.

Two levels, so the counter's transaction never needs to know who listens:

- **Announcements** (CARD_CHANGED, PROGRAM_CHANGED, CUSTOMER_ERASED) are written by the services
  (the stamp's own statement writes CARD_CHANGED). The worker turns each into one delivery per
  handler that subscribed to it, in one short transaction.
- **Deliveries** have a kind that names exactly one handler (e.g. "apple.pass_update"). Each
  kind retries and dies on its own: Google being down does not re-push Apple passes. A feature
  may also enqueue a delivery directly (a welcome e-mail: `enqueue("email.welcome", ...)`).

Registering a handler (do it at import time of a module that create_app imports):

    from loyalty_portal.services import outbox

    @outbox.handler("apple.pass_update", on=[outbox.CARD_CHANGED, outbox.PROGRAM_CHANGED])
    def push_pass_update(message: outbox.Message) -> None:
        ...  # raise to fail; the worker retries with backoff (an exception whose
             # `retryable` attribute is False makes the message dead at once)

Handlers run with no transaction open and must be idempotent (a crash after the handler but
before the outcome is recorded delivers again). A handler that writes commits its own work.
"""

import functools
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Integer, bindparam, case, delete, func, select, text, update
from sqlalchemy.sql.elements import TextClause

from ..clock import utcnow
from ..errors import OutboxMessageNotFound, OutboxMessageNotRetryable
from ..extensions import db
from ..models import OutboxMessage, OutboxStatus
from ..models.types import UTCDateTime

log = logging.getLogger(__name__)

CARD_CHANGED = "card.changed"  # balance, blocking, erasure of its customer: one card's pass
PROGRAM_CHANGED = "program.changed"  # look, texts or rewards: every pass of the program
CUSTOMER_ERASED = "customer.erased"  # personal data gone: forget them wherever they were sent
ANNOUNCEMENTS = (CARD_CHANGED, PROGRAM_CHANGED, CUSTOMER_ERASED)

MAX_ERROR_LENGTH = 2000


def card_key(card_id: int) -> str:
    return f"card:{card_id}"


def program_key(program_id: int) -> str:
    return f"program:{program_id}"


def customer_key(customer_id: int) -> str:
    return f"customer:{customer_id}"


# Messages as handlers see them -------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One message as claimed by a worker; `changes` counts the changes folded into it."""

    id: int
    kind: str
    reason: str
    card_id: int | None
    program_id: int | None
    customer_id: int | None
    payload: dict[str, Any] | None
    coalesce_key: str | None
    changes: int
    attempts: int
    created_at: datetime
    last_change_at: datetime
    retried_at: datetime | None


Handler = Callable[[Message], None]


@dataclass(frozen=True)
class Registration:
    kind: str
    handler: Handler
    on: tuple[str, ...]


_registry: dict[str, Registration] = {}


def register_handler(kind: str, handler: Handler, *, on: Iterable[str] = ()) -> None:
    """Deliver messages of `kind` with `handler`, and subscribe `kind` to the announcements in
    `on` (each one then becomes a message of `kind`). One handler per kind."""
    on = tuple(on)
    if kind in ANNOUNCEMENTS or not kind or len(kind) > 64:
        raise ValueError(f"{kind!r} cannot name a delivery kind")
    unknown = [name for name in on if name not in ANNOUNCEMENTS]
    if unknown:
        raise ValueError(f"unknown announcements {unknown}; choose from {ANNOUNCEMENTS}")
    existing = _registry.get(kind)
    if existing is not None and existing.handler is not handler:
        raise ValueError(f"{kind!r} already has a handler: {existing.handler!r}")
    _registry[kind] = Registration(kind, handler, on)


def handler(kind: str, *, on: Iterable[str] = ()) -> Callable[[Handler], Handler]:
    """Decorator form of register_handler."""

    def register(function: Handler) -> Handler:
        register_handler(kind, function, on=on)
        return function

    return register


def unregister_handler(kind: str) -> None:
    _registry.pop(kind, None)


def registrations() -> list[Registration]:
    return sorted(_registry.values(), key=lambda registration: registration.kind)


def subscribers(announcement: str) -> list[str]:
    return [r.kind for r in registrations() if announcement in r.on]


# Writing messages (in the caller's transaction) --------------------------------------------------

_ENQUEUE = text(
    """
    INSERT INTO outbox_messages (kind, card_id, program_id, customer_id, reason, payload,
                                 coalesce_key, status, changes, attempts, created_at,
                                 last_change_at, due_at)
    VALUES (:kind, :card_id, :program_id, :customer_id, :reason, :payload, :coalesce_key,
            'pending', 1, 0, :created_at, :last_change_at, :due_at)
    ON CONFLICT (kind, coalesce_key) WHERE status = 'pending'
    DO UPDATE SET changes = outbox_messages.changes + 1, reason = excluded.reason,
                  payload = excluded.payload, last_change_at = excluded.last_change_at
    """
).bindparams(
    bindparam("payload", type_=JSON),
    bindparam("created_at", type_=UTCDateTime),
    bindparam("last_change_at", type_=UTCDateTime),
    bindparam("due_at", type_=UTCDateTime),
)


def enqueue(
    kind: str,
    *,
    reason: str,
    card_id: int | None = None,
    program_id: int | None = None,
    customer_id: int | None = None,
    payload: dict[str, Any] | None = None,
    coalesce_key: str | None = None,
    created_at: datetime | None = None,
) -> None:
    """Add a message to the caller's transaction: it is delivered only if that commits.

    While a message of the same kind and `coalesce_key` is pending (not yet delivered, also while
    a worker delivers it), this one folds into it instead (the newer reason and payload win; the
    worker delivers once more if the fold came in during a delivery). None never folds.
    """
    now = utcnow()
    db.session.execute(
        _ENQUEUE,
        {
            "kind": kind,
            "card_id": card_id,
            "program_id": program_id,
            "customer_id": customer_id,
            "reason": reason,
            "payload": payload,
            "coalesce_key": coalesce_key,
            "created_at": created_at or now,
            "last_change_at": created_at or now,
            "due_at": now,
        },
    )


def announce_card_change(card_id: int, program_id: int, reason: str) -> None:
    """A card's pass shows something new. (Balance changes announce themselves in ledger.)"""
    enqueue(
        CARD_CHANGED,
        reason=reason,
        card_id=card_id,
        program_id=program_id,
        coalesce_key=card_key(card_id),
    )


def announce_program_change(program_id: int, reason: str) -> None:
    """Every pass of the program shows something new (its look, texts or rewards)."""
    enqueue(
        PROGRAM_CHANGED, reason=reason, program_id=program_id, coalesce_key=program_key(program_id)
    )


def announce_customer_erasure(customer_id: int) -> None:
    enqueue(
        CUSTOMER_ERASED,
        reason="customer_erased",
        customer_id=customer_id,
        coalesce_key=customer_key(customer_id),
    )


# The worker's side --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliverySettings:
    """How the worker claims and retries (config: OUTBOX_*; see README)."""

    batch_size: int = 20
    lease: timedelta = timedelta(minutes=5)
    backoff_base: timedelta = timedelta(seconds=2)
    backoff_max: timedelta = timedelta(hours=1)
    max_age: timedelta = timedelta(hours=24)
    keep_delivered: timedelta = timedelta(hours=24)

    @classmethod
    def from_config(cls, config) -> "DeliverySettings":
        return cls(
            batch_size=int(config["OUTBOX_BATCH_SIZE"]),
            lease=timedelta(seconds=float(config["OUTBOX_LEASE_SECONDS"])),
            backoff_base=timedelta(seconds=float(config["OUTBOX_BACKOFF_BASE_SECONDS"])),
            backoff_max=timedelta(seconds=float(config["OUTBOX_BACKOFF_MAX_SECONDS"])),
            max_age=timedelta(seconds=float(config["OUTBOX_MAX_AGE_SECONDS"])),
            keep_delivered=timedelta(seconds=float(config["OUTBOX_KEEP_DELIVERED_SECONDS"])),
        )


def backoff_delay(attempts: int, settings: DeliverySettings, rng: random.Random) -> timedelta:
    """Wait before retry number `attempts` (1 after the first failure): base * 2**(attempts-1),
    capped, then scaled by a random factor in [0.5, 1] so that messages that failed together
    (an outage) do not all come back in the same instant."""
    exponential = settings.backoff_base * (2 ** min(attempts - 1, 32))
    return min(exponential, settings.backoff_max) * rng.uniform(0.5, 1.0)


_MESSAGE_COLUMNS = (
    "id, kind, reason, card_id, program_id, customer_id, payload, coalesce_key, changes,"
    " attempts, created_at, last_change_at, retried_at"
)
_CLAIM = """
    UPDATE outbox_messages SET due_at = :lease_until, claimed_by = :worker
    WHERE id IN (SELECT id FROM outbox_messages
                 WHERE status = 'pending' AND due_at <= :now
                 ORDER BY due_at, id LIMIT :limit {lock})
    RETURNING {columns}
"""


@functools.cache
def _claim_statement(dialect: str) -> TextClause:
    # SKIP LOCKED: concurrent workers take disjoint rows and never wait on each other (or on a
    # counter transaction folding a change into a row). SQLite has one writer at a time anyway.
    lock = "FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    return (
        text(_CLAIM.format(lock=lock, columns=_MESSAGE_COLUMNS))
        .bindparams(
            bindparam("lease_until", type_=UTCDateTime),
            bindparam("now", type_=UTCDateTime),
        )
        .columns(
            payload=JSON,
            created_at=UTCDateTime,
            last_change_at=UTCDateTime,
            retried_at=UTCDateTime,
            changes=Integer,
            attempts=Integer,
        )
    )


def claim(worker: str, settings: DeliverySettings, limit: int | None = None) -> list[Message]:
    """Take up to `limit` due messages for `worker` for the lease time, and commit. A claimed
    message becomes due again by itself when the lease runs out (a worker that died)."""
    now = utcnow()
    statement = _claim_statement(db.session.get_bind().dialect.name)
    rows = db.session.execute(
        statement,
        {
            "worker": worker,
            "now": now,
            "lease_until": now + settings.lease,
            "limit": limit or settings.batch_size,
        },
    ).all()
    db.session.commit()
    messages = [Message(**row._asdict()) for row in rows]
    return sorted(messages, key=lambda message: message.id)


# Fixed SQL, parsed once: the worker records an outcome per message, so this is its hot path.
_SUCCEEDED = text(
    """
    UPDATE outbox_messages
    SET claimed_by = NULL, attempts = 0, last_error = NULL, due_at = :now,
        status = CASE WHEN changes = :changes THEN 'delivered' ELSE 'pending' END,
        delivered_at = CASE WHEN changes = :changes THEN :now END
    WHERE id = :id AND claimed_by = :worker
    RETURNING status
    """
).bindparams(bindparam("now", type_=UTCDateTime))
_FAILED = text(
    """
    UPDATE outbox_messages
    SET claimed_by = NULL, status = :status, attempts = :attempts, due_at = :due_at,
        last_error = :error
    WHERE id = :id AND claimed_by = :worker
    RETURNING status
    """
).bindparams(bindparam("due_at", type_=UTCDateTime))


def _finish(statement: TextClause, message: Message, worker: str, **values) -> OutboxStatus | None:
    """Record an outcome, only if `worker` still holds the claim (a lease that ran out may have
    gone to another worker, whose outcome then counts); the message's new status, or None."""
    status = db.session.execute(
        statement, {"id": message.id, "worker": worker, **values}
    ).scalar()
    return OutboxStatus(status) if status is not None else None


def _record_success(message: Message, worker: str) -> OutboxStatus | None:
    # Changes folded in during the delivery were not seen by it: deliver again, right away.
    return _finish(_SUCCEEDED, message, worker, now=utcnow(), changes=message.changes)


def _record_failure(
    message: Message, worker: str, error: str, settings: DeliverySettings, rng: random.Random
) -> OutboxStatus:
    now = utcnow()
    attempts = message.attempts + 1
    age = now - (message.retried_at or message.created_at)
    if getattr(error, "final", False) or age >= settings.max_age:
        status, due_at = OutboxStatus.DEAD, now
    else:
        status, due_at = OutboxStatus.PENDING, now + backoff_delay(attempts, settings, rng)
    _finish(
        _FAILED,
        message,
        worker,
        status=status.value,
        attempts=attempts,
        due_at=due_at,
        error=error[:MAX_ERROR_LENGTH],
    )
    return status


def _fan_out(message: Message) -> None:
    """An announcement becomes one message per subscribed delivery kind (same transaction)."""
    for kind in subscribers(message.kind):
        enqueue(
            kind,
            reason=message.reason,
            card_id=message.card_id,
            program_id=message.program_id,
            customer_id=message.customer_id,
            payload=message.payload,
            coalesce_key=message.coalesce_key,
            created_at=message.last_change_at,
        )


class NoHandler(LookupError):
    pass


@dataclass(frozen=True)
class Outcome:
    message: Message
    status: OutboxStatus  # PENDING after a failure that will be retried, or after a fold-in
    error: str | None = None


class HandlerFailure(str):
    """What went wrong in a handler, as text; `final` when the error itself said that trying
    again cannot help (an exception whose `retryable` attribute is False, e.g. Google refusing a
    pass with 400): the message is then dead at once, for the admin to see and retry."""

    final: bool = False


def run_handler(message: Message) -> str | None:
    """Call the message's handler with no transaction open; None when it succeeded, else what
    went wrong. Never raises for a handler's error."""
    try:
        registration = _registry.get(message.kind)
        if registration is None:
            raise NoHandler(f"no handler is registered for {message.kind!r} in this worker")
        registration.handler(message)
        db.session.rollback()  # whatever the handler left open; it commits its own writes
        return None
    except Exception as error:  # a handler's failure, whatever it is, is the message's outcome
        db.session.rollback()
        description = HandlerFailure(f"{type(error).__name__}: {error}")
        description.final = getattr(error, "retryable", True) is False
        log.warning("outbox message %s (%s) failed: %s", message.id, message.kind, description)
        return description


def record_successes(messages: list[Message], worker: str) -> list[Outcome]:
    """Record the deliveries of a batch in one transaction (one commit, not one per message).
    A message comes back PENDING if changes were folded in meanwhile (it goes again)."""
    statuses = [_record_success(message, worker) or OutboxStatus.PENDING for message in messages]
    db.session.commit()
    return [Outcome(m, status) for m, status in zip(messages, statuses, strict=True)]


def record_failure(
    message: Message, worker: str, error: str, settings: DeliverySettings, rng: random.Random
) -> Outcome:
    """Retry later with backoff, or dead after the maximum age (or at once for a final
    HandlerFailure)."""
    status = _record_failure(message, worker, error, settings, rng)
    db.session.commit()
    return Outcome(message, status, error)


def deliver(
    message: Message, worker: str, settings: DeliverySettings, rng: random.Random
) -> Outcome:
    """Deliver one claimed message and record the outcome. Never raises for a handler's error:
    that is recorded on the message (retry with backoff, or dead after the maximum age)."""
    if message.kind in ANNOUNCEMENTS:
        return fan_out([message], worker, settings, rng)[0]
    error = run_handler(message)
    if error is None:
        return record_successes([message], worker)[0]
    return record_failure(message, worker, error, settings, rng)


def fan_out(
    announcements: list[Message], worker: str, settings: DeliverySettings, rng: random.Random
) -> list[Outcome]:
    """Turn a batch of claimed announcements into deliveries in one transaction (one commit for
    the batch, not one per announcement). Should one fail, each is done on its own instead."""
    try:
        for message in announcements:
            _fan_out(message)
        return record_successes(announcements, worker)
    except Exception as error:
        db.session.rollback()
        if len(announcements) > 1:
            log.exception("outbox: fanning out %s announcements at once failed", len(announcements))
            return [fan_out([m], worker, settings, rng)[0] for m in announcements]
        description = f"{type(error).__name__}: {error}"
        return [record_failure(announcements[0], worker, description, settings, rng)]


def release(worker: str) -> int:
    """Hand back the worker's claimed messages it has not started (it is stopping)."""
    count = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.claimed_by == worker,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(claimed_by=None, due_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return count


def prune_delivered(settings: DeliverySettings, batch: int = 1000) -> int:
    """Delete delivered messages older than `keep_delivered`, a batch at a time."""
    cutoff = utcnow() - settings.keep_delivered
    old = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == OutboxStatus.DELIVERED,
            OutboxMessage.delivered_at < cutoff,
        )
        .limit(batch)
        .scalar_subquery()
    )
    count = db.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.id.in_(old))
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return count


# The platform admin's view -----------------------------------------------------------------------

LISTS = ("failing", "dead", "pending")


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    failing: int
    dead: int
    delivered: int


def counts() -> OutboxCounts:
    """How many messages wait (failing ones included), fail, are dead, were delivered (kept)."""
    m = OutboxMessage
    pending = m.status == OutboxStatus.PENDING
    row = db.session.execute(
        select(
            func.count(case((pending, m.id))),
            func.count(case((pending & (m.attempts > 0), m.id))),
            func.count(case((m.status == OutboxStatus.DEAD, m.id))),
            func.count(case((m.status == OutboxStatus.DELIVERED, m.id))),
        )
    ).one()
    db.session.commit()
    return OutboxCounts(*row)


def list_messages(
    which: str = "failing", *, page: int = 1, per_page: int = 50
) -> tuple[list[OutboxMessage], int]:
    """Messages that fail (pending, tried at least once), are dead, or all pending ones, newest
    change first, a page at a time; returns the page and the total count."""
    m = OutboxMessage
    condition = {
        "failing": (m.status == OutboxStatus.PENDING) & (m.attempts > 0),
        "dead": m.status == OutboxStatus.DEAD,
        "pending": m.status == OutboxStatus.PENDING,
    }[which]
    total = db.session.scalar(select(func.count(m.id)).where(condition))
    rows = db.session.scalars(
        select(m)
        .where(condition)
        .order_by(m.last_change_at.desc(), m.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    db.session.commit()
    return list(rows), total


def get_message(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise OutboxMessageNotFound(message_id)
    return message


def retry_message(message_id: int) -> OutboxMessage:
    """Try a dead or failing message again now, with a fresh maximum age and backoff.

    A dead message whose kind and subject already have a newer pending message is folded into
    that one (it delivers the current state, which covers both). Raises OutboxMessageNotFound,
    OutboxMessageNotRetryable (delivered, waiting for its first attempt, or being delivered).
    """
    m = OutboxMessage
    message = db.session.scalar(select(m).where(m.id == message_id).with_for_update())
    if message is None:
        db.session.rollback()
        raise OutboxMessageNotFound(message_id)
    if message.status == OutboxStatus.DELIVERED or (
        message.status == OutboxStatus.PENDING and message.attempts == 0
    ):
        db.session.rollback()
        raise OutboxMessageNotRetryable(message_id, "not_failing")
    if message.claimed_by is not None:
        db.session.rollback()
        raise OutboxMessageNotRetryable(message_id, "being_delivered")
    now = utcnow()
    target = message
    if message.status == OutboxStatus.DEAD and message.coalesce_key is not None:
        newer = db.session.scalar(
            select(m)
            .where(
                m.kind == message.kind,
                m.coalesce_key == message.coalesce_key,
                m.status == OutboxStatus.PENDING,
            )
            .with_for_update()
        )
        if newer is not None:
            newer.changes += message.changes  # a delivery in progress then goes once more
            db.session.delete(message)
            if newer.claimed_by is not None:
                db.session.commit()
                return newer
            target = newer
    target.status = OutboxStatus.PENDING
    target.attempts = 0
    target.due_at = now
    target.retried_at = now
    target.last_error = None
    db.session.commit()
    return target
