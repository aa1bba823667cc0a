"""The admin's outbox API: failing and dead messages with the queue's counts, and a retry."""

from datetime import timedelta

import pytest

from loyalty_portal.services import outbox
from tests.api.helpers import A, assert_error
from tests.core.outbox_helpers import drain, messages


@pytest.fixture
def dead_and_failing(app, db, frozen_time):
    """A dead message (no handler, maximum age 0) and a failing one."""
    outbox.enqueue("test.nobody", reason="first", card_id=3, coalesce_key="card:3")
    drain(app, settings=outbox.DeliverySettings(max_age=timedelta(0)))
    outbox.enqueue("test.nobody", reason="second", program_id=4)
    drain(app)
    dead, failing = messages()
    return dead, failing


def test_lists_failing_and_dead_messages_with_the_counts(admin_client, dead_and_failing):
    dead, failing = dead_and_failing
    body = admin_client.get(f"{A}/outbox/messages").get_json()
    assert body["counts"] == {"pending": 1, "failing": 1, "dead": 1, "delivered": 0}
    (item,) = body["items"]
    assert (item["id"], item["status"], item["attempts"], item["program_id"]) == (
        failing.id, "pending", 1, 4
    )
    assert "no handler is registered for 'test.nobody'" in item["last_error"]
    assert item["being_delivered"] is False
    (item,) = admin_client.get(f"{A}/outbox/messages?status=dead").get_json()["items"]
    assert (item["id"], item["status"], item["reason"], item["card_id"]) == (
        dead.id, "dead", "first", 3
    )


def test_retry_brings_a_dead_message_back(admin_client, dead_and_failing, frozen_time):
    dead, _ = dead_and_failing
    response = admin_client.post(f"{A}/outbox/messages/{dead.id}/retry")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["status"], body["attempts"], body["last_error"]) == (
        dead.id, "pending", 0, None
    )
    assert body["retried_at"].startswith(frozen_time.now.isoformat()[:19])


def test_retry_refuses_what_is_not_failing_or_unknown(admin_client, dead_and_failing, app):
    outbox.enqueue("test.nobody", reason="fresh")
    waiting = messages(reason="fresh")[0]
    details = assert_error(
        admin_client.post(f"{A}/outbox/messages/{waiting.id}/retry"),
        409,
        "OUTBOX_MESSAGE_NOT_RETRYABLE",
    )
    assert details == {"message_id": waiting.id, "reason": "not_failing"}
    assert_error(
        admin_client.post(f"{A}/outbox/messages/99999/retry"), 404, "OUTBOX_MESSAGE_NOT_FOUND"
    )


def test_only_the_platform_admin_sees_the_outbox(owner_client, dead_and_failing):
    assert owner_client.get(f"{A}/outbox/messages").status_code == 403
    dead, _ = dead_and_failing
    assert owner_client.post(f"{A}/outbox/messages/{dead.id}/retry").status_code == 403
