"""The owner's period report: activity per staff member and repeat visits, in four languages."""

import re
from datetime import timedelta

import pytest

from loyalty_portal.services import program_service, staff_statistics, stamp_service
from loyalty_portal.services.ledger import Actor
from tests.factories import make_card, make_pin
from tests.web.screen_helpers import LANGUAGES, choose_language, text, translated


def stamp(shop, card, pin, code="4827"):
    stamp_service.add_stamp(shop.vendor.id, card.id, actor=Actor(staff_pin_id=pin.id, pin=code))


@pytest.fixture
def busy_week(shop, frozen_time):
    """Monday: Anna stamped Marie (fixture) and Jo; Tuesday: Luc stamps Marie again."""
    program_service.update_program(shop.vendor.id, cooldown_minutes=0)
    luc = make_pin(shop.vendor, "Luc", "7395")
    jo = make_card(shop.program, name="Jo")
    stamp(shop, jo, shop.pin)
    frozen_time.advance(days=1)
    stamp(shop, shop.card, luc, "7395")
    return shop


def test_the_report_counts_per_staff_member_and_repeat_visits(busy_week, frozen_time):
    monday = frozen_time.now.date() - timedelta(days=1)
    report = staff_statistics.period_report(busy_week.vendor.id, monday, monday + timedelta(days=6))
    by_name = {row.name: row for row in report.staff}
    assert (by_name["Anna"].stamps_issued, by_name["Anna"].cards) == (2, 2)
    assert (by_name["Luc"].stamps_issued, by_name["Luc"].operations) == (1, 1)
    assert (report.cards_seen, report.repeat_cards) == (2, 1)

    tuesday_only = staff_statistics.period_report(busy_week.vendor.id, monday + timedelta(days=1),
                                                  monday + timedelta(days=1))
    assert [row.name for row in tuesday_only.staff] == ["Luc"]
    assert tuesday_only.repeat_cards == 0


@pytest.mark.parametrize("locale", LANGUAGES)
def test_the_report_page_in_each_language(owner, busy_week, locale):
    choose_language(owner, locale)
    page = owner.get("/vendor/reports/")
    assert page.status_code == 200
    body = text(page)
    assert translated(locale, "Staff and repeat visits") in body
    assert "Anna" in body and "Luc" in body
    assert translated(locale, "Last month") in body


def test_a_reversed_range_is_refused(owner, busy_week):
    response = owner.get("/vendor/reports/?date_from=2026-03-05&date_to=2026-03-01")
    assert response.status_code == 422
    assert "The end date is before the start date." in text(response)
    assert owner.get("/vendor/reports/?date_from=nope").status_code == 422


def test_presets_and_a_chosen_range(owner, busy_week, frozen_time):
    """Tuesday 3 March 2026: this week is 2-3 March (shown first), last month is February, and a
    chosen range counts only its days."""
    body = text(owner.get("/vendor/reports/"))
    this_week = re.search(r'href="([^"]+)"\s+aria-current="true">([^<]+)</a>', body)
    assert this_week.groups() == ("/vendor/reports/?date_from=2026-03-02&date_to=2026-03-03",
                                  translated("en", "This week"))
    assert "date_from=2026-02-01&date_to=2026-02-28" in body  # last month
    assert "Anna" in body and "Luc" in body
    last_month = text(owner.get("/vendor/reports/?date_from=2026-02-01&date_to=2026-02-28"))
    assert "Anna" not in last_month and "Luc" not in last_month
    tuesday = text(owner.get("/vendor/reports/?date_from=2026-03-03&date_to=2026-03-03"))
    assert "Luc" in tuesday and "Anna" not in tuesday
