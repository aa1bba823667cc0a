"""`make bench`: every performance figure of docs/performance.md, beside its target, in one run.

One durable PostgreSQL (fsync on) is started for the run. The stamp hot path is measured against
pgbench running the bare transaction (lock the card, insert a ledger row, update the balance) on
the same server, in the same run, round after round, because this 2-core machine is shared and
noisy: the ratio to pgbench is the figure that survives the noise, not the absolute rate. Every
throughput figure is the median of ROUNDS rounds; the machine and its load are described.

Measured here (the hot path):
1. pgbench at 1, 8 and 32 clients;
2. `stamp_service.add_stamp` with every rule, 8 processes (no HTTP);
3. `POST /api/v1/vendor/loyalty/cards/<id>/stamps` with an API key, driven by wrk at 1, 8 and
   32 connections, each request on a card no other request touches (so every rule is checked
   and passes), under gunicorn (sync workers), gunicorn (gthread) and granian: requests/s, p50,
   p99, ratio to pgbench at the same number of clients;
4. the same route with a staff PIN: its p50 at one client minus a bare bcrypt check's at the
   same cost, each check timed in this process right after a stamp (target at most 10 ms; the
   server, benchmarks/pin_timing.py, also tells each request's own check, subtracted as a
   cross-check), with the rate limits in the SQLite file (one host's setting, the default)
   and in a local Redis (several hosts' setting), and with 50 staff PINs in the program against
   1 (target: p50 ratio at most 1.1);
5. points earning and redemption through their routes;
6. the outbox's commit-to-delivery delay; `verify-ledger` after the HTTP runs;
7. the wallets: benchmarks/apple_wallet.py (.pkpass build, "passes updated since" among 100 000
   registrations, stamp to APNs push) and benchmarks/google_wallet.py (stamp to Google PATCH).

Then the modules of MODULES, in order, on the same PostgreSQL (see "The module interface").

## The module interface

A module `benchmarks/<name>.py` named in MODULES exposes `run(ctx: BenchContext) -> list[dict]`:
the rows it adds to the report, each a dict of ROW_KEYS:

- "figure": what was measured, with its conditions ("statistics, vendor, 1 000 000 rows, p50");
- "value": a number (int or float) or a short text;
- "unit": "ms", "/s", "ratio", "" ...;
- "target": the target as text ("under 100 ms", "at least 0.4"), "" when there is none;
- "met": True or False against the target, None when there is none.

A module may also set TITLE (its section's heading in the report; default: the first line of its
docstring). Modules run in MODULES' order, after the hot path; each gets the context below and
may create its own data (its own vendor) on the database. A name in MODULES whose file is not
there is reported as a row "not measured", marked not met: the report never hides a figure.
"""

import importlib
import json
import multiprocessing
import os
import platform
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from pg_test_cluster import temporary_cluster  # noqa: E402
from redis_test_server import temporary_redis  # noqa: E402

from benchmarks import apple_wallet, google_wallet  # noqa: E402

# The modules run after the hot path, in this order (see "The module interface" above).
MODULES = ("statistics_bench", "lookup_bench", "faults_bench")
ROW_KEYS = ("figure", "value", "unit", "target", "met")

FAST_CARDS = 60_000  # stamp program without PIN: one card per request across a round's runs
POINTS_CARDS = 20_000
PIN_CARDS = 5_000  # a PIN stamp costs a bcrypt check: few per second
STAFF_PINS_MANY = 50
CLIENT_COUNTS = (1, 8, 32)
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
HTTP_WORKERS = int(os.environ.get("BENCH_HTTP_WORKERS", "3"))
SERVICE_PROCESSES = 8
PIN_BCRYPT_ROUNDS = 10
RATIO_TARGET = 0.4
PIN_OVERHEAD_TARGET_MS = 10.0
MANY_PINS_RATIO_TARGET = 1.1
POINTS_PER_CARD = 100  # seeded on each points card (as ledger rows) for the redemption runs
REWARD_COST = 10

# Production-like settings (create_app refuses the development defaults outside debug); the
# pepper must be the same in this process, which creates the PINs, and in the servers' workers.
BENCH_SECRETS = {
    "SECRET_KEY": "bench-secret-key-" + "k" * 32,
    "PIN_PEPPER": "bench-pin-pepper-" + "p" * 32,
}

