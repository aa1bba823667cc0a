"""A platform at size for the statistics and lookup benchmarks: 100 000 cards and 1 000 000
ledger rows, loaded in bulk (INSERT ... SELECT generate_series) into a database of its own on the
bench's PostgreSQL server, so the figures count exactly these rows whatever else the server holds.

- 100 vendors in five time zones, one program each (stamps for odd vendors, points for even
  ones). Vendor 1 is large (20 000 cards, 200 000 ledger rows): its statistics are the figure to
  beat; the other 80 000 cards share the 99 others.
- Every card has 10 ledger rows spread over the last year, oldest first: stamps with a
  redemption every 11th row (target 10), or 20 points a purchase with a 100-point reward every
  6th row. The balance chain, the cards' balances and lifetime totals and the statistics' daily
  summary are written to agree with the ledger; `load` checks the summary (verify_daily_activity)
  before anyone measures.
- The summary is loaded with today's slots (card id modulo 16) and then compacted, as the
  outbox worker does now and then: finished days become one row per program and day.
- Customers have an e-mail address and a Luxembourg mobile number, stored as the app stores them.

`ensure(server_dsn)` creates and loads the database once (about a minute) and reuses it when
it is already there; `drop(server_dsn)` removes it.
"""

import time

import psycopg

from loyalty_portal.models.daily_activity import ACTIVITY_SLOTS

DATABASE = "loyalty_stats_bench"
VENDORS = 100
BIG_VENDOR_CARDS = 20_000
CARDS = 100_000
ROWS_PER_CARD = 10
TIMEZONES = ("Europe/Luxembourg", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC")
BENCH_SECRETS = {
    "SECRET_KEY": "bench-secret-key-" + "k" * 32,
    "PIN_PEPPER": "bench-pin-pepper-" + "p" * 32,
}


def libpq(dsn: str) -> str:
    return dsn.replace("postgresql+psycopg://", "postgresql://")


def with_database(dsn: str, database: str) -> str:
    """The same server, another database."""
    base, _, _ = libpq(dsn).rpartition("/")
    return f"{base}/{database}"


def sqlalchemy_url(dsn: str) -> str:
    return libpq(dsn).replace("postgresql://", "postgresql+psycopg://", 1)


def app_for(url: str, **config):
    from loyalty_portal import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url), **BENCH_SECRETS,
                       **config})


def _exists(server_dsn: str) -> bool:
    with psycopg.connect(with_database(server_dsn, "postgres"), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (DATABASE,)).fetchone() is not None


def _loaded(url: str) -> bool:
    with psycopg.connect(url) as conn:
        try:
            marker = conn.execute("SELECT count(*) FROM loyalty_transactions").fetchone()[0]
        except psycopg.errors.UndefinedTable:
            return False
    return marker == CARDS * ROWS_PER_CARD


