"""`make bench`: the stamp hot path against pgbench's floor, on a durable PostgreSQL.

1. pgbench runs the bare transaction (lock card, insert ledger row, update balance): the ceiling.
2. The service layer (stamp_service.add_stamp with every rule: program and PIN read, cooldown,
   daily limit in the vendor's time zone, idempotency key, ledger row) in worker processes.
3. The HTTP API route under gunicorn, driven by wrk: what a point-of-sale integration sees.
4. A PIN-confirmed stamp at the configured bcrypt cost, where the hash dominates by design.
5. The outbox: stamps at a steady pace with `flask loyalty worker`'s loop delivering them through
   an instant handler; the delay from a stamp's commit to its delivery (p50, p95).
6. Apple Wallet (benchmarks/apple_wallet.py): building a signed .pkpass, "passes updated since"
   among 100 000 registrations, and the delay from a stamp to its APNs push.

Every stamp writes its outbox announcement in its own statement (runs 2-4 run without a worker,
as before the outbox, so the throughput figures compare).

Each stamp goes to a different card so every rule is checked and passes, as at a busy counter.
Results are printed and written to docs/performance.md.
"""

import json
import multiprocessing
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from pg_test_cluster import temporary_cluster  # noqa: E402

from benchmarks import apple_wallet  # noqa: E402

CARDS = 60_000
CLIENTS = 8
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
HTTP_WORKERS = int(os.environ.get("BENCH_HTTP_WORKERS", "3"))
PGBENCH_REFERENCE = 4400  # transactions/s measured on this machine kind (shared/TOOLCHAIN.md)


# Production-like settings (create_app refuses the development defaults outside debug); the
# pepper must be the same in this process, which creates the PINs, and in gunicorn's workers.
BENCH_SECRETS = {
    "SECRET_KEY": "bench-secret-key-" + "k" * 32,
    "PIN_PEPPER": "bench-pin-pepper-" + "p" * 32,
}


def app_for(url: str, **config):
    from loyalty_portal import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, **BENCH_SECRETS, **config})


def prepare(url: str) -> dict:
    """Schema by migrations; one vendor with a stamp program (no PIN), one with a PIN program;
    CARDS cards each, inserted in bulk; an API key for the HTTP run."""
    import flask_migrate
    from sqlalchemy import text

    from loyalty_portal.extensions import db
    from loyalty_portal.services import pin_service, program_service, vendor_service

    app = app_for(url)
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        fast = vendor_service.create_vendor("bench-fast", "Bench without PIN")
        pinned = vendor_service.create_vendor("bench-pin", "Bench with PIN")
        program_service.create_program(
            fast.id, "stamps", "Fast", require_staff_pin=False, stamps_target=10
        )
        program_service.create_program(pinned.id, "stamps", "PIN", stamps_target=10)
        staff = pin_service.create_pin(pinned.id, "Bench", "4827")
        for program_id in (1, 2):
            db.session.execute(
                text(
                    "INSERT INTO customers (vendor_id, name, email, created_at)"
                    " SELECT :vendor, 'Bench ' || g,"
                    " 'bench' || g || '-' || :vendor || '@example.com', now()"
                    " FROM generate_series(1, :cards) g"
                ),
                {"vendor": program_id, "cards": CARDS},
            )
            db.session.execute(
                text(
                    "INSERT INTO loyalty_cards (program_id, customer_id, card_number, public_token,"
                    " stamp_count, points_balance, total_stamps_earned, total_stamps_redeemed,"
                    " total_points_earned, total_points_redeemed, total_rewards_redeemed,"
                    " is_active,"
                    " created_at, updated_at, apple_serial_number, apple_auth_token)"
                    " SELECT :program, c.id, lpad((:program * 1000000 + c.id)::text, 12, '0'),"
                    " md5('t' || c.id), 0, 0, 0, 0, 0, 0, 0, true, now(), now(),"
                    " md5('s' || c.id), 'x'"
                    " FROM customers c WHERE c.vendor_id = :program"
                ),
                {"program": program_id},
            )
        db.session.commit()
        api_key = _create_api_key(fast.id)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        first_fast = db.session.scalar(text("SELECT min(id) FROM loyalty_cards WHERE program_id=1"))
        first_pin = db.session.scalar(text("SELECT min(id) FROM loyalty_cards WHERE program_id=2"))
        setup = {
            "fast_vendor": fast.id,
            "pin_vendor": pinned.id,
            "staff_pin": staff.id,
            "first_fast_card": first_fast,
            "first_pin_card": first_pin,
            "api_key": api_key,
        }
        db.engine.dispose()
    return setup


