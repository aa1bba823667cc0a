"""Fault runs (issue 17): a mixed load while the database restarts and the outbox worker is
killed, then proof that nothing was lost, doubled or let through.

On a PostgreSQL server of its own (it restarts it), with `flask loyalty worker` running:

- CLIENTS processes run a mix of stamps, stamp rewards, points earned, points rewards and voids
  (the services every screen and API route calls) on a few cards each shared by all clients,
  so rules are tested under contention: a 1-minute cooldown means at most one stamp per card.
- Every operation carries an idempotency key. On a connection error the client retries the
  same operation with the same key until it gets an answer (what a till or a point-of-sale
  integration does); some successful operations are sent twice on purpose.
- During the run the worker is killed with SIGKILL (holding claims) and PostgreSQL is restarted
  (`pg_ctl restart -m fast`, which ends every connection); later a new worker starts.

Then: `flask loyalty verify-ledger` finds nothing (cards and the daily statistics against the
ledger); no balance or balance-after is negative; no two stamps on a card are closer than the
cooldown; every acknowledged operation is in the ledger once under its key, and every retry of
an acknowledged key answered with the same transaction; every outbox message is delivered once
the worker is back (its dead claims come back after the lease).

    python -m benchmarks.faults_bench            # the make bench version, durable server
    run(ctx) -> rows                             # from benchmarks/run.py (ctx is not needed)

tests/faults/test_fault_run.py runs a short version in `make test` (PostgreSQL pass).
"""

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from pg_test_cluster import PostgresCluster  # noqa: E402

SECRETS = {
    "SECRET_KEY": "faults-secret-key-" + "k" * 32,
    "PIN_PEPPER": "faults-pin-pepper-" + "p" * 32,
}
COOLDOWN_MINUTES = 1
RETRY_FOR_SECONDS = 60.0


def app_for(url: str):
    from loyalty_portal import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, **SECRETS})


def prepare(url: str, cards: int) -> dict:
    """Migrations; a stamp shop (no PIN, 1-minute cooldown, target 3) whose cards start with 6
    stamps so rewards can be taken, and a points shop (coffee for 10 points)."""
    import flask_migrate

    from loyalty_portal.extensions import db
    from loyalty_portal.services import (
        card_service,
        program_service,
        transaction_service,
        vendor_service,
    )
    from loyalty_portal.services.ledger import Actor

    app = app_for(url)
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        stamps = vendor_service.create_vendor("faults-stamps", "Stamps under faults")
        points = vendor_service.create_vendor("faults-points", "Points under faults")
        stamp_program = program_service.create_program(
            stamps.id, "stamps", "Stamps", require_staff_pin=False, stamps_target=3,
            cooldown_minutes=COOLDOWN_MINUTES, max_daily_stamps=5,
        )
        points_program = program_service.create_program(
            points.id, "points", "Points", require_staff_pin=False, points_per_currency_unit=1,
            points_rewards=[{"id": "coffee", "name": "Coffee", "points_cost": 10,
                             "active": True}],
        )
        stamp_cards, points_cards = [], []
        for n in range(cards):
            card = card_service.enrol_customer(
                stamp_program, name=f"S {n}", email=f"s{n}@example.com", consent=True
            ).card
            transaction_service.adjust_balance(stamps.id, card.id, stamps_delta=6,
                                               reason="Start", actor=Actor())
            stamp_cards.append(card.id)
            points_cards.append(card_service.enrol_customer(
                points_program, name=f"P {n}", email=f"p{n}@example.com", consent=True
            ).card.id)
        setup = {"stamps_vendor": stamps.id, "points_vendor": points.id,
                 "stamp_cards": stamp_cards, "points_cards": points_cards}
        db.engine.dispose()
    return setup


def _is_connection_error(error: BaseException) -> bool:
    import psycopg
    import sqlalchemy.exc

    if isinstance(error, sqlalchemy.exc.DBAPIError):
        return bool(error.connection_invalidated) or isinstance(
            error.orig, psycopg.OperationalError | psycopg.InterfaceError
        )
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


