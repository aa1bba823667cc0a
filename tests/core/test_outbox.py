"""The transactional outbox: every change is announced in its own transaction, folded while it
waits, delivered once per handler after commit, retried with backoff, dead after the maximum age."""

import os
import subprocess
import sys
import threading
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from loyalty_portal.errors import OutboxMessageNotFound, OutboxMessageNotRetryable
from loyalty_portal.models import (
    LoyaltyCard,
    LoyaltyTransaction,
    OutboxMessage,
    OutboxStatus,
    TransactionType,
)
from loyalty_portal.services import (
    card_service,
    customer_service,
    outbox,
    points_service,
    program_service,
    stamp_service,
    transaction_service,
)
from loyalty_portal.services.ledger import Actor, Change, apply_change
from loyalty_portal.worker import Worker
from tests.core.held_writes import staff_pin_row_held, wait_for_a_write_waiting_on_a_lock
from tests.core.outbox_helpers import (
    RECORDING_KIND,
    FixedRandom,
    Recorder,
    announced,
    drain,
    messages,
)
from tests.factories import make_card, make_pin

OWNER = Actor(client_ip="10.0.0.1", user_agent="owner browser")
# Processes of their own start like production, which refuses the development secrets.
TEST_SECRETS = {"SECRET_KEY": "outbox-test-" + "s" * 40, "PIN_PEPPER": "outbox-test-" + "p" * 40}


@pytest.fixture
def recorder():
    handler = Recorder()
    outbox.register_handler(RECORDING_KIND, handler, on=outbox.ANNOUNCEMENTS)
    yield handler
    outbox.unregister_handler(RECORDING_KIND)


@pytest.fixture
def quick_card(vendor, stamp_program, clock):
    """A card of a program without PIN, cooldown or daily limit, and a stamp target of 50."""
    program_service.update_program(
        vendor.id, require_staff_pin=False, cooldown_minutes=0, max_daily_stamps=100
    )
    program_service.update_program(vendor.id, stamps_target=50)
    card = make_card(stamp_program)
    drain_without_handlers()
    return card


def drain_without_handlers():
    """Mark what the set-up announced as delivered (no handler subscribed yet)."""
    from flask import current_app

    drain(current_app._get_current_object())


def settings(**overrides) -> outbox.DeliverySettings:
    return outbox.DeliverySettings(**overrides)


# Every change is announced, in its own transaction --------------------------------------------


def test_a_stamp_announces_its_card_in_the_same_transaction(db, vendor, card, actor):
    change = stamp_service.add_stamp(vendor.id, card.id, actor=actor)
    assert announced() == [
        (outbox.CARD_CHANGED, "stamp_earned", card.id, card.program_id, None)
    ]
    message = messages()[0]
    assert message.coalesce_key == f"card:{card.id}" and message.changes == 1
    assert message.last_change_at == change.created_at


def test_every_balance_change_and_correction_is_announced(db, points_program, clock):
    vendor_id = points_program.vendor_id
    program_service.update_program(vendor_id, require_staff_pin=False)
    card = make_card(points_program)
    seen = []
    for operation in (
        lambda: points_service.earn_points(vendor_id, card.id, 2000, actor=OWNER),
        lambda: points_service.redeem_reward(vendor_id, card.id, "coffee", actor=OWNER),
        lambda: transaction_service.adjust_balance(
            vendor_id, card.id, points_delta=3, reason="goodwill", actor=OWNER
        ),
    ):
        operation()
        seen += [reason for _, reason, *_ in announced()]
        drain_without_handlers()
    earned = db.session.scalar(
        select(LoyaltyTransaction.id).where(
            LoyaltyTransaction.transaction_type == TransactionType.POINTS_EARNED
        )
    )
    transaction_service.void_transaction(vendor_id, earned + 1, "wrong reward", actor=OWNER)
    seen += [reason for _, reason, *_ in announced()]
    assert seen == ["points_earned", "points_reward_redeemed", "adjustment", "void"]


