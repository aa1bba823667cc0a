"""Google Wallet through the outbox: a change reaches Google after commit, from the worker, never
inside the cashier's request; Google's 429/5xx are retried with the outbox's backoff, its 400/403
make the message dead at once with Google's words for the admin."""

from datetime import timedelta

import pytest

from loyalty_portal.models import OutboxStatus
from loyalty_portal.services import card_service, google_wallet_service, program_service
from loyalty_portal.services.wallet_service import GOOGLE_OBJECT_CREATE, GOOGLE_UPDATE
from tests.api.helpers import A, V, make_shop, sign_in
from tests.core.outbox_helpers import drain, messages
from tests.factories import make_user


@pytest.fixture
def shop(google_app, db, frozen_time):
    """A stamp shop offering Google Wallet, whose one card the customer already added."""
    found = make_shop("stamps", stamps_target=10, google_wallet_enabled=True)
    google_wallet_service.sync_card(found.card, create=True)
    drain(google_app)  # what the set-up announced (enrolment...) is out of the way
    return found


def stamp(client, shop):
    response = client.post(f"{V}/cards/{shop.card.id}/stamps", json=shop.pin_body(),
                           headers=shop.key_headers)
    assert response.status_code == 200, response.get_json()
    return response


def google_messages():
    return messages(kind=GOOGLE_UPDATE)


def test_a_stamp_reaches_google_from_the_worker_not_the_counter(
    client, google_app, shop, fake_google
):
    fake_google.calls.clear()
    stamp(client, shop)
    assert fake_google.calls == []  # the cashier's request made no call to Google
    drain(google_app)
    (patch,) = fake_google.api_calls()
    assert (patch.method, patch.resource, patch.resource_id) == (
        "PATCH", "loyaltyObject", shop.card.google_object_id
    )
    assert patch.body["loyaltyPoints"]["balance"] == {"string": "1 / 10"}
    assert [m.status for m in google_messages()] == [OutboxStatus.DELIVERED]


def test_a_burst_of_changes_is_one_patch_with_the_final_balance(
    client, google_app, shop, fake_google, frozen_time
):
    program_service.update_program(shop.vendor.id, cooldown_minutes=0)
    drain(google_app)
    fake_google.calls.clear()
    for _ in range(3):
        stamp(client, shop)
    drain(google_app)
    (patch,) = fake_google.api_calls("PATCH", "loyaltyObject")
    assert patch.body["loyaltyPoints"]["balance"] == {"string": "3 / 10"}


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_are_retried_with_backoff(
    client, google_app, shop, fake_google, frozen_time, status
):
    fake_google.fail_next("PATCH", "loyaltyObject", status, "Backend Error")
    stamp(client, shop)
    drain(google_app)
    (failing,) = google_messages()
    assert (failing.status, failing.attempts) == (OutboxStatus.PENDING, 1)
    assert "GOOGLE_WALLET_REQUEST_FAILED" in failing.last_error
    assert f"({status}): Backend Error" in failing.last_error
    assert failing.due_at > frozen_time.now  # backing off, not hammering Google
    frozen_time.advance(minutes=1)
    drain(google_app)
    (delivered,) = google_messages()
    assert delivered.status == OutboxStatus.DELIVERED
    assert fake_google.objects[shop.card.google_object_id]["loyaltyPoints"]["balance"] == {
        "string": "1 / 10"
    }