def _client(url, setup, client, seconds, seed, queue):
    """One till: random operations until the deadline, each retried with its key on connection
    errors; puts its log on the queue."""
    from loyalty_portal.errors import LoyaltyError
    from loyalty_portal.extensions import db
    from loyalty_portal.services import points_service, stamp_service, transaction_service
    from loyalty_portal.services.ledger import Actor

    rng = random.Random(seed)
    actor = Actor(client_ip="127.0.0.1", user_agent=f"faults-{client}")
    app = app_for(url)
    log = {"done": [], "refused": 0, "connection_errors": 0, "gave_up": 0, "replays": [],
           "answered_by_replay": 0}
    mine: list[tuple[int, int]] = []  # (vendor, transaction id) this client may void

    def operation():
        roll = rng.random()
        if roll < 0.35:
            card = rng.choice(setup["stamp_cards"])
            return "stamp", lambda key: stamp_service.add_stamp(
                setup["stamps_vendor"], card, actor=actor, idempotency_key=key)
        if roll < 0.5:
            card = rng.choice(setup["stamp_cards"])
            return "stamp_reward", lambda key: stamp_service.redeem_reward(
                setup["stamps_vendor"], card, actor=actor, idempotency_key=key)
        if roll < 0.75:
            card, cents = rng.choice(setup["points_cards"]), rng.randrange(300, 2000)
            return "points", lambda key: points_service.earn_points(
                setup["points_vendor"], card, cents, actor=actor, idempotency_key=key)
        if roll < 0.88 or not mine:
            card = rng.choice(setup["points_cards"])
            return "points_reward", lambda key: points_service.redeem_reward(
                setup["points_vendor"], card, "coffee", actor=actor, idempotency_key=key)
        vendor, transaction_id = mine.pop(rng.randrange(len(mine)))
        return "void", lambda key: transaction_service.void_transaction(
            vendor, transaction_id, "fault run", actor=actor, idempotency_key=key)

    def attempt(call, key):
        """The call's answer, retrying through connection errors: a result, a refusal, or
        None when the database stayed away for RETRY_FOR_SECONDS."""
        give_up_at = time.monotonic() + RETRY_FOR_SECONDS
        retried = False
        while True:
            try:
                answer = call(key)
                if retried and answer.replayed:  # the lost answer of a committed first try
                    log["answered_by_replay"] += 1
                return answer
            except LoyaltyError as refusal:
                return refusal
            except Exception as error:
                if not _is_connection_error(error):
                    raise
                log["connection_errors"] += 1
                retried = True
                with contextlib.suppress(Exception):  # the connection is gone
                    db.session.rollback()
                db.session.remove()
                if time.monotonic() > give_up_at:
                    return None
                time.sleep(0.05 + rng.random() * 0.1)

    with app.app_context():
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            n += 1
            key = f"faults-{client}-{n}"
            kind, call = operation()
            answer = attempt(call, key)
            if answer is None:
                log["gave_up"] += 1
            elif isinstance(answer, LoyaltyError):
                log["refused"] += 1
            else:
                log["done"].append((key, kind, answer.transaction_id))
                vendor = (setup["stamps_vendor"] if kind.startswith("stamp")
                          else setup["points_vendor"])
                if kind != "void":
                    mine.append((vendor, answer.transaction_id))
                if rng.random() < 0.1:  # the till did not hear the answer: same key again
                    again = attempt(call, key)
                    if again is not None and not isinstance(again, LoyaltyError):
                        log["replays"].append(
                            (key, answer.transaction_id, again.transaction_id, again.replayed)
                        )
        db.engine.dispose()
    queue.put(log)


def _flask(url: str, *args: str, **popen):
    env = dict(os.environ, DATABASE_URL=url, OUTBOX_LEASE_SECONDS="3",
               OUTBOX_POLL_SECONDS="0.2", **SECRETS)
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "loyalty", *args],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, **popen,
    )


