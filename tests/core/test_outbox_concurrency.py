"""Real concurrency on PostgreSQL: workers in their own threads and connections race over the
queue, and counters fold changes into messages that workers are claiming."""

import collections
import threading

import pytest

from loyalty_portal.extensions import db as flask_db
from loyalty_portal.models import OutboxStatus
from loyalty_portal.services import outbox, program_service, stamp_service
from loyalty_portal.services.ledger import Actor
from loyalty_portal.worker import Worker
from tests.core.outbox_helpers import RECORDING_KIND, messages
from tests.factories import make_card

pytestmark = pytest.mark.postgres_only

MESSAGES = 200


def run_workers(app, count: int, **options) -> list[Worker]:
    """`count` workers, each in its own thread with its own connection, until the queue is empty."""
    workers = [Worker(app, poll_seconds=0.01, **options) for _ in range(count)]
    start = threading.Barrier(count)

    def work(worker):
        start.wait()
        worker.run_until_idle()

    threads = [threading.Thread(target=work, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return workers


def test_two_workers_racing_over_200_messages_deliver_each_exactly_once(app, db):
    delivered = collections.Counter()
    lock = threading.Lock()

    def handle(message):
        with lock:
            delivered[message.id] += 1

    outbox.register_handler(RECORDING_KIND, handle)
    try:
        for n in range(MESSAGES):
            outbox.enqueue(RECORDING_KIND, reason=f"m{n}")
        flask_db.session.commit()
        # One message per claim, an instant handler: the workers spend their time claiming, side
        # by side (without SKIP LOCKED this test sees double deliveries).
        workers = run_workers(app, 2, settings=outbox.DeliverySettings(batch_size=1))
    finally:
        outbox.unregister_handler(RECORDING_KIND)
    ids = [m.id for m in messages()]
    assert len(ids) == MESSAGES
    assert sorted(delivered) == ids and set(delivered.values()) == {1}
    assert {m.status for m in messages()} == {OutboxStatus.DELIVERED}
    assert len({worker.name for worker in workers}) == 2


def test_stamps_racing_with_workers_end_in_one_delivery_of_each_cards_final_state(
    app, db, vendor, stamp_program
):
    """Counters keep folding stamps into announcements while two workers claim and fan them
    out: every card's last delivery reads its final balance, and nothing is left behind."""
    program_service.update_program(
        vendor.id, require_staff_pin=False, cooldown_minutes=0, max_daily_stamps=100,
    )
    program_service.update_program(vendor.id, stamps_target=100)
    cards = [make_card(stamp_program).id for _ in range(4)]
    vendor_id = vendor.id
    flask_db.session.commit()
    last_seen: dict[int, int] = {}
    lock = threading.Lock()

    def handle(message):
        from loyalty_portal.models import LoyaltyCard

        stamps = flask_db.session.get(LoyaltyCard, message.card_id).stamp_count
        flask_db.session.rollback()
        with lock:
            last_seen[message.card_id] = stamps

    outbox.register_handler(RECORDING_KIND, handle, on=[outbox.CARD_CHANGED])
    stop = threading.Event()

    def counter(card_id):
        with app.app_context():
            for _ in range(10):
                stamp_service.add_stamp(vendor_id, card_id, actor=Actor())
            flask_db.session.remove()

    def keep_working():
        while not stop.is_set():
            run_workers(app, 2)

    try:
        working = threading.Thread(target=keep_working)
        working.start()
        counters = [threading.Thread(target=counter, args=(card_id,)) for card_id in cards]
        for thread in counters:
            thread.start()
        for thread in counters:
            thread.join(timeout=120)
        stop.set()
        working.join(timeout=120)
        run_workers(app, 2)  # whatever the last round left due
    finally:
        outbox.unregister_handler(RECORDING_KIND)
    assert last_seen == dict.fromkeys(cards, 10)
    assert {m.status for m in messages()} == {OutboxStatus.DELIVERED}
