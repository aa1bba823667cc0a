"""Who may call what: credentials, roles, CSRF on session calls, and vendor isolation."""

import re
from datetime import timedelta

import pytest

from loyalty_portal.clock import utcnow
from loyalty_portal.extensions import db
from loyalty_portal.models import PinThrottle, Role
from loyalty_portal.services import api_key_service, transaction_service
from loyalty_portal.services.ledger import Actor
from tests.api.helpers import A, V, assert_error, make_shop, sign_in
from tests.factories import make_card, make_user

# Every vendor route, with the ids it names ({card}, {tx}, {pin}, {customer}, {key}, {lockout})
# and a body
# that passes validation, grouped by who may call it.
POS_ROUTES = [
    ("GET", "/program", None),
    ("GET", "/cards", None),
    ("GET", "/cards/lookup?q={card_number}", None),
    ("GET", "/cards/{card}", None),
    ("POST", "/cards/{card}/stamps", {}),
    ("POST", "/cards/{card}/stamps/redeem", {}),
    ("POST", "/cards/{card}/points", {"purchase_amount_cents": 100}),
    ("POST", "/cards/{card}/points/redeem", {"reward_id": "coffee"}),
    ("GET", "/pins", None),
]
READ_ROUTES = [
    ("GET", "/statistics", None),
    ("GET", "/transactions/export.csv?from=2026-03-01&to=2026-03-02", None),
]
MANAGE_ROUTES = [
    ("PATCH", "/program", {"cooldown_minutes": 0}),
    ("PATCH", "/cards/{card}", {"is_active": False}),
    ("POST", "/cards/{card}/adjust", {"stamps_delta": 1, "reason": "test"}),
    ("POST", "/transactions/{tx}/void", {"reason": "test"}),
    ("POST", "/pins", {"name": "Mallory", "pin": "7315"}),
    ("PATCH", "/pins/{pin}", {"name": "Renamed"}),
    ("PUT", "/pins/{pin}/pin", {"pin": "7315"}),
    ("POST", "/pins/{pin}/deactivate", None),
    ("POST", "/pins/{pin}/unlock", None),
    ("GET", "/lockouts", None),
    ("POST", "/lockouts/{lockout}/unlock", None),
    ("GET", "/customers/{customer}", None),
    ("DELETE", "/customers/{customer}", None),
    ("GET", "/api-keys", None),
    ("POST", "/api-keys", {"name": "Another till"}),
    ("DELETE", "/api-keys/{key}", None),
    ("POST", "/program", {"program_type": "stamps", "name": "Another"}),
    ("GET", "/logins", None),
    ("POST", "/owners", {"email": "another-owner@shop.test"}),
    ("POST", "/terminals", {"email": "till-2@shop.test", "name": "Till 2", "password": "12345678"}),
    ("PATCH", "/logins/{login}", {"is_active": True}),
    ("POST", "/cards/{card}/reissue", {}),
]
ALL_ROUTES = POS_ROUTES + READ_ROUTES + MANAGE_ROUTES
# Routes whose path names one of the vendor's objects: another vendor's id must be a 404.
ROUTES_WITH_IDS = [route for route in ALL_ROUTES if "{" in route[1]]


def ids_of(shop) -> dict:
    tx = transaction_service.adjust_balance(
        shop.vendor.id, shop.card.id, stamps_delta=1, reason="setup", actor=Actor()
    )
    key = api_key_service.list_keys(shop.vendor.id)[0]
    lockout = PinThrottle(key=f"{shop.vendor.id}/key:{key.id}", vendor_id=shop.vendor.id,
                          terminal=f"key:{key.id}", locked_until=utcnow() + timedelta(hours=1))
    db.session.add(lockout)
    db.session.commit()
    return {
        "lockout": lockout.id,
        "card": shop.card.id,
        "card_number": shop.card.card_number,
        "tx": tx.transaction_id,
        "pin": shop.pin.id,
        "customer": shop.card.customer_id,
        "key": key.id,
        "login": shop.staff.id,
    }


def call(client, method, path, body, ids, headers=None):
    return client.open(V + path.format(**ids), method=method, json=body, headers=headers or {})