def test_blocking_and_unblocking_a_card_is_announced(db, vendor, card):
    card_service.set_card_active(vendor.id, card.id, False)
    assert announced() == [(outbox.CARD_CHANGED, "card_blocked", card.id, card.program_id, None)]
    drain_without_handlers()
    card_service.set_card_active(vendor.id, card.id, False)  # already blocked: nothing new
    assert announced() == []
    card_service.set_card_active(vendor.id, card.id, True)
    assert announced() == [
        (outbox.CARD_CHANGED, "card_unblocked", card.id, card.program_id, None)
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"card_background_color": "#000000"},
        {"name": "New name"},
        {"stamps_reward_description": "A free cake"},
        {"logo_url": "https://example.com/logo.png"},
    ],
)
def test_an_edit_of_what_passes_show_announces_the_program(db, vendor, stamp_program, changes):
    program_service.update_program(vendor.id, **changes)
    assert announced() == [
        (outbox.PROGRAM_CHANGED, "program_edited", None, stamp_program.id, None)
    ]


def test_a_rewards_catalogue_edit_announces_the_program(db, points_program):
    program_service.update_program(
        points_program.vendor_id,
        points_rewards=[{"id": "tea", "name": "Tea", "points_cost": 5, "active": True}],
    )
    assert announced() == [
        (outbox.PROGRAM_CHANGED, "program_edited", None, points_program.id, None)
    ]


def test_settings_no_pass_shows_and_unchanged_values_announce_nothing(db, vendor, stamp_program):
    program_service.update_program(vendor.id, cooldown_minutes=5, max_daily_stamps=3)
    program_service.update_program(vendor.id, name=stamp_program.name)
    assert announced() == []


def test_erasing_a_customer_announces_the_erasure_and_their_card(db, vendor, card):
    customer_service.erase_customer(vendor.id, card.customer_id)
    assert sorted(announced()) == [
        (outbox.CARD_CHANGED, "customer_erased", card.id, card.program_id, None),
        (outbox.CUSTOMER_ERASED, "customer_erased", None, None, card.customer_id),
    ]
    drain_without_handlers()
    customer_service.erase_customer(vendor.id, card.customer_id)  # again: nothing new
    assert announced() == []


# A change and its message commit or roll back together -----------------------------------------


def test_a_failure_after_the_ledger_insert_leaves_neither_row(db, vendor, card):
    """The card's totals may never go below zero: the database refuses the card update that
    follows the ledger insert (in the same statement on PostgreSQL, the next one on SQLite)."""

    def impossible(rules, locked, now):
        return Change(TransactionType.ADJUSTMENT, totals={"total_stamps_earned": -1}, reason="x")

    tag_before = card.change_tag
    # SQLAlchemy's IntegrityError on SQLite; psycopg's own where the hot path runs on psycopg.
    with pytest.raises((IntegrityError, psycopg.errors.IntegrityError)):
        apply_change(
            vendor.id,
            card.id,
            TransactionType.ADJUSTMENT,
            impossible,
            actor=OWNER,
            requires_staff_pin=False,
        )
    assert db.session.query(LoyaltyTransaction).count() == 0
    assert messages() == []
    db.session.expire_all()
    assert db.session.get(LoyaltyCard, card.id).change_tag == tag_before


def test_a_failure_at_commit_leaves_neither_row(db, vendor, quick_card):
    """The process dies after the change's write, before its COMMIT. On SQLite the session
    commits the write (a commit hook crashes it); on PostgreSQL the COMMIT travels with the
    write, so the change is held inside its write (held_writes) and its connection killed."""
    if db.engine.dialect.name == "sqlite":

        def crash(session):
            raise RuntimeError("the process dies before COMMIT")

        event.listen(db.session(), "before_commit", crash)
        try:
            with pytest.raises(RuntimeError):
                stamp_service.add_stamp(vendor.id, quick_card.id, actor=OWNER)
        finally:
            event.remove(db.session(), "before_commit", crash)
    else:
        staff = make_pin(vendor, "Ana", "4827")
        vendor_id, card_id, engine = vendor.id, quick_card.id, db.engine
        db.session.commit()
        recorded = Actor(staff_pin_id=staff.id)  # recorded, not asked for: its row holds it
        with staff_pin_row_held(engine, staff.id) as holder:

            def kill_the_waiting_write():
                try:
                    pid = wait_for_a_write_waiting_on_a_lock(engine)
                    holder.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                except BaseException:
                    holder.rollback()  # let the stamp go on: the assertion below fails then
                    raise

            killer = threading.Thread(target=kill_the_waiting_write)
            killer.start()
            # psycopg's, or SQLAlchemy's from the rollback on the same lost connection
            with pytest.raises((psycopg.OperationalError, OperationalError)):
                stamp_service.add_stamp(vendor_id, card_id, actor=recorded)
            killer.join(30)
    assert db.session.query(LoyaltyTransaction).count() == 0
    assert messages(kind=outbox.CARD_CHANGED) == []


