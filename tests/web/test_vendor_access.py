"""Owner screens: only the owner, and only their own vendor."""

import pytest

from loyalty_portal.models import Role
from loyalty_portal.services import pin_service
from tests.factories import make_user
from tests.web.owner_helpers import get, make_owner_shop, post
from tests.web.screen_helpers import sign_in

PAGES = ["/vendor/", "/vendor/program", "/vendor/staff", "/vendor/cards", "/vendor/statistics",
         "/vendor/export", "/vendor/api-keys", "/vendor/poster", "/vendor/poster/qr.svg"]


@pytest.fixture
def shops(db, frozen_time):
    return make_owner_shop("stamps"), make_owner_shop("stamps")


def test_another_vendors_ids_are_not_found(client, shops):
    mine, theirs = shops
    sign_in(client, mine.owner)
    for path in [f"/vendor/cards/{theirs.card.id}", f"/vendor/staff/{theirs.pin.id}",
                 f"/vendor/transactions/{theirs.transaction_id}/void"]:
        assert get(client, path).status_code == 404, path
    for path, data in [
        (f"/vendor/cards/{theirs.card.id}/active", {"active": "0"}),
        (f"/vendor/transactions/{theirs.transaction_id}/void", {"reason": "x"}),
        (f"/vendor/cards/{theirs.card.id}/adjust", {"delta": "5", "reason": "x"}),
        (f"/vendor/staff/{theirs.pin.id}/name", {"name": "Mallory"}),
        (f"/vendor/staff/{theirs.pin.id}/pin", {"pin": "7315"}),
        (f"/vendor/staff/{theirs.pin.id}/unlock", {}),
        (f"/vendor/staff/{theirs.pin.id}/deactivate", {}),
        ("/vendor/api-keys/999/revoke", {}),
    ]:
        assert post(client, path, data, htmx=True).status_code == 404, path
    assert theirs.card.is_active and theirs.card.stamp_count == 1 and theirs.pin.name == "Anna"


def test_search_and_statistics_see_only_the_owners_cards(client, shops):
    mine, theirs = shops
    sign_in(client, mine.owner)
    page = get(client, "/vendor/cards?q=marie").get_data(as_text=True)
    assert f"/vendor/cards/{mine.card.id}" in page and f"/vendor/cards/{theirs.card.id}" not in page


def test_staff_terminal_is_refused(client, shops):
    sign_in(client, shops[0].staff)
    for path in PAGES:
        assert get(client, path).status_code == 403, path
    eve = {"name": "Eve", "pin": "7315"}
    assert post(client, "/vendor/staff", eve, htmx=True).status_code == 403
    # Without htmx a refused form post flashes the refusal and goes back (see web/errors.py).
    assert post(client, "/vendor/staff", eve).status_code == 303
    assert [p.name for p in pin_service.list_pins(shops[0].vendor.id)] == ["Anna"]
    adjust = post(client, f"/vendor/cards/{shops[0].card.id}/adjust",
                  {"delta": "5", "reason": "x"}, htmx=True)
    assert adjust.status_code == 403 and shops[0].card.stamp_count == 1


def test_admin_is_refused(client, shops):
    sign_in(client, make_user(Role.ADMIN))
    assert get(client, "/vendor/").status_code == 403


def test_nobody_signed_in_goes_to_the_login_page(client, shops):
    response = get(client, "/vendor/program")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    htmx = get(client, "/vendor/cards?q=a", htmx=True)
    assert htmx.status_code == 401 and "/login" in htmx.headers["HX-Redirect"]


def test_forms_need_the_csrf_token(app, client, shops):
    app.config["WTF_CSRF_ENABLED"] = True
    sign_in(client, shops[0].owner)
    response = post(client, "/vendor/staff", {"name": "Luc", "pin": "5139"}, htmx=True)
    assert response.status_code == 400
    assert [p.name for p in pin_service.list_pins(shops[0].vendor.id)] == ["Anna"]
