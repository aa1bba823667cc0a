"""Card lookup at size (issue 17): what a cashier types or scans, found among 100 000 cards
(bench_data) by card_service.lookup_card: a card number (typed with spaces), a QR token (a card
link), an e-mail address and a phone number (typed with spaces; the vendor is in New York, the
customer's number in Luxembourg). p50 and p95 per kind, on the largest vendor (20 000
cards), each call a different card.

Every kind is an index probe (tests/core/test_card_lookup_plans.py checks the plans), so the
target is what a query costs whatever the size: p50 under 10 ms (the database part is about
0.1 ms at 100 000 cards; the rest is the ORM and the commit, as for any small read).

    python -m benchmarks.lookup_bench --dsn postgresql://postgres@127.0.0.1:PORT/any
"""

import argparse
import json
import statistics
import time

from benchmarks import bench_data
from benchmarks.statistics_bench import context_value

LOOKUPS = 200
TARGET_MS = 10.0


def queries(kind: str, customer_id: int, card_number: str, token: str) -> str:
    if kind == "card number":
        return " ".join(card_number[i : i + 4] for i in range(0, len(card_number), 4))
    if kind == "QR token (card link)":
        return f"https://loyalty.example/c/{token}"
    if kind == "e-mail":
        return f"Customer{customer_id}@Example.com"
    return f"+352 621 {customer_id // 1000:03d} {customer_id % 1000:03d}"  # as stored: +352621…


KINDS = ("card number", "QR token (card link)", "e-mail", "phone")


def run(ctx) -> list[dict]:
    from sqlalchemy import text

    from loyalty_portal.extensions import db
    from loyalty_portal.services import card_service

    url = bench_data.ensure(context_value(ctx, "dsn", "url", "database_url"))
    app = bench_data.app_for(url)
    rows = []
    with app.app_context():
        cards = db.session.execute(
            text(
                "SELECT c.id, c.customer_id, c.card_number, c.public_token FROM loyalty_cards c"
                " WHERE c.program_id = 1 ORDER BY md5(c.id::text) LIMIT :n"
            ),
            {"n": LOOKUPS + 1},
        ).all()
        db.session.commit()
        for kind in KINDS:
            samples = []
            for card_id, customer_id, number, token in cards:
                typed = queries(kind, customer_id, number, token)
                started = time.perf_counter()
                found = card_service.lookup_card(1, typed)
                samples.append((time.perf_counter() - started) * 1000)
                db.session.commit()
                if found.id != card_id:
                    raise RuntimeError(f"lookup by {kind} of {typed!r} found card {found.id}")
            samples = samples[1:]  # the first call compiles the statement
            p50 = statistics.median(samples)
            rows.append({"figure": f"card lookup by {kind}, 100,000 cards: p50", "unit": "ms",
                         "value": round(p50, 2), "target": f"< {TARGET_MS:.0f} ms",
                         "met": p50 < TARGET_MS})
            rows.append({"figure": f"card lookup by {kind}, 100,000 cards: p95", "unit": "ms",
                         "value": round(bench_data.percentile(samples, 0.95), 2), "target": "",
                         "met": None})
        db.engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True, help="PostgreSQL server (any database on it)")
    arguments = parser.parse_args()
    for entry in run({"dsn": arguments.dsn}):
        print(json.dumps(entry))


if __name__ == "__main__":
    main()
