"""CSV export of the ledger for a date range, days counted in the vendor's time zone."""

import csv
import io

from tests.api.helpers import V, assert_error, make_shop


def export(client, shop, date_from, date_to):
    return client.get(
        f"{V}/transactions/export.csv",
        query_string={"from": date_from, "to": date_to},
        headers=shop.key_headers,
    )


def stamp(client, shop):
    return client.post(
        f"{V}/cards/{shop.card.id}/stamps", json=shop.pin_body(), headers=shop.key_headers
    )


def rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_days_follow_the_vendors_time_zone(client, db, frozen_time):
    shop = make_shop("stamps")  # Europe/Luxembourg: UTC+1 in March
    frozen_time.set("2026-03-01T22:30:00+00:00")  # 23:30 on 1 March in Luxembourg
    stamp(client, shop)
    frozen_time.set("2026-03-01T23:30:00+00:00")  # 00:30 on 2 March in Luxembourg
    stamp(client, shop)
    march_1 = export(client, shop, "2026-03-01", "2026-03-01")
    assert march_1.status_code == 200
    assert march_1.mimetype == "text/csv"
    assert "attachment" in march_1.headers["Content-Disposition"]
    [row] = rows(march_1)
    assert row["created_at_local"] == "2026-03-01T23:30:00+01:00"
    assert row["card_number"] == shop.card.card_number and row["staff_name"] == "Anna"
    [row] = rows(export(client, shop, "2026-03-02", "2026-03-02"))
    assert row["created_at_utc"] == "2026-03-01T23:30:00+00:00"
    assert len(rows(export(client, shop, "2026-03-01", "2026-03-02"))) == 2


def test_free_text_cannot_become_a_spreadsheet_formula(client, owner_client, shop, frozen_time):
    transaction_id = stamp(client, shop).get_json()["transaction_id"]
    owner_client.post(f"{V}/transactions/{transaction_id}/void", json={"reason": "=HYPERLINK(1)"})
    void = [r for r in rows(export(client, shop, "2026-03-02", "2026-03-02")) if r["reason"]]
    assert void[0]["reason"] == "'=HYPERLINK(1)"


def test_bad_ranges_are_refused(client, shop):
    reversed_range = export(client, shop, "2026-03-02", "2026-03-01")
    assert assert_error(reversed_range, 422, "LOYALTY_VALIDATION_FAILED")["field"] == "to"
    assert_error(export(client, shop, "2025-01-01", "2026-03-01"), 422, "LOYALTY_VALIDATION_FAILED")
    details = assert_error(export(client, shop, "yesterday", "2026-03-01"), 422, "VALIDATION_ERROR")
    assert details["location"] == "query" and "from" in details["fields"]