def test_rolling_back_a_card_block_rolls_back_its_message(db, vendor, card):
    card_service.get_card(vendor.id, card.id).is_active = False
    outbox.announce_card_change(card.id, card.program_id, "card_blocked")
    db.session.rollback()
    assert messages() == []


# Coalescing ---------------------------------------------------------------------------------------


def test_five_stamps_are_one_delivery_of_the_final_state(app, db, vendor, quick_card, recorder):
    for _ in range(5):
        stamp_service.add_stamp(vendor.id, quick_card.id, actor=OWNER)
    (announcement,) = messages(status="pending")
    assert announcement.changes == 5
    drain(app)
    assert [(d.message.card_id, d.stamp_count) for d in recorder.deliveries] == [
        (quick_card.id, 5)
    ]
    assert {m.status for m in messages()} == {OutboxStatus.DELIVERED}


def test_a_change_folded_in_during_a_delivery_is_delivered_again(app, db, clock, recorder):
    outbox.enqueue(RECORDING_KIND, reason="first", card_id=1, coalesce_key="card:1")
    db.session.commit()
    config = settings()
    with app.app_context():
        (claimed,) = outbox.claim("worker", config)
    # While the worker delivers, the counter commits another change of the same card.
    outbox.enqueue(RECORDING_KIND, reason="second", card_id=1, coalesce_key="card:1")
    db.session.commit()
    (message,) = messages()
    assert (message.id, message.changes, message.claimed_by) == (claimed.id, 2, "worker")
    with app.app_context():
        outcome = outbox.deliver(claimed, "worker", config, FixedRandom(1.0))
    assert outcome.status == OutboxStatus.PENDING  # what it delivered is already stale
    (message,) = messages()
    assert (message.status, message.claimed_by, message.due_at) == ("pending", None, clock.now)
    assert [o.status for o in drain(app)] == [OutboxStatus.DELIVERED]
    assert [m.reason for m in recorder.messages] == ["first", "second"]


def test_one_delivery_per_subscribed_kind_and_none_for_others(app, db, vendor, card, actor):
    apple, google, mail = Recorder(), Recorder(), Recorder()
    outbox.register_handler("test.apple", apple, on=[outbox.CARD_CHANGED])
    outbox.register_handler("test.google", google, on=[outbox.CARD_CHANGED])
    outbox.register_handler("test.mail", mail, on=[outbox.CUSTOMER_ERASED])
    try:
        stamp_service.add_stamp(vendor.id, card.id, actor=actor)
        drain(app)
    finally:
        for kind in ("test.apple", "test.google", "test.mail"):
            outbox.unregister_handler(kind)
    assert [m.kind for m in apple.messages] == ["test.apple"]
    assert [m.kind for m in google.messages] == ["test.google"]
    assert mail.messages == []
    assert apple.messages[0].reason == "stamp_earned" and apple.messages[0].card_id == card.id


def test_a_directly_enqueued_message_goes_to_its_handler_with_its_payload(app, db, recorder):
    outbox.enqueue(RECORDING_KIND, reason="welcome", customer_id=7, payload={"locale": "fr"})
    drain(app)
    (message,) = recorder.messages
    assert (message.reason, message.customer_id) == ("welcome", 7)
    assert message.payload == {"locale": "fr"}


def test_registering_a_second_handler_for_a_kind_is_refused(recorder):
    with pytest.raises(ValueError, match="already has a handler"):
        outbox.register_handler(RECORDING_KIND, lambda message: None)
    with pytest.raises(ValueError, match="unknown announcements"):
        outbox.register_handler("test.other", lambda message: None, on=["card.typo"])
    with pytest.raises(ValueError):
        outbox.register_handler(outbox.CARD_CHANGED, lambda message: None)


# Crashes ------------------------------------------------------------------------------------------

DIE_AFTER_COMMIT = """
import os, sys
from datetime import datetime
from loyalty_portal import clock, create_app
from loyalty_portal.services import stamp_service
from loyalty_portal.services.ledger import Actor

app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1]})
clock.freeze(datetime.fromisoformat(sys.argv[4]))  # the test's frozen time
with app.app_context():
    stamp_service.add_stamp(int(sys.argv[2]), int(sys.argv[3]), actor=Actor())
    os._exit(9)  # committed; no worker ran, no clean shutdown
"""