@pytest.mark.parametrize("status", [400, 403])
def test_a_refusal_is_dead_at_once_and_shown_to_the_admin_with_googles_message(
    client, google_app, shop, fake_google, db, status
):
    fake_google.fail_next("PATCH", "loyaltyObject", status, "Invalid value for field 'state'")
    stamp(client, shop)
    drain(google_app)
    (dead,) = google_messages()
    assert (dead.status, dead.attempts) == (OutboxStatus.DEAD, 1)
    admin = google_app.test_client()
    sign_in(admin, make_user("admin"))
    listed = admin.get(f"{A}/outbox/messages?status=dead").get_json()
    (item,) = [m for m in listed["items"] if m["kind"] == GOOGLE_UPDATE]
    assert "Invalid value for field 'state'" in item["last_error"]
    assert f"({status})" in item["last_error"]
    # The admin's retry delivers it once Google accepts it.
    assert admin.post(f"{A}/outbox/messages/{item['id']}/retry").status_code == 200
    drain(google_app)
    assert google_messages()[0].status == OutboxStatus.DELIVERED


def test_a_program_edit_patches_the_class_and_the_saved_cards(google_app, shop, fake_google):
    fake_google.calls.clear()
    program_service.update_program(shop.vendor.id, stamps_target=12, name="Coffee club")
    assert fake_google.calls == []
    drain(google_app)
    assert [(c.method, c.resource) for c in fake_google.calls] == [
        ("PATCH", "loyaltyClass"), ("PATCH", "loyaltyObject")
    ]
    assert fake_google.classes[shop.program.google_class_id]["programName"] == "Coffee club"
    assert fake_google.objects[shop.card.google_object_id]["loyaltyPoints"]["balance"] == {
        "string": "0 / 12"
    }


def test_blocking_a_card_makes_it_inactive_at_google(google_app, shop, fake_google):
    card_service.set_card_active(shop.vendor.id, shop.card.id, False)
    drain(google_app)
    assert fake_google.objects[shop.card.google_object_id]["state"] == "INACTIVE"


def test_a_card_never_added_to_google_costs_no_call(client, google_app, db, fake_google):
    other = make_shop("stamps", google_wallet_enabled=True)
    drain(google_app)
    stamp(client, other)
    drain(google_app)
    assert fake_google.calls == []
    assert [m.status for m in google_messages()][-1] == OutboxStatus.DELIVERED


def test_a_link_handed_out_while_google_was_down_gets_its_object_from_the_worker(
    client, google_app, db, fake_google, frozen_time
):
    other = make_shop("stamps", google_wallet_enabled=True)
    drain(google_app)
    fake_google.fail_next("POST", "loyaltyClass", 503, "Unavailable")
    url = f"/api/v1/loyalty/cards/{other.card.public_token}/wallet/google"
    assert client.get(url).status_code == 303
    (pending,) = messages(kind=GOOGLE_OBJECT_CREATE)
    assert pending.card_id == other.card.id
    drain(google_app)
    db.session.expire_all()
    assert other.card.google_object_id in fake_google.objects
    assert messages(kind=GOOGLE_OBJECT_CREATE)[0].status == OutboxStatus.DELIVERED


def test_without_google_settings_changes_are_delivered_as_nothing_to_do(client, app, db):
    found = make_shop("stamps", google_wallet_enabled=True)
    drain(app)
    stamp(client, found)
    drain(app)
    assert [m.status for m in messages(kind=GOOGLE_UPDATE)][-1] == OutboxStatus.DELIVERED


def test_backoff_grows_between_attempts(client, google_app, shop, fake_google, frozen_time):
    fake_google.fail_next("PATCH", "loyaltyObject", 500, "Backend Error", times=2)
    stamp(client, shop)
    drain(google_app)
    first_wait = google_messages()[0].due_at - frozen_time.now
    frozen_time.advance(first_wait + timedelta(seconds=1))
    drain(google_app)
    (again,) = google_messages()
    assert again.attempts == 2 and again.due_at - frozen_time.now > first_wait


def test_erasing_the_customer_removes_their_name_at_google(google_app, shop, fake_google):
    from loyalty_portal.services import customer_service

    assert fake_google.objects[shop.card.google_object_id]["accountName"]
    customer_service.erase_customer(shop.vendor.id, shop.card.customer_id)
    drain(google_app)
    assert "accountName" not in fake_google.objects[shop.card.google_object_id]