# The servers compared; each serves a WSGI app (wsgi:app) on PORT with HTTP_WORKERS processes.
PORT = 5099
SERVERS = {
    "gunicorn sync": lambda app: [
        sys.executable, "-m", "gunicorn", "-w", str(HTTP_WORKERS), "-b", f"127.0.0.1:{PORT}",
        "--log-level", "warning", app,
    ],
    "gunicorn gthread": lambda app: [
        sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(HTTP_WORKERS),
        "--threads", "4", "-b", f"127.0.0.1:{PORT}", "--log-level", "warning", app,
    ],
    "granian": lambda app: [  # 4 blocking threads per worker, like gthread's
        str(Path(sys.executable).parent / "granian"), "--interface", "wsgi",
        "--workers", str(HTTP_WORKERS), "--blocking-threads", "4", "--host", "127.0.0.1",
        "--port", str(PORT), "--no-access-log", "--log-level", "warning", app,
    ],
}  # fmt: skip
PIN_SERVER = "gunicorn sync"
# Where the CPU per stamp is measured, beside pgbench's per transaction (the Procfile's server).
CPU_SERVER, CPU_CLIENTS = "gunicorn gthread", 8


@dataclass
class BenchContext:
    """What a module gets: the database (SQLAlchemy URL and the cluster: .port, .database,
    .url), `app_for(url, **config)` to build the app with the bench's production-like settings,
    the run's seconds per measurement and rounds, the hot path's setup (vendor and card ids) and
    `results`, the hot path's raw figures (pgbench's rate at each client count)."""

    url: str
    cluster: Any
    app_for: Any
    seconds: int
    rounds: int
    setup: dict
    results: dict = field(default_factory=dict)


def row(figure: str, value, unit: str = "", target: str = "", met: bool | None = None) -> dict:
    return {"figure": figure, "value": value, "unit": unit, "target": target, "met": met}


def app_for(url: str, **config):
    from loyalty_portal import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, **BENCH_SECRETS, **config})


# --------------------------------------------------------------------------------- data


def _bulk_cards(program_id: int, vendor_id: int, cards: int) -> None:
    from sqlalchemy import text

    from loyalty_portal.extensions import db

    db.session.execute(
        text(
            "INSERT INTO customers (vendor_id, name, email, created_at)"
            " SELECT :vendor, 'Bench ' || g, 'bench' || g || '-' || :vendor || '@example.com',"
            " now() FROM generate_series(1, :cards) g"
        ),
        {"vendor": vendor_id, "cards": cards},
    )
    db.session.execute(
        text(
            "INSERT INTO loyalty_cards (program_id, customer_id, card_number, public_token,"
            " stamp_count, points_balance, total_stamps_earned, total_stamps_redeemed,"
            " total_points_earned, total_points_redeemed, total_rewards_redeemed, is_active,"
            " created_at, updated_at, apple_serial_number, apple_auth_token)"
            " SELECT :program, c.id, lpad((:program * 1000000 + c.id)::text, 12, '0'),"
            " md5('t' || c.id), 0, 0, 0, 0, 0, 0, 0, true, now(), now(), md5('s' || c.id), 'x'"
            " FROM customers c WHERE c.vendor_id = :vendor"
        ),
        {"program": program_id, "vendor": vendor_id},
    )


def _staff_pins(vendor_id: int, count: int) -> list[tuple[int, str]]:
    """`count` PINs with distinct, non-trivial values; (id, pin) of each."""
    from loyalty_portal.errors import LoyaltyError
    from loyalty_portal.services import pin_service

    pins, candidate = [], 4827
    while len(pins) < count:
        try:
            pin = str(candidate)
            pins.append((pin_service.create_pin(vendor_id, f"Staff {len(pins)}", pin).id, pin))
        except LoyaltyError:
            pass
        candidate += 37
    return pins