def test_a_process_that_dies_after_commit_still_gets_its_delivery(
    app, db, db_url, vendor, quick_card, recorder, clock
):
    vendor_id, card_id = vendor.id, quick_card.id
    db.session.commit()
    died = subprocess.run(
        [
            sys.executable,
            "-c",
            DIE_AFTER_COMMIT,
            db_url,
            str(vendor_id),
            str(card_id),
            clock.now.isoformat(),
        ],
        env=dict(os.environ, PYTHONPATH=os.getcwd(), **TEST_SECRETS),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert died.returncode == 9, died.stderr
    drain(app)  # the next worker to come along
    assert [(d.message.card_id, d.stamp_count) for d in recorder.deliveries] == [(card_id, 1)]


def test_a_worker_that_dies_mid_delivery_leaves_the_message_to_the_next(
    app, db, clock, recorder
):
    outbox.enqueue(RECORDING_KIND, reason="test", card_id=None, coalesce_key="x")
    db.session.commit()
    lease = timedelta(minutes=5)
    with app.app_context():
        (claimed,) = outbox.claim("worker-that-dies", settings(lease=lease))
    assert drain(app) == []  # leased: nobody else takes it
    clock.advance(minutes=5)
    assert [o.status for o in drain(app)] == [OutboxStatus.DELIVERED]
    assert recorder.messages[0].id == claimed.id
    with app.app_context():  # the first worker wakes up: its outcome no longer counts
        assert outbox._record_success(claimed, "worker-that-dies") is None


# Retries, backoff, dead ---------------------------------------------------------------------------


def test_backoff_doubles_from_the_base_up_to_the_cap_with_jitter(app, db, clock, recorder):
    recorder.fail_with = ConnectionError("APNs unreachable")
    outbox.enqueue(RECORDING_KIND, reason="test")
    config = settings(
        backoff_base=timedelta(seconds=2), backoff_max=timedelta(seconds=20), max_age=timedelta(1)
    )
    waits = []
    for point in (1.0, 0.0, 1.0, 1.0, 1.0, 0.0):
        failed_at = clock.now
        (outcome,) = drain(app, settings=config, rng=FixedRandom(point))
        assert outcome.status == OutboxStatus.PENDING
        assert outcome.error == "ConnectionError: APNs unreachable"
        (message,) = messages()
        waits.append((message.due_at - failed_at).total_seconds())
        assert drain(app, settings=config) == []  # not due before its time
        clock.set(message.due_at)
    # 2, 4, 8, 16 s, then the 20 s cap; the jitter takes each down to as little as half.
    assert waits == [2, 2, 8, 16, 20, 10]
    assert messages()[0].attempts == 6


def test_a_message_still_failing_after_the_maximum_age_is_dead(app, db, clock, recorder):
    recorder.fail_with = RuntimeError("Google says 503")
    outbox.enqueue(RECORDING_KIND, reason="test", card_id=None)
    config = settings(backoff_base=timedelta(minutes=10), max_age=timedelta(hours=1))
    statuses = []
    while not statuses or statuses[-1] == OutboxStatus.PENDING:
        (outcome,) = drain(app, settings=config)
        statuses.append(outcome.status)
        clock.set(messages()[0].due_at)
    (message,) = messages()
    assert message.status == OutboxStatus.DEAD
    assert message.last_error == "RuntimeError: Google says 503"
    assert message.created_at + timedelta(hours=1) <= message.due_at
    assert statuses[-1] == OutboxStatus.DEAD and len(statuses) > 2
    clock.advance(days=2)
    assert drain(app, settings=config) == []  # dead messages are never taken again

    recorder.fail_with = None  # Google is back; the admin retries it
    retried = outbox.retry_message(message.id)
    assert (retried.status, retried.attempts, retried.retried_at) == ("pending", 0, clock.now)
    assert [o.status for o in drain(app, settings=config)] == [OutboxStatus.DELIVERED]


def test_a_message_without_a_handler_fails_and_says_why(app, db):
    outbox.enqueue("test.nobody", reason="test")
    (outcome,) = drain(app)
    assert outcome.status == OutboxStatus.PENDING
    assert "no handler is registered for 'test.nobody'" in outcome.error


def test_retrying_a_dead_message_whose_subject_has_a_newer_one_folds_them(
    app, db, clock, recorder
):
    recorder.fail_with = RuntimeError("down")
    outbox.enqueue(RECORDING_KIND, reason="first", coalesce_key="card:1")
    drain(app, settings=settings(max_age=timedelta(0)))
    (dead,) = messages(status="dead")
    outbox.enqueue(RECORDING_KIND, reason="second", coalesce_key="card:1")
    db.session.commit()
    retried = outbox.retry_message(dead.id)
    assert retried.id != dead.id and retried.reason == "second" and retried.changes == 2
    assert [m.id for m in messages()] == [retried.id]


def test_only_dead_or_failing_messages_can_be_retried(app, db, recorder):
    outbox.enqueue(RECORDING_KIND, reason="test")
    db.session.commit()
    (waiting,) = messages()
    with pytest.raises(OutboxMessageNotRetryable) as refused:
        outbox.retry_message(waiting.id)
    assert refused.value.details == {"message_id": waiting.id, "reason": "not_failing"}
    drain(app)
    with pytest.raises(OutboxMessageNotRetryable):
        outbox.retry_message(waiting.id)
    with pytest.raises(OutboxMessageNotFound):
        outbox.retry_message(waiting.id + 1000)


def test_delivered_messages_are_pruned_after_they_were_kept_long_enough(app, db, clock, recorder):
    outbox.enqueue(RECORDING_KIND, reason="old")
    drain(app)
    clock.advance(hours=25)
    outbox.enqueue(RECORDING_KIND, reason="new")
    drain(app)
    assert outbox.prune_delivered(settings(keep_delivered=timedelta(hours=24))) == 1
    assert [m.reason for m in messages()] == ["new"]


def test_counts_and_lists_for_the_admin(app, db, clock, recorder):
    recorder.fail_with = RuntimeError("down")
    for reason in ("a", "b", "c"):
        outbox.enqueue(RECORDING_KIND, reason=reason)
    outbox.enqueue("test.nobody", reason="d")
    drain(app, settings=settings(max_age=timedelta(hours=1)))
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.reason == "a").values(status="dead")
    )
    assert outbox.counts() == outbox.OutboxCounts(pending=3, failing=3, dead=1, delivered=0)
    failing, total = outbox.list_messages("failing", per_page=2)
    assert total == 3 and len(failing) == 2
    assert [m.reason for m in outbox.list_messages("dead")[0]] == ["a"]


