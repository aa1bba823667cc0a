"""Change tags: every change to what a pass shows moves the card's tag above any watermark handed
out before it, in commit order, whatever order the transactions started in."""

import threading

import pytest

from loyalty_portal.extensions import db as flask_db
from loyalty_portal.models import LoyaltyCard
from loyalty_portal.services import (
    card_service,
    change_tags,
    customer_service,
    program_service,
    stamp_service,
    transaction_service,
)
from loyalty_portal.services.ledger import Actor
from tests.core.held_writes import staff_pin_row_held, wait_for_a_write_waiting_on_a_lock
from tests.factories import make_card, make_pin

OWNER = Actor(client_ip="10.0.0.1")


def tags(*cards) -> list[int]:
    flask_db.session.expire_all()
    return [flask_db.session.get(LoyaltyCard, card.id).change_tag for card in cards]


def test_a_new_card_starts_at_zero_and_every_change_moves_its_tag_past_the_watermark(
    db, vendor, card, actor
):
    assert tags(card) == [0]
    for change in (
        lambda: stamp_service.add_stamp(vendor.id, card.id, actor=actor),
        lambda: transaction_service.adjust_balance(
            vendor.id, card.id, stamps_delta=1, reason="goodwill", actor=OWNER
        ),
        lambda: card_service.set_card_active(vendor.id, card.id, False),
        lambda: card_service.set_card_active(vendor.id, card.id, True),
        lambda: customer_service.erase_customer(vendor.id, card.customer_id),
    ):
        watermark = change_tags.watermark()
        before = tags(card)[0]
        change()
        after = tags(card)[0]
        assert after > watermark and after > before


def test_a_program_edit_bumps_every_card_of_that_program_and_no_other(
    db, vendor, stamp_program, points_program, clock
):
    cards = [make_card(stamp_program) for _ in range(3)]
    other = make_card(points_program)
    watermark = change_tags.watermark()
    before = tags(*cards, other)
    program_service.update_program(vendor.id, card_background_color="#222222")
    after = tags(*cards, other)
    assert all(tag > watermark for tag in after[:3])
    assert after[3] == before[3]
    assert change_tags.cards_changed_since([c.id for c in (*cards, other)], watermark) == (
        change_tags.ChangedCards([c.id for c in cards], change_tags.watermark())
    )


def test_an_edit_passes_do_not_show_keeps_the_tags(db, vendor, stamp_program):
    cards = [make_card(stamp_program) for _ in range(2)]
    before = tags(*cards)
    program_service.update_program(vendor.id, cooldown_minutes=1, require_staff_pin=False)
    assert tags(*cards) == before


def test_cards_changed_since_answers_a_device_and_never_goes_backwards(db, vendor, card, actor):
    quiet = make_card(card.program)
    first = change_tags.cards_changed_since([card.id, quiet.id], None)
    assert first.card_ids == [card.id, quiet.id]  # a device that never asked gets them all
    stamp_service.add_stamp(vendor.id, card.id, actor=actor)
    second = change_tags.cards_changed_since([card.id, quiet.id], first.tag)
    assert second.card_ids == [card.id] and second.tag >= first.tag
    third = change_tags.cards_changed_since([card.id, quiet.id], second.tag)
    assert third.card_ids == [] and third.tag >= second.tag
    assert change_tags.cards_changed_since([], 10**12).tag == 10**12


@pytest.mark.postgres_only
def test_a_change_committed_after_a_later_started_one_is_still_reported(app, db, stamp_program):
    """T1 changes card A first and commits last; T2 changes card B later and commits first. A
    device that reads between the two commits must still hear about A afterwards. With a plain
    sequence (or the app clock) A's tag would be below the one the device was given. T1 is held
    inside its write (held_writes): it has locked card A, so it has its transaction id."""
    program_service.update_program(
        stamp_program.vendor_id, require_staff_pin=False, cooldown_minutes=0
    )
    card_a, card_b = make_card(stamp_program), make_card(stamp_program)
    staff = make_pin(stamp_program.vendor, "Ana", "4827")
    vendor_id, a_id, b_id = stamp_program.vendor_id, card_a.id, card_b.id
    t1_actor = Actor(staff_pin_id=staff.id)  # recorded, not asked for: its row holds T1
    db.session.commit()
    errors = []

    def slow_transaction():
        with app.app_context():
            try:
                stamp_service.add_stamp(vendor_id, a_id, actor=t1_actor)
            except Exception as error:  # reported below
                errors.append(error)
            finally:
                flask_db.session.remove()

    with staff_pin_row_held(flask_db.engine, staff.id):
        t1 = threading.Thread(target=slow_transaction)
        t1.start()
        wait_for_a_write_waiting_on_a_lock(flask_db.engine)  # T1 has locked card A, not committed
        stamp_service.add_stamp(vendor_id, b_id, actor=OWNER)  # T2 starts later, commits first

        device = change_tags.cards_changed_since([a_id, b_id], 0)
        assert device.card_ids == [b_id]  # A is not committed yet
    t1.join(30)
    assert not errors

    assert tags(card_a)[0] < tags(card_b)[0]  # tags in start order, commits in the other
    assert tags(card_a)[0] > device.tag  # yet A is above what the device was told
    assert change_tags.cards_changed_since([a_id, b_id], device.tag).card_ids[0] == a_id