def restart(cluster: PostgresCluster) -> float:
    """`pg_ctl restart -m fast` as the postgres user (every connection ends); its seconds."""
    started = time.perf_counter()
    cluster._run([os.path.join(cluster.bin, "pg_ctl"), "-D", cluster.data_dir, "-l",
                  cluster.log_file, "-m", "fast", "-w", "-t", "60", "restart"])
    return time.perf_counter() - started


def fault_run(*, durable: bool = True, clients: int = 8, seconds: float = 30.0, cards: int = 12,
              kill_worker_at: float = 0.2, restart_at: tuple[float, ...] = (0.35, 0.7),
              worker_back_at: float = 0.55, log=print) -> dict:
    """The whole run; times are fractions of `seconds`. Returns the outcome and its checks."""
    cluster = PostgresCluster(database="loyalty_faults", fast=not durable).start()
    worker_log = open(os.path.join(cluster.base_dir, "worker.log"), "w")  # noqa: SIM115
    try:
        url = cluster.url
        setup = prepare(url, cards)
        worker = _flask(url, "worker", stdout=worker_log, stderr=subprocess.STDOUT)
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        processes = [
            context.Process(target=_client, args=(url, setup, c, seconds, 1000 + c, queue))
            for c in range(clients)
        ]
        for process in processes:
            process.start()
        events: list[tuple[float, str]] = []
        started = time.monotonic()

        def at(fraction: float) -> None:
            time.sleep(max(0.0, started + fraction * seconds - time.monotonic()))

        def faults() -> None:
            nonlocal worker
            plan = sorted([(kill_worker_at, "kill"), (worker_back_at, "back"),
                           *((moment, "restart") for moment in restart_at)])
            for moment, what in plan:
                at(moment)
                if what == "kill":
                    worker.send_signal(signal.SIGKILL)
                    worker.wait()
                    events.append((time.monotonic() - started, "worker killed (SIGKILL)"))
                elif what == "back":
                    worker = _flask(url, "worker", stdout=worker_log, stderr=subprocess.STDOUT)
                    events.append((time.monotonic() - started, "worker started again"))
                else:
                    took = restart(cluster)
                    events.append((time.monotonic() - started,
                                   f"PostgreSQL restarted (-m fast, {took:.1f} s)"))

        chaos = threading.Thread(target=faults)
        chaos.start()
        logs = [queue.get(timeout=seconds + 4 * RETRY_FOR_SECONDS) for _ in processes]
        for process in processes:
            process.join()
        chaos.join()
        drained_after = _wait_for_outbox(url, timeout=60.0)
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        outcome = _check(url, logs, drained_after)
        outcome["events"] = [f"{moment:.1f} s: {what}" for moment, what in events]
        outcome["clients"], outcome["seconds"] = clients, seconds
        return outcome
    finally:
        worker_log.close()
        cluster.stop()