# Stopping -----------------------------------------------------------------------------------------


def test_sigterm_stops_the_worker_after_the_message_in_hand(app, db, recorder):
    """A real SIGTERM to this process while a handler runs: that delivery completes, the
    messages claimed with it go back to the queue, run() returns."""
    import signal

    for n in range(3):
        outbox.enqueue(RECORDING_KIND, reason=f"m{n}")
    db.session.commit()

    def deliver_then_get_terminated(message):
        os.kill(os.getpid(), signal.SIGTERM)
        recorder(message)

    outbox.unregister_handler(RECORDING_KIND)
    outbox.register_handler(RECORDING_KIND, deliver_then_get_terminated)
    before = signal.getsignal(signal.SIGTERM)
    worker = Worker(app, poll_seconds=0.01, settings=settings(batch_size=3))
    worker.run()
    assert signal.getsignal(signal.SIGTERM) is before
    assert [m.reason for m in recorder.messages] == ["m0"]
    statuses = [(m.reason, m.status, m.claimed_by) for m in messages()]
    assert statuses == [
        ("m0", "delivered", None),
        ("m1", "pending", None),
        ("m2", "pending", None),
    ]
    outbox.unregister_handler(RECORDING_KIND)
    outbox.register_handler(RECORDING_KIND, recorder)
    drain(app)
    assert [m.reason for m in recorder.messages] == ["m0", "m1", "m2"]


def test_flask_loyalty_worker_delivers_and_stops_cleanly_on_sigterm(app, db, db_url):
    """The real command in its own process: it fans out an announcement (nobody subscribed:
    delivered at once), then a SIGTERM ends it with exit status 0."""
    import signal
    import time

    outbox.announce_program_change(1, "program_edited")
    db.session.commit()
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "loyalty", "worker"],
        env=dict(os.environ, DATABASE_URL=db_url, OUTBOX_POLL_SECONDS="0.05", **TEST_SECRETS),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and messages()[0].status != OutboxStatus.DELIVERED:
            time.sleep(0.1)
        assert messages()[0].status == OutboxStatus.DELIVERED
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        worker.kill()
    assert worker.returncode == 0, output
    assert "stopped" in output