def prepare(url: str) -> dict:
    """Schema by migrations; four vendors: a stamp program without PIN, one with 1 staff PIN, one
    with 50, a points program without PIN; their cards in bulk; an API key each."""
    import flask_migrate
    from sqlalchemy import text

    from loyalty_portal.extensions import db
    from loyalty_portal.services import api_key_service, program_service, vendor_service

    app = app_for(url, PIN_BCRYPT_ROUNDS=PIN_BCRYPT_ROUNDS)
    setup = {}
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        programs = {
            "fast": ("stamps", FAST_CARDS, {"require_staff_pin": False}, 0),
            "pin1": ("stamps", PIN_CARDS, {}, 1),
            "pin50": ("stamps", PIN_CARDS, {}, STAFF_PINS_MANY),
            "points": (
                "points",
                POINTS_CARDS,
                {
                    "require_staff_pin": False,
                    "points_per_currency_unit": 1,
                    "points_rewards": [
                        {"id": "coffee", "name": "Coffee", "points_cost": REWARD_COST,
                         "active": True}
                    ],
                },
                0,
            ),
        }  # fmt: skip
        for name, (kind, cards, settings, pins) in programs.items():
            vendor = vendor_service.create_vendor(f"bench-{name}", f"Bench {name}")
            if kind == "stamps":
                settings = {"stamps_target": 10, **settings}
            program = program_service.create_program(vendor.id, kind, name, **settings)
            _bulk_cards(program.id, vendor.id, cards)
            staff = _staff_pins(vendor.id, pins)
            db.session.commit()
            first_card = db.session.scalar(
                text("SELECT min(id) FROM loyalty_cards WHERE program_id = :p"), {"p": program.id}
            )
            setup[name] = {
                "vendor": vendor.id,
                "program": program.id,
                "first_card": first_card,
                "cards": cards,
                # The PIN in the middle of the list: a linear search would show.
                "staff": staff[len(staff) // 2] if staff else None,
                "api_key": api_key_service.create_key(vendor.id, "bench").secret,
            }
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    return setup


STRAGGLERS_QUIET_SECONDS = 0.3


def _wait_for_stragglers(conn, limit_seconds: float = 10.0) -> None:
    """Wait until the ledger stops growing. Requests of a load run still queued in the server's
    listen backlog when wrk stops are served all the same (a sync worker takes them from the
    queue when it is free); a card one of them stamps after the reset would be refused its next
    stamp (cooldown) in the following run."""
    latest = "SELECT max(id) FROM loyalty_transactions"
    deadline = time.monotonic() + limit_seconds
    last = conn.execute(latest).fetchone()[0]
    while time.monotonic() < deadline:
        time.sleep(STRAGGLERS_QUIET_SECONDS)
        current = conn.execute(latest).fetchone()[0]
        if current == last:
            return
        last = current


def reset(url: str, setup: dict) -> None:
    """Back to the start, once the last run's stragglers are served: no ledger, no outbox, every
    card empty; points cards hold POINTS_PER_CARD points, given by ledger rows so that
    verify-ledger agrees."""
    import psycopg

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        _wait_for_stragglers(conn)
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        # The ledger's triggers refuse TRUNCATE; the benchmark's superuser turns them off here.
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("TRUNCATE loyalty_transactions, outbox_messages, program_daily_activity")
        conn.execute("SET LOCAL session_replication_role = DEFAULT")
        conn.execute(
            "UPDATE loyalty_cards SET stamp_count = 0, points_balance = 0,"
            " total_stamps_earned = 0, total_stamps_redeemed = 0, total_points_earned = 0,"
            " total_points_redeemed = 0, total_rewards_redeemed = 0, last_stamp_at = NULL"
            " WHERE last_stamp_at IS NOT NULL OR points_balance <> 0 OR stamp_count <> 0"
            " OR total_points_earned <> 0"
        )
        points = setup["points"]["program"]
        conn.execute(
            "INSERT INTO loyalty_transactions (program_id, card_id, transaction_type,"
            " stamps_delta, points_delta, stamps_balance_after, points_balance_after,"
            " purchase_amount_cents, created_at)"
            " SELECT program_id, id, 'points_earned', 0, %(points)s, 0, %(points)s,"
            " %(points)s * 100, now() - interval '2 days' FROM loyalty_cards"
            " WHERE program_id = %(program)s",
            {"points": POINTS_PER_CARD, "program": points},
        )
        conn.execute(
            "UPDATE loyalty_cards SET points_balance = %(points)s,"
            " total_points_earned = %(points)s WHERE program_id = %(program)s",
            {"points": POINTS_PER_CARD, "program": points},
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE loyalty_cards, loyalty_transactions")


def count_ledger_mismatches(url: str) -> int:
    """`flask loyalty verify-ledger` on what the load wrote: speed must not cost correctness."""
    from loyalty_portal.extensions import db
    from loyalty_portal.services.ledger_audit import verify_ledger

    app = app_for(url)
    with app.app_context():
        mismatches = len(verify_ledger())
        db.engine.dispose()
    return mismatches


# ------------------------------------------------------------------------- CPU per operation

_TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
CPU_SETTLE_SECONDS = 1.0


def _own_and_reaped_ticks(pid: int) -> int:
    """utime + stime of the process and of its children it has waited for (/proc/PID/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone meanwhile
        return 0
    return sum(int(value) for value in fields[11:15])


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(child) for child in found.split()]


def tree_cpu_ms(pid: int) -> float:
    """CPU the process and its children used so far, ended children included (PostgreSQL's
    postmaster waits for the backends of closed connections; gunicorn's arbiter for workers)."""
    return _TICK_MS * (
        _own_and_reaped_ticks(pid) + sum(_own_and_reaped_ticks(c) for c in _children(pid))
    )


def postmaster_pid(cluster) -> int:
    return int(Path(cluster.data_dir, "postmaster.pid").read_text().split()[0])


def children_cpu_ms() -> float:
    """CPU of this process's ended children (the load generator run by subprocess.run)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def cpu_per_operation(run, operations, *, cluster, server: "Server | None" = None) -> tuple:
    """`run()`'s result and the CPU per operation (ms) of each party: PostgreSQL, the app
    server's processes (when given) and the load generator. `operations(result)` is how many
    operations the run completed."""
    postgres = postmaster_pid(cluster)
    # A backend's CPU reaches its postmaster's count when the postmaster reaps it, a moment after
    # its connection closed: let the reset's backend land before, and the load's before after.
    time.sleep(CPU_SETTLE_SECONDS)
    before = (tree_cpu_ms(postgres), server.cpu_ms() if server else 0.0, children_cpu_ms())
    result = run()
    time.sleep(CPU_SETTLE_SECONDS)
    after = (tree_cpu_ms(postgres), server.cpu_ms() if server else 0.0, children_cpu_ms())
    count = max(1, operations(result))
    used = [(end - start) / count for start, end in zip(before, after, strict=True)]
    return result, dict(zip(("postgres", "app", "load"), used, strict=True))


# --------------------------------------------------------------------------------- pgbench


def run_pgbench(cluster, clients: int, cards: int) -> float:
    out = subprocess.run(
        [
            "pgbench", "-n", "-c", str(clients), "-j", str(min(2, clients)), "-T", str(SECONDS),
            "-D", f"cards={cards}", "-f", str(ROOT / "benchmarks" / "pgbench_stamp.sql"),
            "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", cluster.database,
        ],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def run_pgbench_counted(cluster, clients: int, cards: int) -> dict:
    """run_pgbench with the CPU per transaction of PostgreSQL and of pgbench itself."""
    count = {}

    def run():
        tps = run_pgbench(cluster, clients, cards)
        count["transactions"] = tps * SECONDS
        return tps

    tps, cpu = cpu_per_operation(run, lambda _: count["transactions"], cluster=cluster)
    return {"tps": tps, "cpu": cpu}


# --------------------------------------------------------------------------------- service layer


def _service_worker(url, vendor_id, first_card, worker, workers, ready, queue):
    from loyalty_portal.services import stamp_service
    from loyalty_portal.services.ledger import Actor

    app = app_for(url)
    actor = Actor(client_ip="127.0.0.1", user_agent="bench")
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


def run_service(url, fast: dict, workers=SERVICE_PROCESSES) -> float:
    queue = multiprocessing.Queue()
    ready = multiprocessing.Barrier(workers + 1)
    processes = [
        multiprocessing.Process(
            target=_service_worker,
            args=(url, fast["vendor"], fast["first_card"], w, workers, ready, queue),
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


# --------------------------------------------------------------------------------- HTTP

WRK_SCRIPT = """
-- Every request goes to a card no other request touches, so each one passes every rule.
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
  return wrk.format('POST', '/api/v1/vendor/loyalty/cards/' .. card .. '%(suffix)s', {
    ['Authorization'] = 'Bearer %(key)s',
    ['Content-Type'] = 'application/json',
  }, '%(body)s')
end
"""

_WRK_DURATION = re.compile(r"([\d.]+)(us|ms|s|m|h)")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def _ms(text: str) -> float:
    found = _WRK_DURATION.fullmatch(text)
    if found is None:
        raise ValueError(f"wrk printed a latency this bench cannot read: {text!r}")
    number, unit = found.groups()
    return float(number) * _UNIT_MS[unit]


class Server:
    """One of SERVERS serving `app` on PORT for the bench's database."""

    def __init__(self, name: str, url: str, app: str = "wsgi:app", **settings: str):
        env = dict(
            os.environ,
            DATABASE_URL=url,
            WEB_CONCURRENCY=str(HTTP_WORKERS),
            PIN_BCRYPT_ROUNDS=str(PIN_BCRYPT_ROUNDS),
            **BENCH_SECRETS,
            **settings,
        )
        self.process = subprocess.Popen(SERVERS[name](app), cwd=ROOT, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # up when it answers
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/v1/openapi.json"):
                    break
            except OSError:
                time.sleep(0.3)
        time.sleep(0.5)

    def cpu_ms(self) -> float:
        return tree_cpu_ms(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


def run_wrk(program: dict, clients: int, suffix: str, body: str) -> dict:
    threads = min(2, clients)
    script = Path(tempfile.mkdtemp()) / "bench.lua"
    script.write_text(
        WRK_SCRIPT
        % {
            "first": program["first_card"],
            "threads": threads,
            "cards": program["cards"],
            "suffix": suffix,
            "key": program["api_key"],
            "body": body,
        }
    )
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{SECONDS}s", "-s", str(script),
         "--latency", f"http://127.0.0.1:{PORT}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        # The latency distribution's own lines ("    50%   1.23ms"), not a stdev column's "87.50%".
        "p50_ms": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99_ms": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


PIN_CHECKS = int(os.environ.get("BENCH_PIN_CHECKS", "120"))  # per round, after 10 to warm up
_WARM_UP = 10


def _post_once(path: str, program: dict, body: bytes) -> tuple[float, bytes]:
    """One request on a connection of its own (as wrk's against sync workers, which close it):
    the milliseconds to the last byte of the answer, and the answer."""
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\n"
        f"Authorization: Bearer {program['api_key']}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", PORT)) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return (time.perf_counter() - started) * 1000, b"".join(chunks)


def run_pin_overhead(program: dict, body: str, checks: int = PIN_CHECKS) -> dict:
    """PIN-confirmed stamps at one client, each followed at once by a bare bcrypt check at the
    same cost in this process, so the two are timed under the same load (bcrypt's speed drifts
    by 10 % in minutes here). The server is benchmarks/pin_timing.py's app, which also tells the
    time of each request's own check. Returns the p50s and both differences."""
    import bcrypt

    pin = BENCH_SECRETS["PIN_PEPPER"].encode() + b"4827"
    hashed = bcrypt.hashpw(pin, bcrypt.gensalt(PIN_BCRYPT_ROUNDS))
    latencies, bare, own = [], [], []
    for number in range(checks + _WARM_UP):
        card = program["first_card"] + number % program["cards"]
        latency, answer = _post_once(
            f"/api/v1/vendor/loyalty/cards/{card}/stamps", program, body.encode()
        )
        if not answer.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"a PIN stamp was refused: {answer[:300]!r}")
        started = time.perf_counter()
        bcrypt.checkpw(pin, hashed)
        if number >= _WARM_UP:
            latencies.append(latency)
            bare.append((time.perf_counter() - started) * 1000)
            own.append(latency - float(re.search(rb"X-Bench-Bcrypt-Ms: ([\d.]+)", answer)[1]))
    p50, bare_p50 = statistics.median(latencies), statistics.median(bare)
    return {
        "p50_ms": p50,
        "bare_ms": bare_p50,
        "overhead_ms": p50 - bare_p50,
        "own_overhead_ms": statistics.median(own),
    }


# --------------------------------------------------------------------------------- outbox delay

DELAY_RATE = int(os.environ.get("BENCH_DELAY_RATE", "100"))  # stamps per second, steady
DELAY_SECONDS = 10
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


def run_delivery_delay(url, fast: dict) -> dict:
    """Commit-to-delivery delay of stamps at DELAY_RATE per second with a worker running."""
    import psycopg

    started, stop = multiprocessing.Event(), multiprocessing.Event()
    queue = multiprocessing.Queue()
    worker = multiprocessing.Process(target=_delivery_worker, args=(url, started, stop, queue))
    worker.start()
    started.wait(60)
    count = DELAY_RATE * DELAY_SECONDS // DELAY_STAMPERS
    ready = multiprocessing.Barrier(DELAY_STAMPERS)
    stampers = [
        multiprocessing.Process(
            target=_paced_stamper,
            args=(url, fast["vendor"], fast["first_card"], offset, ready, count),
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
        "p50_ms": cuts[49] * 1000,
        "p95_ms": cuts[94] * 1000,
    }


# --------------------------------------------------------------------------------- the run


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def measure_hot_path(cluster, url: str, setup: dict, redis_url: str) -> dict:
    """ROUNDS rounds; in each: pgbench at every client count, the service layer, every server at
    every client count, the PIN and points runs. Returns every run's figures."""
    fast, points = setup["fast"], setup["points"]
    runs: dict[str, list] = {}

    def note(key, value):
        runs.setdefault(key, []).append(value)
        print(f"  {key}: {value}", flush=True)

    stamp_pin = {name: json.dumps({"staff_pin_id": setup[name]["staff"][0],
                                   "pin": setup[name]["staff"][1]})
                 for name in ("pin1", "pin50")}  # fmt: skip
    for round_number in range(1, ROUNDS + 1):
        print(f"round {round_number} of {ROUNDS}", flush=True)
        reset(url, setup)
        for clients in CLIENT_COUNTS:
            if clients == CPU_CLIENTS:
                counted = run_pgbench_counted(cluster, clients, FAST_CARDS)
                note(f"pgbench/{clients}", counted["tps"])
                note("cpu/pgbench", counted["cpu"])
            else:
                note(f"pgbench/{clients}", run_pgbench(cluster, clients, FAST_CARDS))
        reset(url, setup)
        note("service/8", run_service(url, fast))
        for server_name in SERVERS:
            server = Server(server_name, url)
            try:
                for clients in CLIENT_COUNTS:
                    reset(url, setup)
                    if (server_name, clients) == (CPU_SERVER, CPU_CLIENTS):
                        http, cpu = cpu_per_operation(
                            lambda clients=clients: run_wrk(fast, clients, "/stamps", "{}"),
                            lambda result: result["requests"],
                            cluster=cluster,
                            server=server,
                        )
                        note("cpu/http", cpu)
                    else:
                        http = run_wrk(fast, clients, "/stamps", "{}")
                    note(f"http/{server_name}/{clients}", http)
                if server_name == PIN_SERVER:
                    last = round_number == ROUNDS
                    if last:  # the last stamp run of the run: its ledger is checked
                        note("mismatches/stamps", count_ledger_mismatches(url))
                    reset(url, setup)
                    for name in ("pin1", "pin50"):
                        note(f"pin/{name}/1", run_wrk(setup[name], 1, "/stamps", stamp_pin[name]))
                    reset(url, setup)
                    note("pin/pin1/8", run_wrk(setup["pin1"], 8, "/stamps", stamp_pin["pin1"]))
                    earn = json.dumps({"purchase_amount_cents": 500})
                    note("points/earn/8", run_wrk(points, 8, "/points", earn))
                    reset(url, setup)
                    redeem = json.dumps({"reward_id": "coffee"})
                    note("points/redeem/8", run_wrk(points, 8, "/points/redeem", redeem))
                    if last:
                        note("mismatches/points", count_ledger_mismatches(url))
            finally:
                server.stop()
        for key, settings in (("pin/overhead", {}),
                              ("pin/overhead/redis", {"RATELIMIT_STORAGE_URI": redis_url})):
            reset(url, setup)
            server = Server(PIN_SERVER, url, app="benchmarks.pin_timing:app", **settings)
            try:
                note(key, run_pin_overhead(setup["pin1"], stamp_pin["pin1"]))
            finally:
                server.stop()
    reset(url, setup)
    note("delivery", run_delivery_delay(url, fast))
    return runs


def pin_overhead_row(pin: list[dict], storage: str) -> dict:
    overhead = _median(pin, "overhead_ms")
    by_round = " / ".join(f"{r['overhead_ms']:.1f}" for r in pin)
    return row(
        f"stamp with a staff PIN (bcrypt cost {PIN_BCRYPT_ROUNDS}), {PIN_SERVER}, 1 client,"
        f" {storage}: p50 {_median(pin, 'p50_ms'):.1f} ms minus a bare bcrypt check's p50"
        f" {_median(pin, 'bare_ms'):.1f} ms, each check timed right after a stamp"
        f" ({PIN_CHECKS} a round) [rounds {by_round} ms; the request's own check subtracted"
        f" instead: {_median(pin, 'own_overhead_ms'):.1f} ms]",
        round(overhead, 1),
        "ms",
        f"at most {PIN_OVERHEAD_TARGET_MS:.0f} ms",
        overhead <= PIN_OVERHEAD_TARGET_MS,
    )


def hot_path_rows(runs: dict) -> list[dict]:
    rows = []
    pgbench = {c: statistics.median(runs[f"pgbench/{c}"]) for c in CLIENT_COUNTS}
    for clients in CLIENT_COUNTS:
        figure = f"pgbench, bare stamp transaction, {clients} clients"
        rows.append(row(figure, round(pgbench[clients]), "/s"))
    service = statistics.median(runs["service/8"])
    rows.append(
        row(
            "stamp_service.add_stamp, every rule, 8 processes, no HTTP (ratio to pgbench at 8)",
            round(service / pgbench[8], 2),
            f"ratio ({service:,.0f}/s)",
        )
    )
    for server_name in SERVERS:
        for clients in CLIENT_COUNTS:
            http = runs[f"http/{server_name}/{clients}"]
            rps = _median(http, "rps")
            ratio = rps / pgbench[clients]
            rows.append(
                row(
                    f"POST …/cards/<id>/stamps, API key, no PIN, {server_name}"
                    f" ({HTTP_WORKERS} workers), {clients} client{'s' if clients > 1 else ''}:"
                    f" ratio to pgbench [{rps:,.0f}/s; p50 {_median(http, 'p50_ms'):.1f} ms,"
                    f" p99 {_median(http, 'p99_ms'):.1f} ms; non-2xx"
                    f" {sum(r['errors'] for r in http)}]",
                    round(ratio, 2),
                    "ratio",
                    f"at least {RATIO_TARGET}",
                    ratio >= RATIO_TARGET,
                )
            )
    rows += cpu_rows(runs)
    one, many = runs["pin/pin1/1"], runs["pin/pin50/1"]
    rows.append(pin_overhead_row(runs["pin/overhead"], "rate limits in the SQLite file"))
    rows.append(pin_overhead_row(runs["pin/overhead/redis"], "rate limits in a local Redis"))
    ratio = _median(many, "p50_ms") / _median(one, "p50_ms")
    rows.append(
        row(
            f"stamp with a staff PIN, {STAFF_PINS_MANY} staff PINs in the program against 1:"
            f" ratio of p50 [{_median(many, 'p50_ms'):.1f} ms against"
            f" {_median(one, 'p50_ms'):.1f} ms]",
            round(ratio, 2),
            "ratio",
            f"at most {MANY_PINS_RATIO_TARGET}",
            ratio <= MANY_PINS_RATIO_TARGET,
        )
    )
    pin8 = runs["pin/pin1/8"]
    rows.append(
        row(
            f"stamp with a staff PIN, 8 clients, {PIN_SERVER} (bcrypt-bound: 2 cores)"
            f" [p50 {_median(pin8, 'p50_ms'):.0f} ms, p99 {_median(pin8, 'p99_ms'):.0f} ms]",
            round(_median(pin8, "rps")),
            "/s",
        )
    )
    for kind, what in (("earn", "earn points (5 € purchase)"), ("redeem", "redeem a reward")):
        figures = runs[f"points/{kind}/8"]
        rps = _median(figures, "rps")
        ratio = rps / pgbench[8]
        rows.append(
            row(
                f"POST …/cards/<id>/points{'/redeem' if kind == 'redeem' else ''}: {what},"
                f" no PIN, {PIN_SERVER}, 8 clients: ratio to pgbench [{rps:,.0f}/s;"
                f" p50 {_median(figures, 'p50_ms'):.1f} ms, p99 {_median(figures, 'p99_ms'):.1f}"
                f" ms; non-2xx {sum(r['errors'] for r in figures)}]",
                round(ratio, 2),
                "ratio",
                f"at least {RATIO_TARGET}",
                ratio >= RATIO_TARGET,
            )
        )
    mismatches = runs["mismatches/stamps"][0] + runs["mismatches/points"][0]
    rows.append(
        row(
            "ledger mismatches found by verify-ledger after the stamp and points runs",
            mismatches, "", "0", mismatches == 0,
        )
    )  # fmt: skip
    delay = runs["delivery"][0]
    rows.append(
        row(
            f"outbox: commit to delivery, instant handler, {DELAY_RATE} stamps/s for"
            f" {DELAY_SECONDS} s, 1 worker, p95 ({delay['delivered']:,} of"
            f" {delay['stamps']:,} delivered; p50 {delay['p50_ms']:.0f} ms)",
            round(delay["p95_ms"]),
            "ms",
        )
    )
    return rows


def cpu_rows(runs: dict) -> list[dict]:
    """Where a stamp's CPU goes, beside a pgbench transaction's: on a machine whose cores run
    load generator, app and database at once, throughput follows the sum."""

    def parts(key):
        return {party: statistics.median(r[party] for r in runs[key]) for party in runs[key][0]}

    http, bare = parts("cpu/http"), parts("cpu/pgbench")
    route_ms, bare_ms = sum(http.values()), sum(bare.values())
    return [
        row(
            f"CPU per stamp through HTTP, {CPU_SERVER}, {CPU_CLIENTS} clients: app"
            f" {http['app']:.2f} ms + PostgreSQL {http['postgres']:.2f} ms + wrk"
            f" {http['load']:.2f} ms",
            round(route_ms, 2),
            "ms",
        ),
        row(
            f"CPU per pgbench transaction, {CPU_CLIENTS} clients: PostgreSQL"
            f" {bare['postgres']:.2f} ms + pgbench {bare['load']:.2f} ms",
            round(bare_ms, 2),
            "ms",
        ),
        row(
            "CPU per stamp over CPU per pgbench transaction (when both fill the cores, the"
            " throughput ratio cannot pass its inverse)",
            round(route_ms / bare_ms, 1),
            "times",
        ),
    ]


def apple_wallet_rows(results: dict) -> list[dict]:
    pkpass, listing, push = results["pkpass"], results["updated_since"], results["stamp_to_push"]
    return [
        row(
            f"build and sign one .pkpass ({apple_wallet.PASSES_BUILT} passes), p95"
            f" (mean {pkpass['mean_ms']:.1f} ms)",
            round(pkpass["p95_ms"], 1), "ms", "under 20 ms", pkpass["p95_ms"] < 20,
        ),
        row(
            f"passes updated since, one device, {apple_wallet.REGISTRATIONS:,} registrations"
            f" ({apple_wallet.LISTINGS} calls), p50 (p95 {listing['p95_ms']:.1f} ms)",
            round(listing["p50_ms"], 2), "ms", "under 10 ms", listing["p50_ms"] < 10,
        ),
        row(
            f"stamp commit to APNs push received, worker + local HTTP/2 APNs"
            f" ({push['pushes']} stamps), p95 (p50 {push['p50_ms']:.0f} ms)",
            round(push["p95_ms"]), "ms", "under 2 s", push["p95_ms"] < 2000,
        ),
    ]  # fmt: skip


def google_wallet_rows(results: dict) -> list[dict]:
    return [
        row(
            f"stamp commit to Google LoyaltyObject PATCH received, worker + local Google"
            f" ({results['patches']} of {results['stamps']} stamps), p95"
            f" (p50 {results['p50_ms']:.0f} ms)",
            round(results["p95_ms"]), "ms", "under 2 s",
            results["patches"] == results["stamps"] and results["p95_ms"] < 2000,
        )
    ]  # fmt: skip


def run_modules(ctx: BenchContext) -> list[tuple[str, list[dict]]]:
    sections = []
    for name in MODULES:
        if not (ROOT / "benchmarks" / f"{name}.py").exists():
            sections.append(
                (name, [row(f"benchmarks/{name}.py is not on this branch", "not measured",
                            met=False)])
            )  # fmt: skip
            continue
        print(f"module {name}", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        rows = module.run(ctx)
        for r in rows:
            missing = set(ROW_KEYS) - set(r)
            if missing:
                raise ValueError(f"{name}: a row without {sorted(missing)}: {r}")
        title = getattr(module, "TITLE", None) or (module.__doc__ or name).strip().splitlines()[0]
        sections.append((title, rows))
    return sections


def machine() -> dict:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else ""
    postgres = subprocess.run(["pgbench", "--version"], capture_output=True, text=True).stdout
    return {
        "host": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "postgresql": postgres.strip().split()[-1] if postgres else "?",
        "load": os.getloadavg(),
    }


def main() -> None:
    # Every process the run starts (servers, `flask loyalty worker`) inherits them.
    os.environ.update(BENCH_SECRETS)
    started = time.monotonic()
    before = machine()
    with temporary_cluster(database="loyalty_bench", fast=False) as cluster, \
            temporary_redis() as redis_url:
        url = cluster.url
        setup = prepare(url)
        runs = measure_hot_path(cluster, url, setup, redis_url)
        sections = [("Stamp hot path", hot_path_rows(runs))]
        reset(url, setup)
        sections.append(
            ("Apple Wallet", apple_wallet_rows(apple_wallet.run(url, app_for)))
        )
        sections.append(
            ("Google Wallet", google_wallet_rows(google_wallet.run(url, app_for)))
        )
        ctx = BenchContext(
            url, cluster, app_for, SECONDS, ROUNDS, setup,
            results={"pgbench": {c: statistics.median(runs[f"pgbench/{c}"])
                                 for c in CLIENT_COUNTS}},
        )  # fmt: skip
        sections += run_modules(ctx)
    after = machine()
    print(json.dumps(sections, indent=2, default=str))
    write_report(sections, before, after, time.monotonic() - started)


def _value(r: dict) -> str:
    value = r["value"]
    if isinstance(value, float):
        text = f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return f"{text} {r['unit']}".strip() if r["unit"] != "ratio" else text


def _met(met: bool | None) -> str:
    return "" if met is None else ("met" if met else "**not met**")


def write_report(sections, before: dict, after: dict, elapsed: float) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.1f}" for x in before["load"])
    load_after = ", ".join(f"{x:.1f}" for x in after["load"])
    text = [
        "## Latest run",
        "",
        f"{stamp}, {before['host']}: {before['cores']} cores ({before['cpu']}), Python"
        f" {before['python']}, PostgreSQL {before['postgresql']} with fsync on. Load average"
        f" (1, 5, 15 min) {load} at the start and {load_after} at the end: the machine is"
        " shared, so compare the ratios, not the rates. Each throughput is the median of"
        f" {ROUNDS} rounds of {SECONDS} s; the whole run took {elapsed / 60:.0f} min.",
        "",
    ]
    for title, rows in sections:
        text += [f"### {title}", "", "| figure | value | target | |", "|---|---|---|---|"]
        text += [
            f"| {r['figure']} | {_value(r)} | {r['target']} | {_met(r['met'])} |" for r in rows
        ]
        text.append("")
    section = "\n".join(text)
    path = ROOT / "docs" / "performance.md"
    current = path.read_text() if path.exists() else ""
    marker = "## Latest run"
    head = current.split(marker)[0] if marker in current else current
    path.write_text(head.rstrip() + "\n\n" + section)
    print(section)


if __name__ == "__main__":
    main()