def test_the_route_tables_cover_every_vendor_route(app):
    """A new vendor route must be added above, so the isolation and role tests see it."""
    served = {
        (method, re.sub(r"<id:\w+>", "{}", rule.rule.removeprefix(V)))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(V)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    listed = {
        (method, re.sub(r"\{\w+\}", "{}", path.split("?")[0])) for method, path, _ in ALL_ROUTES
    }
    assert served == listed


@pytest.mark.parametrize("method,path,body", ROUTES_WITH_IDS)
def test_another_vendors_ids_are_not_found(client, db, frozen_time, method, path, body):
    program_type = "points" if "/points" in path else "stamps"
    mine, theirs = make_shop(program_type), make_shop(program_type)
    if path.startswith("/cards/{card}/") and path != "/cards/{card}/adjust":
        # balance changes at the counter check the caller's PIN first
        body = {**body, **mine.pin_body()}
    sign_in(client, mine.owner)
    response = call(client, method, path, body, ids_of(theirs))
    assert response.status_code == 404, response.get_json()
    assert response.get_json()["error_code"].endswith("NOT_FOUND")
    # ... and the same request on the caller's own ids is not a 404.
    assert call(client, method, path, body, ids_of(mine)).status_code != 404


def test_lookup_and_search_never_show_another_vendors_cards(client, db, frozen_time):
    mine, theirs = make_shop("stamps"), make_shop("stamps")
    lookup = client.get(
        f"{V}/cards/lookup", query_string={"q": theirs.card.card_number}, headers=mine.key_headers
    )
    assert_error(lookup, 404, "LOYALTY_CARD_NOT_FOUND")
    found = client.get(f"{V}/cards", query_string={"q": "customer"}, headers=mine.key_headers)
    assert [card["id"] for card in found.get_json()["items"]] == [mine.card.id]


@pytest.mark.parametrize("method,path,body", MANAGE_ROUTES + READ_ROUTES)
def test_a_staff_terminal_is_refused_owner_routes(client, shop, method, path, body):
    sign_in(client, shop.staff)
    assert_error(call(client, method, path, body, ids_of(shop)), 403, "PERMISSION_DENIED")


@pytest.mark.parametrize("method,path,body", POS_ROUTES)
def test_a_staff_terminal_may_use_the_counter_routes(client, shop, method, path, body):
    sign_in(client, shop.staff)
    assert call(client, method, path, body, ids_of(shop)).status_code not in (401, 403)


@pytest.mark.parametrize("method,path,body", MANAGE_ROUTES)
def test_an_api_key_cannot_manage_keys_pins_settings_or_customers(client, shop, method, path, body):
    response = call(client, method, path, body, ids_of(shop), shop.key_headers)
    assert_error(response, 403, "PERMISSION_DENIED")


@pytest.mark.parametrize("method,path,body", POS_ROUTES + READ_ROUTES)
def test_an_api_key_may_use_the_counter_and_reading_routes(client, shop, method, path, body):
    response = call(client, method, path, body, ids_of(shop), shop.key_headers)
    assert response.status_code not in (401, 403)


@pytest.mark.parametrize("method,path,body", ALL_ROUTES)
def test_an_admin_has_no_vendor_routes(client, shop, method, path, body):
    sign_in(client, make_user(Role.ADMIN))
    assert_error(call(client, method, path, body, ids_of(shop)), 403, "PERMISSION_DENIED")


@pytest.mark.parametrize("method,path,body", ALL_ROUTES)
def test_no_credentials_is_401_with_a_bearer_challenge(client, shop, method, path, body):
    response = call(client, method, path, body, ids_of(shop))
    assert_error(response, 401, "AUTHENTICATION_REQUIRED")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["/programs", "/statistics", "/programs/1/statistics"])
def test_admin_routes_refuse_owners_staff_and_keys(client, shop, path):
    assert_error(client.get(A + path, headers=shop.key_headers), 403, "PERMISSION_DENIED")
    for user in (shop.owner, shop.staff):
        sign_in(client, user)
        assert_error(client.get(A + path), 403, "PERMISSION_DENIED")
    client.delete_cookie("session")
    assert_error(client.get(A + path), 401, "AUTHENTICATION_REQUIRED")


def test_unknown_revoked_and_malformed_keys_are_401(client, shop):
    for header in ("Bearer lpk_nope", "Bearer ", "Basic dXNlcjpwYXNz", shop.api_key):
        response = client.get(f"{V}/program", headers={"Authorization": header})
        assert_error(response, 401, "INVALID_API_KEY")
    key = api_key_service.list_keys(shop.vendor.id)[0]
    api_key_service.revoke_key(shop.vendor.id, key.id)
    assert_error(client.get(f"{V}/program", headers=shop.key_headers), 401, "INVALID_API_KEY")