def _wait_for_outbox(url: str, timeout: float) -> float | None:
    """Seconds until no outbox message is left undelivered (None: not within `timeout`)."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        while time.monotonic() - started < timeout:
            left = conn.execute(
                "SELECT count(*) FROM outbox_messages WHERE status <> 'delivered'"
            ).fetchone()[0]
            if left == 0:
                return time.monotonic() - started
            time.sleep(0.2)
    return None


def _check(url: str, logs: list[dict], drained_after: float | None) -> dict:
    import psycopg

    done = [entry for log in logs for entry in log["done"]]
    replays = [entry for log in logs for entry in log["replays"]]
    verify = _flask(url, "verify-ledger", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                    text=True)
    verify_output = verify.communicate(timeout=300)[0]
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        negative = conn.execute(
            "SELECT (SELECT count(*) FROM loyalty_cards WHERE stamp_count < 0"
            " OR points_balance < 0) + (SELECT count(*) FROM loyalty_transactions"
            " WHERE stamps_balance_after < 0 OR points_balance_after < 0)"
        ).fetchone()[0]
        too_close = conn.execute(
            "SELECT count(*) FROM (SELECT created_at - lag(created_at) OVER"
            " (PARTITION BY card_id ORDER BY created_at) AS gap FROM loyalty_transactions"
            " WHERE transaction_type = 'stamp_earned') s WHERE s.gap < make_interval(mins => %s)",
            (COOLDOWN_MINUTES,),
        ).fetchone()[0]
        in_ledger = dict(conn.execute(
            "SELECT idempotency_key, id FROM loyalty_transactions"
            " WHERE idempotency_key LIKE 'faults-%%'"
        ).fetchall())
        undelivered = conn.execute(
            "SELECT count(*) FROM outbox_messages WHERE status <> 'delivered'"
        ).fetchone()[0]
        by_kind = dict(conn.execute(
            "SELECT transaction_type, count(*) FROM loyalty_transactions GROUP BY 1"
        ).fetchall())
    lost = [key for key, _kind, transaction_id in done if in_ledger.get(key) != transaction_id]
    unacknowledged = len(in_ledger) - len(done)  # committed, then the answer was lost for good
    bad_replays = [r for r in replays if r[1] != r[2] or not r[3]]
    return {
        "operations_acknowledged": len(done),
        "refused_by_rules": sum(log["refused"] for log in logs),
        "connection_errors_retried": sum(log["connection_errors"] for log in logs),
        "gave_up": sum(log["gave_up"] for log in logs),
        "retries_answered_by_replay": sum(log["answered_by_replay"] for log in logs),
        "replays_checked": len(replays),
        "bad_replays": len(bad_replays),
        "acknowledged_but_missing": len(lost),
        "in_ledger_without_answer": unacknowledged,
        "ledger_rows_by_kind": by_kind,
        "verify_ledger_exit": verify.returncode,
        "verify_ledger_output": verify_output.strip().splitlines()[-3:],
        "negative_balances": negative,
        "stamps_closer_than_cooldown": too_close,
        "outbox_undelivered": undelivered,
        "outbox_drained_after_s": drained_after,
    }


def passed(outcome: dict) -> bool:
    return (
        outcome["verify_ledger_exit"] == 0
        and outcome["negative_balances"] == 0
        and outcome["stamps_closer_than_cooldown"] == 0
        and outcome["acknowledged_but_missing"] == 0
        and outcome["bad_replays"] == 0
        and outcome["gave_up"] == 0
        and outcome["outbox_undelivered"] == 0
        and outcome["connection_errors_retried"] > 0  # the faults did reach the clients
    )


def run(ctx=None) -> list[dict]:
    outcome = fault_run(durable=True)
    print(json.dumps(outcome, indent=2))
    ok = passed(outcome)
    described = (
        f"fault run: {outcome['clients']} clients, {outcome['seconds']:.0f} s, "
        + "; ".join(outcome["events"])
        + f"; {outcome['operations_acknowledged']} operations acknowledged,"
        f" {outcome['connection_errors_retried']} connection errors retried"
    )
    return [
        {"figure": described, "value": float(ok), "unit": "passed", "met": ok,
         "target": "0 ledger mismatches, no negative balance, no cooldown broken, nothing lost"},
        {"figure": "fault run: ledger mismatches (verify-ledger exit status)",
         "value": float(outcome["verify_ledger_exit"]), "unit": "", "target": "0",
         "met": outcome["verify_ledger_exit"] == 0},
        {"figure": "fault run: outbox drained after the worker came back",
         "value": round(outcome["outbox_drained_after_s"] or -1, 1), "unit": "s",
         "target": "every message delivered", "met": outcome["outbox_undelivered"] == 0},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--fast", action="store_true", help="fsync off (as in the tests)")
    arguments = parser.parse_args()
    outcome = fault_run(durable=not arguments.fast, clients=arguments.clients,
                        seconds=arguments.seconds)
    print(json.dumps(outcome, indent=2))
    raise SystemExit(0 if passed(outcome) else 1)


if __name__ == "__main__":
    main()