def drop(server_dsn: str) -> None:
    with psycopg.connect(with_database(server_dsn, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def ensure(server_dsn: str, log=print) -> str:
    """The loaded database's URL (SQLAlchemy form), loading it first if needed."""
    url = with_database(server_dsn, DATABASE)
    if _exists(server_dsn) and _loaded(url):
        return sqlalchemy_url(url)
    drop(server_dsn)
    with psycopg.connect(with_database(server_dsn, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    started = time.perf_counter()
    load(url)
    log(f"bench data: {CARDS:,} cards, {CARDS * ROWS_PER_CARD:,} ledger rows loaded in"
        f" {time.perf_counter() - started:.0f} s")
    return sqlalchemy_url(url)


def load(url: str) -> None:
    from pathlib import Path

    import flask_migrate

    from loyalty_portal.extensions import db
    from loyalty_portal.services import (
        ledger_audit,
        program_service,
        statistics_service,
        vendor_service,
    )

    app = app_for(url)
    with app.app_context():
        flask_migrate.upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        for n in range(1, VENDORS + 1):
            vendor = vendor_service.create_vendor(
                f"stats-{n}", f"Stats vendor {n}", timezone=TIMEZONES[n % len(TIMEZONES)]
            )
            kind = "stamps" if n % 2 else "points"
            settings = {"stamps_target": 10} if kind == "stamps" else {
                "points_per_currency_unit": 1,
                "points_rewards": [
                    {"id": "coffee", "name": "Coffee", "points_cost": 100, "active": True}
                ],
            }
            program_service.create_program(vendor.id, kind, f"Program {n}", **settings)
        db.engine.dispose()
    with psycopg.connect(url) as conn:
        _load_rows(conn)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    with app.app_context():
        # As the worker does now and then: finished days' slots folded into one row.
        statistics_service.compact_daily_activity()
        problems = ledger_audit.verify_daily_activity()
        db.engine.dispose()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE program_daily_activity")
    if problems:
        raise RuntimeError(f"bench data: summary and ledger disagree: {problems[:3]}")


def _load_rows(conn) -> None:
    small = (CARDS - BIG_VENDOR_CARDS) // (VENDORS - 1)
    # Customers 1..20 000 belong to vendor 1, the rest to vendors 2..100 in equal blocks.
    conn.execute(
        """
        INSERT INTO customers (vendor_id, name, email, phone, created_at)
        SELECT CASE WHEN g <= %(big)s THEN 1
                    ELSE least(%(vendors)s, 2 + (g - %(big)s - 1) / %(small)s) END,
               'Customer ' || g, 'customer' || g || '@example.com',
               '+352621' || lpad(g::text, 6, '0'),
               now() - interval '400 days'
        FROM generate_series(1, %(cards)s) g
        """,
        {"big": BIG_VENDOR_CARDS, "small": small, "cards": CARDS, "vendors": VENDORS},
    )
    # A card joined up to a year ago (spread by its id), its program the vendor's.
    conn.execute(
        """
        INSERT INTO loyalty_cards (program_id, customer_id, card_number, public_token,
            stamp_count, points_balance, total_stamps_earned, total_stamps_redeemed,
            total_points_earned, total_points_redeemed, total_rewards_redeemed, is_active,
            created_at, updated_at, apple_serial_number, apple_auth_token)
        SELECT p.id, c.id, lpad((900000000000 + c.id)::text, 12, '0'), md5('token' || c.id),
               0, 0, 0, 0, 0, 0, 0, true,
               now() - make_interval(days => (c.id * 7919) % 365, mins => c.id % 1440),
               now(), md5('serial' || c.id), 'x'
        FROM customers c JOIN loyalty_programs p ON p.vendor_id = c.vendor_id
        ORDER BY c.id
        """
    )
    # Row n of a card (1..10), between the card's creation and now, in order.
    conn.execute(
        """
        INSERT INTO loyalty_transactions (program_id, card_id, transaction_type, stamps_delta,
            points_delta, stamps_balance_after, points_balance_after, reward_id, reward_name,
            created_at)
        SELECT c.program_id, c.id,
               CASE WHEN p.program_type = 'stamps'
                    THEN CASE WHEN n %% 11 = 0 THEN 'stamp_reward_redeemed' ELSE 'stamp_earned' END
                    ELSE CASE WHEN n %% 6 = 0 THEN 'points_reward_redeemed'
                              ELSE 'points_earned' END END,
               CASE WHEN p.program_type = 'stamps'
                    THEN CASE WHEN n %% 11 = 0 THEN -10 ELSE 1 END ELSE 0 END,
               CASE WHEN p.program_type = 'points'
                    THEN CASE WHEN n %% 6 = 0 THEN -100 ELSE 20 END ELSE 0 END,
               CASE WHEN p.program_type = 'stamps' THEN n - 11 * (n / 11) ELSE 0 END,
               CASE WHEN p.program_type = 'points' THEN 20 * n - 120 * (n / 6) ELSE 0 END,
               CASE WHEN p.program_type = 'points' AND n %% 6 = 0 THEN 'coffee' END,
               CASE WHEN p.program_type = 'points' AND n %% 6 = 0 THEN 'Coffee' END,
               c.created_at + (now() - c.created_at) * n / (%(rows)s + 1)
        FROM loyalty_cards c
        JOIN loyalty_programs p ON p.id = c.program_id
        CROSS JOIN generate_series(1, %(rows)s) n
        ORDER BY c.id, n
        """,
        {"rows": ROWS_PER_CARD},
    )
    # The cards' balances and lifetime totals, and the daily summary, from the ledger.
    conn.execute(
        """
        UPDATE loyalty_cards c SET
            stamp_count = s.stamps, points_balance = s.points,
            total_stamps_earned = coalesce(s.stamps_earned, 0),
            total_stamps_redeemed = coalesce(s.stamps_redeemed, 0),
            total_points_earned = coalesce(s.points_earned, 0),
            total_points_redeemed = coalesce(s.points_redeemed, 0),
            total_rewards_redeemed = s.rewards, last_activity_at = s.last_at,
            last_stamp_at = s.last_stamp_at, updated_at = s.last_at
        FROM (
            SELECT card_id, sum(stamps_delta) AS stamps, sum(points_delta) AS points,
                   sum(stamps_delta) FILTER (WHERE transaction_type = 'stamp_earned')
                       AS stamps_earned,
                   -sum(stamps_delta) FILTER (WHERE transaction_type = 'stamp_reward_redeemed')
                       AS stamps_redeemed,
                   sum(points_delta) FILTER (WHERE transaction_type = 'points_earned')
                       AS points_earned,
                   -sum(points_delta) FILTER (WHERE transaction_type = 'points_reward_redeemed')
                       AS points_redeemed,
                   count(*) FILTER (WHERE transaction_type LIKE '%redeemed') AS rewards,
                   max(created_at) AS last_at,
                   max(created_at) FILTER (WHERE transaction_type = 'stamp_earned')
                       AS last_stamp_at
            FROM loyalty_transactions GROUP BY card_id
        ) s
        WHERE s.card_id = c.id
        """
    )
    conn.execute(
        """
        INSERT INTO program_daily_activity (program_id, local_day, utc_day, slot,
            total_stamps_earned, total_stamps_redeemed, total_points_earned,
            total_points_redeemed, total_rewards_redeemed)
        SELECT t.program_id, CAST(timezone(v.timezone, t.created_at) AS date),
               CAST(timezone('UTC', t.created_at) AS date), t.card_id %% %(slots)s,
               coalesce(sum(t.stamps_delta) FILTER (WHERE t.transaction_type = 'stamp_earned'), 0),
               coalesce(-sum(t.stamps_delta)
                        FILTER (WHERE t.transaction_type = 'stamp_reward_redeemed'), 0),
               coalesce(sum(t.points_delta) FILTER (WHERE t.transaction_type = 'points_earned'),
                        0),
               coalesce(-sum(t.points_delta)
                        FILTER (WHERE t.transaction_type = 'points_reward_redeemed'), 0),
               count(*) FILTER (WHERE t.transaction_type LIKE '%%redeemed')
        FROM loyalty_transactions t
        JOIN loyalty_programs p ON p.id = t.program_id
        JOIN vendors v ON v.id = p.vendor_id
        GROUP BY 1, 2, 3, 4
        """,
        {"slots": ACTIVITY_SLOTS},
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]
