"""The statistics' daily summary (program_daily_activity) is kept by the ledger write itself:
after any mix of balance changes it equals a recomputation from the ledger, and a change that
fails leaves it as it was."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from loyalty_portal.extensions import db as _db
from loyalty_portal.models import ProgramDailyActivity, TransactionType
from loyalty_portal.services import (
    ledger,
    ledger_audit,
    points_service,
    program_service,
    stamp_service,
    statistics_service,
    transaction_service,
)
from loyalty_portal.services.ledger import Actor, Change
from tests.factories import make_card, make_program, make_vendor

OWNER = Actor()


def summary_rows() -> list[tuple]:
    return [
        tuple(row)
        for row in _db.session.execute(
            select(ProgramDailyActivity).order_by(
                ProgramDailyActivity.program_id,
                ProgramDailyActivity.local_day,
                ProgramDailyActivity.utc_day,
                ProgramDailyActivity.slot,
            )
        ).scalars().all()
        for row in [(row.program_id, row.local_day, row.utc_day, row.slot,
                     row.total_stamps_earned, row.total_stamps_redeemed,
                     row.total_points_earned, row.total_points_redeemed,
                     row.total_rewards_redeemed)]
    ]


def test_a_mixed_day_across_midnight_and_zones_equals_the_ledger(db, clock, actor, staff, card):
    """Stamps, a redemption, a void, a cashier's undo and an adjustment at a Luxembourg shop,
    points earned and redeemed at a New York shop, around midnight in both zones and in UTC."""
    stamps_vendor = card.program.vendor_id
    program_service.update_program(stamps_vendor, cooldown_minutes=0, counter_undo_minutes=5)
    points_program = make_program(make_vendor(timezone="America/New_York"), "points",
                                  points_per_currency_unit=2, require_staff_pin=False)
    points_card = make_card(points_program)
    second_card = make_card(card.program)
    points_vendor = points_program.vendor_id

    clock.set(datetime(2026, 11, 24, 22, 50, tzinfo=UTC))  # 23:50 in Luxembourg, 17:50 in NY
    stamp_service.add_stamp(stamps_vendor, card.id, actor=actor, stamps=2)
    stamp_service.add_stamp(stamps_vendor, second_card.id, actor=actor)
    points_service.earn_points(points_vendor, points_card.id, 3000, actor=OWNER)  # 60 points
    clock.set(datetime(2026, 11, 24, 23, 20, tzinfo=UTC))  # the 25th in Luxembourg, not in UTC
    stamp_service.add_stamp(stamps_vendor, card.id, actor=actor)
    stamp_service.redeem_reward(stamps_vendor, card.id, actor=actor)
    voided = stamp_service.add_stamp(stamps_vendor, second_card.id, actor=actor)
    transaction_service.void_transaction(stamps_vendor, voided.transaction_id, "mistake",
                                         actor=OWNER)
    clock.set(datetime(2026, 11, 25, 4, 30, tzinfo=UTC))  # 23:30 on the 24th in New York
    points_service.redeem_reward(points_vendor, points_card.id, "coffee", actor=OWNER)
    points_service.earn_points(points_vendor, points_card.id, 500, actor=OWNER)
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    undone = stamp_service.add_stamp(stamps_vendor, card.id, actor=actor)
    transaction_service.undo_at_counter(stamps_vendor, undone.transaction_id, actor=actor,
                                        reason="Wrong card")
    transaction_service.adjust_balance(stamps_vendor, second_card.id, stamps_delta=2,
                                       reason="Lost paper card", actor=OWNER)

    assert ledger_audit.verify_daily_activity() == []
    assert ledger_audit.verify_ledger() == []
    stats = statistics_service.program_statistics(card.program_id, days=2)
    by_day = {day.day: day for day in stats.daily}
    # The 24th in Luxembourg: 3 stamps before midnight. The 25th: 1 + the voided one + the
    # undone one (the series shows what happened at the counter), one reward of 3 stamps.
    assert (by_day[date(2026, 11, 24)].stamps_issued, by_day[date(2026, 11, 24)].stamps_redeemed) \
        == (3, 0)
    assert (by_day[date(2026, 11, 25)].stamps_issued, by_day[date(2026, 11, 25)].stamps_redeemed,
            by_day[date(2026, 11, 25)].rewards_redeemed) == (3, 3, 1)
    points = statistics_service.program_statistics(points_program.id, days=2)
    assert [(d.day, d.points_issued, d.points_redeemed) for d in points.daily] == [
        (date(2026, 11, 24), 70, 10),  # every points row fell on the 24th in New York
        (date(2026, 11, 25), 0, 0),
    ]
    platform = {d.day: d for d in statistics_service.platform_statistics(days=2).daily}
    # UTC days: the 24th has everything up to 23:20 UTC, the 25th the rest.
    assert (platform[date(2026, 11, 24)].stamps_issued, platform[date(2026, 11, 24)].points_issued,
            platform[date(2026, 11, 24)].rewards_redeemed) == (5, 60, 1)
    assert (platform[date(2026, 11, 25)].stamps_issued, platform[date(2026, 11, 25)].points_issued,
            platform[date(2026, 11, 25)].rewards_redeemed) == (1, 10, 1)


def test_verify_daily_activity_finds_a_summary_that_lies(db, clock, card):
    program_service.update_program(card.program.vendor_id, require_staff_pin=False)
    stamp_service.add_stamp(card.program.vendor_id, card.id, actor=OWNER, stamps=2)
    assert ledger_audit.verify_daily_activity() == []
    row = _db.session.scalars(select(ProgramDailyActivity)).one()
    row.total_stamps_earned = 5
    _db.session.commit()
    problems = ledger_audit.verify_daily_activity()
    assert [(p.program_id, p.local_day, p.column, p.recorded, p.expected) for p in problems] == [
        (card.program_id, date(2026, 11, 24), "total_stamps_earned", 5, 2)
    ]


def test_a_change_that_fails_in_its_write_leaves_the_summary_as_it_was(db, clock, card):
    """The day's count is written before the card's update, which the database refuses here
    (totals below zero): the whole transaction, summary included, is rolled back."""
    program_service.update_program(card.program.vendor_id, require_staff_pin=False)
    stamp_service.add_stamp(card.program.vendor_id, card.id, actor=OWNER)
    before = summary_rows()
    assert before and before[0][4] == 1

    def impossible(rules, locked, now):
        return Change(transaction_type=TransactionType.STAMP_EARNED, stamps_delta=1,
                      totals={"total_stamps_earned": -5}, is_stamp=True)

    with pytest.raises(Exception, match="(?i)check|constraint"):
        ledger.apply_change(card.program.vendor_id, card.id, TransactionType.STAMP_EARNED,
                            impossible, actor=OWNER)
    assert summary_rows() == before
    assert _db.session.scalar(select(func.count()).select_from(ProgramDailyActivity)) == 1
    assert ledger_audit.verify_daily_activity() == []


def test_finished_days_fold_into_one_row_and_keep_their_sums(db, clock, card):
    """Today's changes spread over slots (one per card modulo ACTIVITY_SLOTS); two days later
    the worker's compaction folds them into slot 0, and nothing the statistics read changes."""
    program_service.update_program(card.program.vendor_id, require_staff_pin=False)
    cards = [card, *(make_card(card.program) for _ in range(3))]
    for each in cards:
        stamp_service.add_stamp(card.program.vendor_id, each.id, actor=OWNER)
    clock.advance(days=1)
    stamp_service.add_stamp(card.program.vendor_id, card.id, actor=OWNER)
    first_day = [row for row in summary_rows() if row[1] == date(2026, 11, 24)]
    assert sorted(row[3] for row in first_day) == sorted(each.id % 16 for each in cards)
    before = statistics_service.program_statistics(card.program_id, days=3)

    assert statistics_service.compact_daily_activity() == 0  # yesterday may still get commits
    clock.advance(days=1)
    folded = len([row for row in first_day if row[3] != 0])
    assert folded >= 3  # four cards in a row: at most one of them in slot 0 already
    assert statistics_service.compact_daily_activity() == folded
    rows = summary_rows()
    assert [(r[1], r[3], r[4]) for r in rows] == [
        (date(2026, 11, 24), 0, 4),
        (date(2026, 11, 25), card.id % 16, 1),
    ]
    after = statistics_service.program_statistics(card.program_id, days=3)
    assert after.daily[:2] == before.daily[1:]  # the 24th and 25th, read before and after
    assert ledger_audit.verify_daily_activity() == []


@pytest.mark.postgres_only
def test_a_second_worker_does_not_fold_the_same_days_twice(db, clock, card):
    """While one worker holds the compaction lock, another's compaction does nothing (two at
    once would both add the same slot rows to slot 0)."""
    import psycopg

    program_service.update_program(card.program.vendor_id, require_staff_pin=False)
    for each in [card, make_card(card.program)]:
        stamp_service.add_stamp(card.program.vendor_id, each.id, actor=OWNER)
    clock.advance(days=2)
    before = summary_rows()
    url = _db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s)", (statistics_service.COMPACTION_LOCK,))
        assert statistics_service.compact_daily_activity() == 0
        assert summary_rows() == before
    assert statistics_service.compact_daily_activity() == len([r for r in before if r[3] != 0])
    assert [(r[3], r[4]) for r in summary_rows()] == [(0, 2)]
    assert ledger_audit.verify_daily_activity() == []