def _create_api_key(vendor_id: int) -> str | None:
    from loyalty_portal.services import api_key_service

    return api_key_service.create_key(vendor_id, "bench").secret


def count_ledger_mismatches(url: str) -> int:
    """`flask loyalty verify-ledger` on what the load wrote: speed must not cost correctness."""
    from loyalty_portal.extensions import db
    from loyalty_portal.services.ledger_audit import verify_ledger

    app = app_for(url)
    with app.app_context():
        mismatches = len(verify_ledger())
        db.engine.dispose()
    return mismatches


def reset_ledger(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        # The ledger's triggers refuse TRUNCATE; the benchmark's superuser turns them off here.
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("TRUNCATE loyalty_transactions, outbox_messages")
        conn.execute("SET LOCAL session_replication_role = DEFAULT")
        conn.execute(
            "UPDATE loyalty_cards SET stamp_count = 0, total_stamps_earned = 0,"
            " last_stamp_at = NULL"
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE loyalty_cards")


def run_pgbench(cluster) -> float:
    out = subprocess.run(
        [
            "pgbench",
            "-n",
            "-c",
            str(CLIENTS),
            "-j",
            "2",
            "-T",
            str(SECONDS),
            "-D",
            f"cards={CARDS}",
            "-f",
            str(ROOT / "benchmarks" / "pgbench_stamp.sql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(cluster.port),
            "-U",
            "postgres",
            cluster.database,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def _service_worker(url, vendor_id, first_card, worker, workers, ready, pin, staff_pin, queue):
    from loyalty_portal.services import stamp_service
    from loyalty_portal.services.ledger import Actor

    app = app_for(url, PIN_BCRYPT_ROUNDS=10)
    actor = Actor(staff_pin_id=staff_pin, pin=pin, client_ip="127.0.0.1", user_agent="bench")
    done = 0
    with app.app_context():
        card = first_card + worker
        ready.wait()  # every process has started its app: the clock starts now
        deadline = time.perf_counter() + SECONDS
        while time.perf_counter() < deadline:
            stamp_service.add_stamp(
                vendor_id, card, actor=actor, idempotency_key=f"bench-{worker}-{done}"
            )
            card += workers
            done += 1
    queue.put(done)


def run_service(url, vendor_id, first_card, pin=None, staff_pin=None, workers=CLIENTS) -> float:
    queue = multiprocessing.Queue()
    ready = multiprocessing.Barrier(workers + 1)
    processes = [
        multiprocessing.Process(
            target=_service_worker,
            args=(url, vendor_id, first_card, w, workers, ready, pin, staff_pin, queue),
        )
        for w in range(workers)
    ]
    for p in processes:
        p.start()
    ready.wait()
    start = time.perf_counter()
    total = sum(queue.get() for _ in processes)
    for p in processes:
        p.join()
    return total / (time.perf_counter() - start)


WRK_SCRIPT = """
-- Every request stamps a card no other request touches, so each one passes every rule.
local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end
function init(args)
  counter = 0
end
request = function()
  local card = %(first)d + (counter * %(threads)d + id) %% %(cards)d
  counter = counter + 1
  return wrk.format('POST', '%(path)s' .. card .. '/stamps', {
    ['Authorization'] = 'Bearer %(key)s',
    ['Content-Type'] = 'application/json',
  }, '{}')
end
"""


def run_http(url, setup) -> dict | None:
    if not setup["api_key"]:
        return None
    port = "5099"
    env = dict(os.environ, DATABASE_URL=url, WEB_CONCURRENCY=str(HTTP_WORKERS), **BENCH_SECRETS)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(HTTP_WORKERS),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        time.sleep(3)
        script = Path(tempfile.mkdtemp()) / "stamp.lua"
        script.write_text(
            WRK_SCRIPT
            % {
                "first": setup["first_fast_card"],
                "threads": 2,
                "cards": CARDS,
                "path": "/api/v1/vendor/loyalty/cards/",
                "key": setup["api_key"],
            }
        )
        out = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(CLIENTS),
                "-d",
                f"{SECONDS}s",
                "-s",
                str(script),
                "--latency",
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p50 = re.search(r"50%\s+(\S+)", out).group(1)
        p99 = re.search(r"99%\s+(\S+)", out).group(1)
        non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return {
            "rps": rps,
            "p50": p50,
            "p99": p99,
            "errors": int(non_2xx.group(1)) if non_2xx else 0,
        }
    finally:
        server.terminate()
        server.wait()


DELAY_RATE = int(os.environ.get("BENCH_DELAY_RATE", "100"))  # stamps per second, steady
DELAY_STAMPERS = 2
INSTANT_KIND = "bench.instant"


def _delivery_worker(url, started, stop, queue):
    """`flask loyalty worker`'s loop with one instant handler that notes each delay."""
    from loyalty_portal.clock import utcnow
    from loyalty_portal.services import outbox
    from loyalty_portal.worker import Worker

    delays = []

    def instant(message):
        delays.append((utcnow() - message.last_change_at).total_seconds())

    outbox.register_handler(INSTANT_KIND, instant, on=[outbox.CARD_CHANGED])
    worker = Worker(app_for(url))
    threading.Thread(target=lambda: (stop.wait(), worker.stop()), daemon=True).start()
    started.set()
    worker.run()
    queue.put(delays)


def _paced_stamper(url, vendor_id, first_card, offset, ready, count):
    from loyalty_portal.services import stamp_service
    from loyalty_portal.services.ledger import Actor

    app = app_for(url)
    with app.app_context():
        ready.wait()
        interval = DELAY_STAMPERS / DELAY_RATE
        next_at = time.perf_counter()
        for n in range(count):
            card = first_card + offset + n * DELAY_STAMPERS
            stamp_service.add_stamp(vendor_id, card, actor=Actor())
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))


def run_delivery_delay(url, vendor_id, first_card) -> dict:
    """Commit-to-delivery delay of stamps at DELAY_RATE per second with a worker running."""
    import psycopg

    started, stop = multiprocessing.Event(), multiprocessing.Event()
    queue = multiprocessing.Queue()
    worker = multiprocessing.Process(target=_delivery_worker, args=(url, started, stop, queue))
    worker.start()
    started.wait(60)
    count = DELAY_RATE * SECONDS // DELAY_STAMPERS
    ready = multiprocessing.Barrier(DELAY_STAMPERS)
    stampers = [
        multiprocessing.Process(
            target=_paced_stamper, args=(url, vendor_id, first_card, offset, ready, count)
        )
        for offset in range(DELAY_STAMPERS)
    ]
    for p in stampers:
        p.start()
    for p in stampers:
        p.join()
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            waiting = conn.execute(
                "SELECT count(*) FROM outbox_messages WHERE status = 'pending'"
            ).fetchone()[0]
            conn.commit()
            if waiting == 0:
                break
            time.sleep(0.2)
    stop.set()
    delays = sorted(queue.get(timeout=60))
    worker.join(30)
    cuts = statistics.quantiles(delays, n=100)
    return {
        "stamps": count * DELAY_STAMPERS,
        "delivered": len(delays),
        "rate": DELAY_RATE,
        "p50_ms": cuts[49] * 1000,
        "p95_ms": cuts[94] * 1000,
        "left_pending": waiting,
    }


def main() -> None:
    results = {}
    with temporary_cluster(database="loyalty_bench", fast=False) as cluster:
        url = cluster.url
        setup = prepare(url)
        results["pgbench"] = run_pgbench(cluster)
        reset_ledger(url)
        results["service"] = run_service(url, setup["fast_vendor"], setup["first_fast_card"])
        reset_ledger(url)
        results["http"] = run_http(url, setup)
        results["ledger_mismatches_after_http"] = count_ledger_mismatches(url)
        reset_ledger(url)
        results["service_pin"] = run_service(
            url,
            setup["pin_vendor"],
            setup["first_pin_card"],
            pin="4827",
            staff_pin=setup["staff_pin"],
            workers=4,
        )
        reset_ledger(url)
        results["delivery_delay"] = run_delivery_delay(
            url, setup["fast_vendor"], setup["first_fast_card"]
        )
        reset_ledger(url)
        results["apple_wallet"] = apple_wallet.run(url, app_for)
    print(json.dumps(results, indent=2))
    write_report(results)


def write_report(results: dict) -> None:
    pgbench = results["pgbench"]
    http = results["http"]
    rows = [
        ("pgbench, bare transaction (8 clients)", f"{pgbench:,.0f}/s", "1.00"),
        (
            "stamp_service.add_stamp, all rules, 8 processes",
            f"{results['service']:,.0f}/s",
            f"{results['service'] / pgbench:.2f}",
        ),
    ]
    if http:
        rows.append(
            (
                "POST /api/v1/vendor/loyalty/cards/<id>/stamps,"
                f" gunicorn {HTTP_WORKERS} sync workers, wrk {CLIENTS} connections"
                f" (p50 {http['p50']}, p99 {http['p99']}, non-2xx {http['errors']})",
                f"{http['rps']:,.0f}/s",
                f"{http['rps'] / pgbench:.2f}",
            )
        )
    rows.append(
        (
            "add_stamp with a staff PIN, bcrypt cost 10, 4 processes",
            f"{results['service_pin']:,.0f}/s",
            f"{results['service_pin'] / pgbench:.2f}",
        )
    )
    delay = results["delivery_delay"]
    rows.append(
        (
            f"outbox: commit to delivery, instant handler, {delay['rate']} stamps/s for"
            f" {SECONDS} s, 1 worker ({delay['delivered']:,} of {delay['stamps']:,} delivered)",
            f"p50 {delay['p50_ms']:.0f} ms, p95 {delay['p95_ms']:.0f} ms",
            "",
        )
    )
    rows.append(
        (
            "ledger mismatches found by verify-ledger after the HTTP run",
            str(results["ledger_mismatches_after_http"]),
            "",
        )
    )
    table = "\n".join(f"| {name} | {rate} | {ratio} |" for name, rate, ratio in rows)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"## Latest run\n\n{stamp}, {platform.node()}, {os.cpu_count()} cores,"
        " PostgreSQL with fsync on,"
        f" {SECONDS} s per measurement, {CARDS:,} cards per program.\n\n"
        f"| what | throughput | of pgbench |\n|---|---|---|\n{table}\n"
    )
    path = ROOT / "docs" / "performance.md"
    text = path.read_text() if path.exists() else ""
    marker = "## Latest run"
    head = text.split(marker)[0] if marker in text else text
    if "apple_wallet" in results:
        section += "\n" + apple_wallet.report_section(results["apple_wallet"])
    path.write_text(head.rstrip() + "\n\n" + section)
    print(section)


if __name__ == "__main__":
    main()
