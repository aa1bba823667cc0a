"""One place for each rule: the vendor's day (across daylight-saving changes, on both databases),
lifetime totals per transaction type, the active-reward lookup, one HTTPException handler."""

import ast
from datetime import UTC, date, datetime
from pathlib import Path

from werkzeug.exceptions import HTTPException

from loyalty_portal.models import TransactionType
from loyalty_portal.models.program import find_active_reward
from loyalty_portal.services import (
    export_service,
    program_service,
    stamp_service,
    statistics_service,
)
from loyalty_portal.services.ledger import Actor
from loyalty_portal.services.lifetime_totals import MOVES, totals_moved
from loyalty_portal.services.local_days import day_bounds, local_day_bounds

PACKAGE = Path(__file__).resolve().parents[2] / "loyalty_portal"
OWNER = Actor()


def test_a_dst_day_is_23_hours_and_its_neighbours_24():
    start, end = day_bounds(date(2026, 3, 29), "Europe/Luxembourg")  # clocks go forward
    assert (start, end) == (
        datetime(2026, 3, 28, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 22, 0, tzinfo=UTC),
    )
    autumn = day_bounds(date(2026, 10, 25), "Europe/Luxembourg")  # clocks go back: 25 hours
    assert (autumn[1] - autumn[0]).total_seconds() == 25 * 3600
    assert local_day_bounds(datetime(2026, 3, 29, 12, 0, tzinfo=UTC), "Europe/Luxembourg") == (
        start,
        end,
    )


def test_statistics_count_a_late_stamp_on_its_own_day_across_a_dst_change(
    vendor, stamp_program, card, clock
):
    """23:30 on Saturday 28 March (UTC+1) is 22:30 UTC. Counted after the change (UTC+2), a
    fixed offset would move it into Sunday: the day must come from the zone's rules."""
    program_service.update_program(vendor.id, require_staff_pin=False, cooldown_minutes=0)
    clock.set(datetime(2026, 3, 28, 22, 30, tzinfo=UTC))
    stamp_service.add_stamp(vendor.id, card.id, actor=OWNER)
    clock.set(datetime(2026, 3, 29, 21, 30, tzinfo=UTC))  # 23:30 on Sunday, UTC+2
    stamp_service.add_stamp(vendor.id, card.id, actor=OWNER, stamps=2)
    clock.set(datetime(2026, 3, 30, 9, 0, tzinfo=UTC))

    stats = statistics_service.program_statistics(stamp_program.id, days=5)
    by_day = {day.day: day.stamps_issued for day in stats.daily}
    assert by_day[date(2026, 3, 28)] == 1
    assert by_day[date(2026, 3, 29)] == 2
    assert by_day[date(2026, 3, 30)] == 0
    # The export counts the same days.
    saturday = export_service.transactions_csv(vendor.id, date(2026, 3, 28), date(2026, 3, 28))
    assert len(saturday.splitlines()) == 2  # header and the one stamp


def test_the_daily_stamp_limit_resets_at_local_midnight_on_a_dst_day(
    vendor, stamp_program, card, clock
):
    program_service.update_program(
        vendor.id, require_staff_pin=False, cooldown_minutes=0, max_daily_stamps=1
    )
    clock.set(datetime(2026, 3, 29, 21, 59, tzinfo=UTC))  # 23:59 on Sunday (UTC+2)
    stamp_service.add_stamp(vendor.id, card.id, actor=OWNER)
    clock.set(datetime(2026, 3, 29, 22, 0, tzinfo=UTC))  # midnight: Monday
    assert stamp_service.add_stamp(vendor.id, card.id, actor=OWNER).stamp_count == 2


def test_every_transaction_type_has_its_lifetime_totals_rule():
    assert set(MOVES) == set(TransactionType)
    assert totals_moved(TransactionType.STAMP_REWARD_REDEEMED, stamps_delta=-10) == {
        "total_stamps_redeemed": 10,
        "total_rewards_redeemed": 1,
    }
    assert totals_moved(TransactionType.POINTS_EARNED, points_delta=7) == {
        "total_points_earned": 7
    }


def test_lifetime_totals_agree_between_cards_statistics_and_the_ledger(
    vendor, stamp_program, card, clock
):
    program_service.update_program(vendor.id, require_staff_pin=False, cooldown_minutes=0)
    stamp_service.add_stamp(vendor.id, card.id, actor=OWNER, stamps=3)
    stamp_service.redeem_reward(vendor.id, card.id, actor=OWNER)
    stamp_service.add_stamp(vendor.id, card.id, actor=OWNER, stamps=2)
    stats = statistics_service.program_statistics(stamp_program.id, days=1)
    today = stats.daily[-1]
    assert (stats.stamps_issued, stats.stamps_redeemed, stats.rewards_redeemed) == (5, 3, 1)
    assert (today.stamps_issued, today.stamps_redeemed, today.rewards_redeemed) == (5, 3, 1)


def test_one_active_reward_lookup():
    catalogue = [
        {"id": "coffee", "name": "Coffee", "points_cost": 10, "active": False},
        {"id": "cake", "name": "Cake", "points_cost": 50},
    ]
    assert find_active_reward(catalogue, "coffee") is None
    assert find_active_reward(catalogue, "cake")["name"] == "Cake"
    assert find_active_reward(None, "cake") is None


def test_one_handler_renders_http_errors_for_screens_and_api(app, client):
    handlers = app.error_handler_spec[None][None]
    assert handlers[HTTPException].__module__ == "loyalty_portal.http_errors"
    registrations = [
        path
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", "") == "errorhandler"
        and node.args
        and getattr(node.args[0], "id", "") == "HTTPException"
    ]
    assert [p.name for p in registrations] == ["http_errors.py"]
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    api = client.get("/api/v1/no-such-route")
    assert api.status_code == 404 and api.get_json()["error_code"] == "NOT_FOUND"
