"""Statistics at size (issue 17): 100 000 cards and 1 000 000 ledger rows (bench_data), the
vendor's statistics (30 days as the API's default and the dashboard, 84 as the statistics
screen; the largest vendor: 20 000 cards, 200 000 ledger rows, and a
typical one), the admin's platform statistics (30 days) and the admin's list of programs; p50
and p95 of the service calls the screens and the API make. Target: p50 under 100 ms.

For comparison it also times the per-day series the way it was read before the daily summary
(an aggregate over the month's ledger rows).

    python -m benchmarks.statistics_bench --dsn postgresql://postgres@127.0.0.1:PORT/any

(the DSN names the server; the data live in a database of their own, see bench_data). Called by
benchmarks/run.py as `run(ctx)`: ctx is a mapping or object with the server's DSN (`dsn`).
"""

import argparse
import json
import statistics
import time
from datetime import timedelta

from benchmarks import bench_data

CALLS = 40
TARGET_MS = 100.0


def context_value(ctx, *names, default=None):
    """A value of run.py's ctx, whether it is a mapping or an object."""
    for name in names:
        value = ctx.get(name) if isinstance(ctx, dict) else getattr(ctx, name, None)
        if value is not None:
            return value
    return default


def timed(call, calls: int = CALLS) -> list[float]:
    call()  # warm: the first call pays for statement compilation and cold caches
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def row(figure: str, samples: list[float], target: float | None = TARGET_MS) -> list[dict]:
    p50 = statistics.median(samples)
    p95 = bench_data.percentile(samples, 0.95)
    return [
        {"figure": f"{figure}: p50", "value": round(p50, 1), "unit": "ms",
         "target": f"< {target:.0f} ms" if target else "", "met": p50 < target if target else None},
        {"figure": f"{figure}: p95", "value": round(p95, 1), "unit": "ms", "target": "",
         "met": None},
    ]


def ledger_series(program_id: int, timezone: str, days: int = 30) -> list:
    """The per-day series as statistics_service read it before the daily summary: from the
    month's ledger rows (kept here for the comparison only)."""
    from sqlalchemy import select

    from loyalty_portal.clock import utcnow
    from loyalty_portal.extensions import db
    from loyalty_portal.models import LoyaltyTransaction as tx
    from loyalty_portal.services.lifetime_totals import COLUMNS, ledger_sum
    from loyalty_portal.services.local_days import day_bounds, local_date, local_date_sql

    first_day = local_date(utcnow(), timezone) - timedelta(days=days - 1)
    day = local_date_sql(tx.created_at, timezone)
    rows = db.session.execute(
        select(day, *(ledger_sum(column) for column in COLUMNS))
        .where(tx.program_id == program_id, tx.created_at >= day_bounds(first_day, timezone)[0])
        .group_by(day)
    ).all()
    db.session.commit()
    return rows


def run(ctx) -> list[dict]:
    from loyalty_portal.extensions import db
    from loyalty_portal.models import LoyaltyProgram, Vendor
    from loyalty_portal.services import platform_service, statistics_service

    url = bench_data.ensure(context_value(ctx, "dsn", "url", "database_url"))
    app = bench_data.app_for(url)
    rows = []
    with app.app_context():
        big = db.session.get(Vendor, 1)
        typical = db.session.get(Vendor, 50)
        big_program = db.session.query(LoyaltyProgram).filter_by(vendor_id=big.id).one()
        db.session.commit()
        rows += row(
            f"vendor statistics, 30 days, largest vendor ({bench_data.BIG_VENDOR_CARDS:,} cards,"
            f" {bench_data.BIG_VENDOR_CARDS * bench_data.ROWS_PER_CARD:,} ledger rows)",
            timed(lambda: statistics_service.vendor_statistics(big.id, 30)),
        )
        rows += row(
            "vendor statistics, 30 days, a typical vendor (~800 cards)",
            timed(lambda: statistics_service.vendor_statistics(typical.id, 30)),
        )
        rows += row(
            "vendor statistics, 84 days (the statistics screen's 12 weeks), largest vendor",
            timed(lambda: statistics_service.vendor_statistics(big.id, 84)),
        )
        rows += row(
            f"admin platform statistics, 30 days ({bench_data.CARDS:,} cards,"
            f" {bench_data.CARDS * bench_data.ROWS_PER_CARD:,} ledger rows)",
            timed(lambda: statistics_service.platform_statistics(30)),
        )
        rows += row(
            "admin list of programs with card totals (first page of 50)",
            timed(lambda: platform_service.list_programs(sort="-total_cards")),
        )
        rows += row(
            "for comparison: largest vendor's 30-day series from the ledger (before the summary)",
            timed(lambda: ledger_series(big_program.id, big.timezone)),
            target=None,
        )
        db.engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True, help="PostgreSQL server (any database on it)")
    parser.add_argument("--drop", action="store_true", help="drop the bench database afterwards")
    arguments = parser.parse_args()
    rows = run({"dsn": arguments.dsn})
    for entry in rows:
        print(json.dumps(entry))
    if arguments.drop:
        bench_data.drop(arguments.dsn)


if __name__ == "__main__":
    main()