def test_a_bad_key_is_refused_even_with_a_valid_session(client, shop):
    sign_in(client, shop.owner)
    response = client.get(f"{V}/program", headers={"Authorization": "Bearer lpk_nope"})
    assert_error(response, 401, "INVALID_API_KEY")


def test_a_keys_last_use_is_recorded(client, shop, db, frozen_time):
    client.get(f"{V}/program", headers=shop.key_headers)
    key = api_key_service.list_keys(shop.vendor.id)[0]
    assert key.last_used_at == frozen_time.now


class TestCsrf:
    @pytest.fixture
    def csrf_app(self, app):
        app.config["WTF_CSRF_ENABLED"] = True
        return app

    def test_session_changes_need_the_csrf_token(self, csrf_app, shop):
        client = csrf_app.test_client()
        sign_in(client, shop.owner)
        url = f"{V}/pins/{shop.pin.id}/unlock"
        assert_error(client.post(url), 400, "CSRF_TOKEN_INVALID")
        token = client.get("/api/v1/auth/session").get_json()["csrf_token"]
        assert client.post(url, headers={"X-CSRFToken": token}).status_code == 200

    def test_session_reads_need_no_token(self, csrf_app, shop):
        client = csrf_app.test_client()
        sign_in(client, shop.owner)
        assert client.get(f"{V}/program").status_code == 200

    def test_api_key_calls_need_no_token(self, csrf_app, shop):
        client = csrf_app.test_client()
        response = client.post(
            f"{V}/cards/{shop.card.id}/stamps", json=shop.pin_body(), headers=shop.key_headers
        )
        assert response.status_code == 200


def _stamp(client, shop, card=None, **body):
    card = card or shop.card
    return client.post(
        f"{V}/cards/{card.id}/stamps", json=shop.pin_body(**body), headers=shop.key_headers
    )


def test_a_key_revoked_by_another_worker_stops_changing_balances_at_once(
    client, shop, app_with
):
    """Each web process keeps the keys it verified in the last minute (api_key_service.KeyCache);
    a key revoked through another process must still be refused by the very next request."""
    assert _stamp(client, shop).status_code == 200  # this worker now holds the key in its cache
    untouched_card = make_card(shop.program)  # a stamp on it would pass every rule
    other_worker = app_with().test_client()
    sign_in(other_worker, shop.owner)
    key = api_key_service.list_keys(shop.vendor.id)[0]
    assert other_worker.delete(f"{V}/api-keys/{key.id}").status_code == 200

    assert_error(_stamp(client, shop, untouched_card), 401, "INVALID_API_KEY")
    # Refused as a revoked key, not for what the request got wrong (the input or a rule).
    assert_error(_stamp(client, shop, stamps=0), 401, "INVALID_API_KEY")
    assert_error(_stamp(client, shop, pin="0000"), 401, "INVALID_API_KEY")
    points = client.post(
        f"{V}/cards/{shop.card.id}/points",
        json=shop.pin_body(purchase_amount_cents=500),
        headers=shop.key_headers,
    )
    assert_error(points, 401, "INVALID_API_KEY")


def test_a_cached_key_of_a_shop_suspended_by_another_worker_stops_at_once(client, shop):
    """The cached key is confirmed in the balance change's own statement: suspension, made
    elsewhere (no cache of this process forgets anything), is seen by the very next stamp."""
    from loyalty_portal.services import vendor_service

    assert _stamp(client, shop).status_code == 200  # this worker now holds the key in its cache
    vendor_service.set_vendor_suspended(shop.vendor.id, True)
    assert_error(_stamp(client, shop, make_card(shop.program)), 403, "VENDOR_SUSPENDED")
    vendor_service.set_vendor_suspended(shop.vendor.id, False)
    assert _stamp(client, shop, make_card(shop.program)).status_code == 200


def test_a_key_revoked_in_the_same_worker_is_forgotten_at_once(client, shop):
    assert _stamp(client, shop).status_code == 200
    key = api_key_service.list_keys(shop.vendor.id)[0]
    api_key_service.revoke_key(shop.vendor.id, key.id)
    assert_error(_stamp(client, shop, make_card(shop.program)), 401, "INVALID_API_KEY")
