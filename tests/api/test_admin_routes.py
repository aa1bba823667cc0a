"""The admin's view: programs across vendors (filters, sorting, paging, no N+1) and statistics."""

import pytest
from sqlalchemy import event

from loyalty_portal.extensions import db as _db
from loyalty_portal.services import program_service
from tests.api.helpers import A, V, assert_error, make_shop
from tests.factories import make_card


@pytest.fixture
def shops(db, frozen_time):
    cafe, bakery = make_shop("stamps", name="Coffee card"), make_shop("points", name="Bread points")
    make_card(bakery.program)
    program_service.deactivate_program(bakery.vendor.id)
    return cafe, bakery


def names(response) -> list[str]:
    return [item["name"] for item in response.get_json()["items"]]


def test_list_programs_with_their_totals(admin_client, shops, client):
    cafe, _ = shops
    client.post(f"{V}/cards/{cafe.card.id}/stamps", json=cafe.pin_body(), headers=cafe.key_headers)
    body = admin_client.get(f"{A}/programs").get_json()
    assert (body["total"], body["page"], body["per_page"]) == (2, 1, 50)
    by_name = {item["name"]: item for item in body["items"]}
    assert by_name["Coffee card"]["stamps_issued"] == 1
    assert by_name["Coffee card"]["active_cards_30_days"] == 1
    assert by_name["Bread points"]["total_cards"] == 2
    assert by_name["Bread points"]["vendor_slug"] == shops[1].vendor.slug


def test_filters_sorting_and_paging(admin_client, shops):
    assert names(admin_client.get(f"{A}/programs?sort=name")) == ["Bread points", "Coffee card"]
    assert names(admin_client.get(f"{A}/programs?sort=-name")) == ["Coffee card", "Bread points"]
    assert names(admin_client.get(f"{A}/programs?sort=-total_cards")) == [
        "Bread points",
        "Coffee card",
    ]
    assert names(admin_client.get(f"{A}/programs?program_type=stamps")) == ["Coffee card"]
    assert names(admin_client.get(f"{A}/programs?is_active=false")) == ["Bread points"]
    assert names(admin_client.get(f"{A}/programs?q=coffee")) == ["Coffee card"]
    page_2 = admin_client.get(f"{A}/programs?per_page=1&page=2").get_json()
    assert (page_2["total"], [i["name"] for i in page_2["items"]]) == (2, ["Coffee card"])
    assert_error(admin_client.get(f"{A}/programs?sort=password"), 422, "VALIDATION_ERROR")


def test_the_list_costs_the_same_queries_for_2_or_10_programs(admin_client, shops, app):
    def queries() -> int:
        statements = []
        with app.app_context():
            engine = _db.engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert admin_client.get(f"{A}/programs").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    few = queries()
    for _ in range(8):
        make_card(make_shop("stamps").program)
    assert queries() == few


def test_platform_statistics(admin_client, shops, client):
    cafe, _ = shops
    client.post(f"{V}/cards/{cafe.card.id}/stamps", json=cafe.pin_body(), headers=cafe.key_headers)
    body = admin_client.get(f"{A}/statistics?days=3").get_json()
    assert (body["vendors"], body["programs"], body["active_programs"], body["cards"]) == (
        2,
        2,
        1,
        3,
    )
    assert (body["stamps_issued"], body["active_cards_30_days"]) == (1, 1)
    assert [day["day"] for day in body["daily"]] == ["2026-02-28", "2026-03-01", "2026-03-02"]
    assert body["daily"][-1]["stamps_issued"] == 1 and body["daily"][-1]["new_cards"] == 3


def test_one_programs_statistics(admin_client, shops):
    _, bakery = shops
    body = admin_client.get(f"{A}/programs/{bakery.program.id}/statistics").get_json()
    assert (body["program_id"], body["total_cards"]) == (bakery.program.id, 2)
    assert_error(
        admin_client.get(f"{A}/programs/999999/statistics"), 404, "LOYALTY_PROGRAM_NOT_FOUND"
    )
