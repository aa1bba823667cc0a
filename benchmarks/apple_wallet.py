"""Apple Wallet figures for `make bench` (run by benchmarks/run.py on its PostgreSQL):

- building and signing one .pkpass (target: under 20 ms per pass);
- "passes updated since" for one device with 100 000 registrations in the table (target: under
  10 ms);
- the delay from a stamp's commit to its push arriving at a local APNs (Hypercorn, HTTP/2, TLS
  with the client certificate), through the outbox and `flask loyalty worker` (target: p95
  under 2 s).
"""

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REGISTRATIONS = 100_000
PASSES_BUILT = 300
LISTINGS = 500
PUSHED_STAMPS = 60
STAMP_INTERVAL_SECONDS = 0.1
CARDS_OFFSET = 50_000  # cards far from those the other runs stamp


def dev_chain(directory: Path):
    """A development certificate chain valid now, written to `directory`; its settings."""
    from loyalty_portal.services.apple_certificates import make_dev_certificates

    chain = make_dev_certificates()
    return chain, chain.write(directory)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def run(url: str, app_for) -> dict:
    from loyalty_portal.extensions import db

    directory = Path(tempfile.mkdtemp(prefix="bench-apple-"))
    chain, settings = dev_chain(directory)
    app = app_for(url, **settings)
    with app.app_context():
        cards = _prepare(app)
        results = {
            "pkpass": _time_pass_builds(cards),
            "updated_since": _time_updated_since(cards),
        }
        db.engine.dispose()
    results["stamp_to_push"] = _stamp_to_push(url, app_for, settings, chain, directory)
    return results


def _prepare(app) -> list:
    """The bench's stamp program offers the Apple pass; REGISTRATIONS devices each hold one pass
    of the first cards (bulk SQL), and one device holds five."""
    from sqlalchemy import select, text

    from loyalty_portal.extensions import db
    from loyalty_portal.models import LoyaltyCard

    db.session.execute(text("UPDATE loyalty_programs SET apple_wallet_enabled = true"))
    pass_type = app.config["APPLE_PASS_TYPE_IDENTIFIER"]
    db.session.execute(
        text(
            "INSERT INTO apple_devices (device_library_identifier, push_token, created_at,"
            " updated_at) SELECT 'bench-device-' || g, md5('push' || g) || md5('token' || g),"
            " now(), now() FROM generate_series(1, :n) g"
        ),
        {"n": REGISTRATIONS},
    )
    db.session.execute(
        text(
            "INSERT INTO apple_device_registrations (device_id, card_id, pass_type_identifier,"
            " created_at) SELECT d.id, c.id, :pass_type, now() FROM apple_devices d"
            " JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM loyalty_cards) c"
            " ON c.n = d.id"
        ),
        {"pass_type": pass_type},
    )
    db.session.execute(
        text(
            "INSERT INTO apple_devices (device_library_identifier, push_token, created_at,"
            " updated_at) VALUES ('bench-iphone', 'abcdef', now(), now())"
        )
    )
    db.session.execute(
        text(
            "INSERT INTO apple_device_registrations (device_id, card_id, pass_type_identifier,"
            " created_at) SELECT (SELECT id FROM apple_devices WHERE device_library_identifier"
            " = 'bench-iphone'), c.id, :pass_type, now() FROM loyalty_cards c"
            " ORDER BY c.id DESC LIMIT 5"
        ),
        {"pass_type": pass_type},
    )
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return db.session.scalars(select(LoyaltyCard).order_by(LoyaltyCard.id).limit(50)).all()


def _time_pass_builds(cards) -> dict:
    from loyalty_portal.services import apple_wallet_service

    apple_wallet_service.build_pass(cards[0])  # first use: strings and images are cached
    timings = []
    for index in range(PASSES_BUILT):
        card = cards[index % len(cards)]
        start = time.perf_counter()
        apple_wallet_service.build_pass(card)
        timings.append((time.perf_counter() - start) * 1000)
    return {"mean_ms": statistics.mean(timings), "p95_ms": percentile(timings, 0.95)}


def _time_updated_since(cards) -> dict:
    from flask import current_app

    from loyalty_portal.services import apple_wallet_service

    pass_type = current_app.config["APPLE_PASS_TYPE_IDENTIFIER"]
    first = apple_wallet_service.passes_updated_since("bench-iphone", pass_type, None)
    assert first is not None and len(first.serial_numbers) == 5, first
    timings = []
    for index in range(LISTINGS):
        since = None if index % 2 else first.last_updated
        start = time.perf_counter()
        apple_wallet_service.passes_updated_since("bench-iphone", pass_type, since)
        timings.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": percentile(timings, 0.5), "p95_ms": percentile(timings, 0.95)}


