"""The admin's deliveries screen: failing and dead outbox messages with a retry button."""

from datetime import timedelta

import pytest

from loyalty_portal.models import Role
from loyalty_portal.services import outbox
from tests.core.outbox_helpers import drain, messages
from tests.factories import make_user
from tests.web.owner_helpers import get, make_owner_shop, post
from tests.web.screen_helpers import LANGUAGES, sign_in, translated


@pytest.fixture
def dead(app, db, frozen_time):
    outbox.enqueue("test.nobody", reason="card_blocked", card_id=12)
    drain(app, settings=outbox.DeliverySettings(max_age=timedelta(0)))
    (message,) = messages()
    return message


@pytest.fixture
def admin(client, db):
    sign_in(client, make_user(Role.ADMIN))
    return client


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_deliveries_screen_in_each_language(admin, dead, language):
    page = get(admin, "/admin/outbox?status=dead", language).get_data(as_text=True)
    assert translated(language, "Deliveries") in page
    assert "test.nobody" in page and "no handler is registered" in page
    assert translated(language, "Retry now") in page


def test_failing_is_the_default_list_and_fragments_swap_lists(admin, dead):
    page = get(admin, "/admin/outbox").get_data(as_text=True)
    assert "test.nobody" not in page  # dead, not failing
    fragment = get(admin, "/admin/outbox?status=dead", htmx=True).get_data(as_text=True)
    assert "<html" not in fragment and f"outbox-message-{dead.id}" in fragment


def test_retry_button_swaps_the_row_and_the_worker_tries_again(app, admin, dead):
    response = post(admin, f"/admin/outbox/{dead.id}/retry", htmx=True)
    assert response.status_code == 200
    assert "Retrying now." in response.get_data(as_text=True)
    (message,) = messages()
    assert (message.status, message.attempts) == ("pending", 0)
    (outcome,) = drain(app)
    assert outcome.status == "pending"  # still no handler: failing again, not dead yet


def test_retry_without_javascript_redirects_with_a_message(admin, dead):
    response = post(admin, f"/admin/outbox/{dead.id}/retry")
    assert response.status_code == 303
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "The message will be delivered again shortly." in page


def test_retrying_twice_says_why_not(admin, dead):
    post(admin, f"/admin/outbox/{dead.id}/retry")
    response = post(admin, f"/admin/outbox/{dead.id}/retry", htmx=True)
    assert response.status_code == 409
    assert "not failing" in response.get_data(as_text=True)


def test_owners_cannot_see_deliveries(client, db, frozen_time):
    shop = make_owner_shop("stamps")
    sign_in(client, shop.owner)
    assert get(client, "/admin/outbox").status_code == 403


def test_the_overview_points_to_deliveries_that_need_attention(admin, db):
    page = get(admin, "/admin/").get_data(as_text=True)
    assert "Deliveries need attention" not in page
    outbox.enqueue("test.nobody", reason="x")
    db.session.commit()
    from flask import current_app

    drain(current_app._get_current_object())
    page = get(admin, "/admin/").get_data(as_text=True)
    assert "Deliveries need attention: 1 failing, 0 dead." in page
    assert 'href="/admin/outbox?status=failing"' in page
