"""Program statistics: totals from the cards, days counted in the vendor's time zone."""

from datetime import UTC, date, datetime

from loyalty_portal.services import (
    program_service,
    stamp_service,
    statistics_service,
    transaction_service,
)
from loyalty_portal.services.ledger import Actor

OWNER = Actor()


def test_totals_and_the_day_of_a_late_stamp_in_the_vendors_zone(vendor, stamp_program, card, clock):
    program_service.update_program(vendor.id, require_staff_pin=False, cooldown_minutes=0)
    clock.set(datetime(2026, 11, 24, 23, 30, tzinfo=UTC))  # 00:30 on the 25th in Luxembourg
    stamp_service.add_stamp(vendor.id, card.id, actor=OWNER, stamps=3)
    stamp_service.redeem_reward(vendor.id, card.id, actor=OWNER)
    voided = stamp_service.add_stamp(vendor.id, card.id, actor=OWNER)
    transaction_service.void_transaction(vendor.id, voided.transaction_id, "mistake", actor=OWNER)

    stats = statistics_service.program_statistics(stamp_program.id, days=7)
    assert (stats.total_cards, stats.active_cards_30_days) == (1, 1)
    assert (stats.stamps_issued, stats.stamps_redeemed, stats.rewards_redeemed) == (3, 3, 1)
    assert stats.last_activity_at == clock.now
    by_day = {day.day: day for day in stats.daily}
    assert len(stats.daily) == 7 and stats.daily[-1].day == date(2026, 11, 25)
    assert by_day[date(2026, 11, 25)].stamps_issued == 4  # the voided stamp was still given
    assert by_day[date(2026, 11, 25)].rewards_redeemed == 1
    assert date(2026, 11, 24) in by_day and by_day[date(2026, 11, 24)].stamps_issued == 0