def report_rows(results: dict) -> list[tuple[str, str, str]]:
    pkpass, listing = results["pkpass"], results["updated_since"]
    rows = [
        (
            f"build and sign one .pkpass ({PASSES_BUILT} passes)",
            f"mean {pkpass['mean_ms']:.1f} ms, p95 {pkpass['p95_ms']:.1f} ms",
            "under 20 ms",
        ),
        (
            f"passes updated since, one device, {REGISTRATIONS:,} registrations"
            f" ({LISTINGS} calls)",
            f"p50 {listing['p50_ms']:.2f} ms, p95 {listing['p95_ms']:.2f} ms",
            "under 10 ms",
        ),
    ]
    push = results.get("stamp_to_push")
    if push:
        rows.append(
            (
                f"stamp commit to APNs push received, worker + local HTTP/2 APNs"
                f" ({push['pushes']} stamps)",
                f"p50 {push['p50_ms']:.0f} ms, p95 {push['p95_ms']:.0f} ms",
                "p95 under 2 s",
            )
        )
    return rows


def report_section(results: dict) -> str:
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in report_rows(results))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"## Apple Wallet\n\n{stamp}, same PostgreSQL.\n\n"
        f"| what | measured | target |\n|---|---|---|\n{table}\n"
    )


def _stamp_to_push(url: str, app_for, settings: dict, chain, directory: Path) -> dict:
    """Stamps on cards that each sit in one device, through the real worker process and a
    local APNs; the delay from each stamp's commit to its push arriving."""
    import os
    import signal
    import subprocess
    import sys

    from sqlalchemy import text

    from loyalty_portal.extensions import db
    from loyalty_portal.services import stamp_service
    from loyalty_portal.services.ledger import Actor
    from tests.wallets.apns_server import ApnsServer

    root = Path(__file__).resolve().parent.parent
    server = ApnsServer(
        chain.root, chain.root_key,
        [str(directory / "ca.pem"), settings["APPLE_WWDR_CERTIFICATE"]], directory,
    ).start()
    push_settings = {**settings, "APPLE_APNS_URL": server.url,
                     "APPLE_APNS_CA_FILE": str(directory / "ca.pem")}
    app = app_for(url, **push_settings)
    with app.app_context():
        vendor_id, first_card = db.session.execute(
            text("SELECT p.vendor_id, min(c.id) FROM loyalty_programs p JOIN loyalty_cards c"
                 " ON c.program_id = p.id WHERE NOT p.require_staff_pin GROUP BY p.vendor_id"
                 " ORDER BY p.vendor_id LIMIT 1")
        ).one()
        cards = list(range(first_card + CARDS_OFFSET, first_card + CARDS_OFFSET + PUSHED_STAMPS))
        db.session.execute(text("DELETE FROM outbox_messages"))  # earlier phases' backlog
        db.session.execute(
            text("INSERT INTO apple_devices (device_library_identifier, push_token, created_at,"
                 " updated_at) SELECT 'bench-push-' || id, lpad(to_hex(id), 64, '0'), now(),"
                 " now() FROM loyalty_cards WHERE id = ANY(:cards)"),
            {"cards": cards},
        )
        db.session.execute(
            text("INSERT INTO apple_device_registrations (device_id, card_id,"
                 " pass_type_identifier, created_at) SELECT d.id, c.id, :pass_type, now()"
                 " FROM loyalty_cards c JOIN apple_devices d"
                 " ON d.device_library_identifier = 'bench-push-' || c.id"
                 " WHERE c.id = ANY(:cards)"),
            {"cards": cards, "pass_type": settings["APPLE_PASS_TYPE_IDENTIFIER"]},
        )
        db.session.commit()
        env = dict(os.environ, DATABASE_URL=url,
                   **{k: str(v) for k, v in push_settings.items()})
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "loyalty", "worker"],
            cwd=root, env=env,
        )
        committed = {}
        try:
            time.sleep(3)  # the worker has started
            for card in cards:
                stamp_service.add_stamp(vendor_id, card, actor=Actor(client_ip="127.0.0.1"))
                committed[f"/3/device/{card:064x}"] = time.monotonic()
                time.sleep(STAMP_INTERVAL_SECONDS)
            pushes = server.wait_for(len(cards), timeout=60)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
            server.stop()
            db.engine.dispose()
    delays = [(push.received_at - committed[push.path]) * 1000 for push in pushes
              if push.path in committed]
    return {
        "pushes": len(delays),
        "p50_ms": percentile(delays, 0.5),
        "p95_ms": percentile(delays, 0.95),
    }
