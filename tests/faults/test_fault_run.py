"""The quick fault run of benchmarks/faults_bench.py (make bench runs the long one): stamps,
points, rewards and voids from several processes while PostgreSQL restarts twice and the outbox
worker is killed with SIGKILL; then nothing is lost, doubled or let through. It starts a server
of its own (it restarts it), so it runs in the PostgreSQL pass only."""

import pytest

from benchmarks import faults_bench

pytestmark = pytest.mark.postgres_only


def test_a_mixed_load_survives_restarts_and_a_killed_worker():
    outcome = faults_bench.fault_run(durable=False, clients=4, seconds=12.0, cards=8)
    summary = {key: value for key, value in outcome.items() if key != "ledger_rows_by_kind"}
    assert outcome["connection_errors_retried"] > 0, summary  # the restarts reached the clients
    assert outcome["operations_acknowledged"] > 50, summary
    assert outcome["verify_ledger_exit"] == 0, outcome["verify_ledger_output"]
    assert outcome["negative_balances"] == 0, summary
    assert outcome["stamps_closer_than_cooldown"] == 0, summary
    assert outcome["acknowledged_but_missing"] == 0, summary
    assert outcome["gave_up"] == 0, summary
    assert outcome["replays_checked"] > 0, summary  # answered twice on purpose
    assert outcome["bad_replays"] == 0, summary
    assert outcome["outbox_undelivered"] == 0, summary
    assert len(outcome["events"]) == 4, outcome["events"]
    assert faults_bench.passed(outcome)
