"""Rate limits per purpose: shared by the screens and the API, counted per client address and per
target, refused before the secret is checked, and the same cost for known and unknown e-mails."""

import bcrypt
import pytest

from loyalty_portal.errors import RateLimited
from loyalty_portal.models import Role
from loyalty_portal.services import vendor_service
from tests.api.helpers import P, V, assert_error, make_shop
from tests.factories import DEFAULT_PASSWORD, make_user

SESSION = "/api/v1/auth/session"


def _screen_login(client, email, password, address="10.0.0.1"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def _api_login(client, email, password, address="10.0.0.1"):
    return client.post(SESSION, json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def owner(db):
    return make_user(Role.OWNER)


def test_sign_in_limit_is_shared_by_the_login_page_and_the_api(app_with, owner):
    client = app_with(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="4 per minute",
                      LOGIN_ACCOUNT_RATE_LIMIT="100 per minute").test_client()
    for n in range(4):
        login = _screen_login if n % 2 else _api_login
        assert login(client, f"nobody{n}@example.com", "wrong").status_code in (401, 422)
    # The fifth failure from this address is refused on both routes, even with the right password.
    assert_error(_api_login(client, owner.email, DEFAULT_PASSWORD), 429, "RATE_LIMITED")
    page = _screen_login(client, owner.email, DEFAULT_PASSWORD)
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert "Too many attempts" in page.get_data(as_text=True)
    # Another address still signs in.
    assert _api_login(client, owner.email, DEFAULT_PASSWORD, address="10.0.0.2").status_code == 200


def test_sign_in_limit_per_account_holds_across_addresses(app_with, owner):
    client = app_with(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="100 per minute",
                      LOGIN_ACCOUNT_RATE_LIMIT="3 per minute").test_client()
    for n in range(3):
        assert _api_login(client, owner.email, "wrong", address=f"10.0.1.{n}").status_code == 401
    response = _api_login(client, owner.email.upper(), DEFAULT_PASSWORD, address="10.0.2.1")
    details = assert_error(response, 429, "RATE_LIMITED")
    assert details["purpose"] == "sign_in" and details["retry_after_seconds"] > 0
    # Other accounts are not affected.
    other = make_user(Role.OWNER)
    assert _api_login(client, other.email, DEFAULT_PASSWORD, address="10.0.2.1").status_code == 200


def test_successful_sign_ins_do_not_count(app_with, owner):
    client = app_with(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute",
                      LOGIN_ACCOUNT_RATE_LIMIT="2 per minute").test_client()
    for _ in range(5):
        assert _api_login(client, owner.email, DEFAULT_PASSWORD).status_code == 200


def test_unknown_and_known_emails_cost_one_bcrypt_check_at_the_same_cost(app_with, owner, db,
                                                                          monkeypatch):
    app = app_with(PASSWORD_BCRYPT_ROUNDS=4)
    email = owner.email
    db.session.commit()  # release SQLite's write lock for the other app's session
    costs = []
    real_checkpw = bcrypt.checkpw

    def counting_checkpw(password, hashed):
        costs.append(int(hashed.split(b"$")[2]))
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting_checkpw)
    with app.app_context():
        assert vendor_service.authenticate("nobody@example.com", "whatever") is None
        unknown = list(costs)
        costs.clear()
        assert vendor_service.authenticate(email, "wrong password") is None
        known = list(costs)
    assert unknown == known == [4]


def test_the_dummy_hash_follows_the_configured_cost(app_with, db, monkeypatch):
    db.session.commit()
    costs = []
    real_checkpw = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw",
                        lambda p, h: costs.append(int(h.split(b"$")[2])) or real_checkpw(p, h))
    with app_with(PASSWORD_BCRYPT_ROUNDS=6).app_context():
        vendor_service.authenticate("nobody@example.com", "whatever")
    assert costs == [6]


def test_a_limited_sign_in_checks_no_password(app_with, owner, db, monkeypatch):
    app = app_with(RATELIMIT_ENABLED=True, LOGIN_ACCOUNT_RATE_LIMIT="1 per minute")
    email = owner.email
    db.session.commit()
    with app.app_context():
        vendor_service.authenticate(email, "wrong", "10.0.0.9")
        calls = []
        monkeypatch.setattr(bcrypt, "checkpw", lambda *a: calls.append(a))
        with pytest.raises(RateLimited):
            vendor_service.authenticate(email, DEFAULT_PASSWORD, "10.0.0.9")
    assert calls == []


def test_enrolment_limit_is_shared_by_the_join_page_and_the_api(app_with, db, frozen_time):
    shop = make_shop("stamps")
    client = app_with(RATELIMIT_ENABLED=True, ENROL_RATE_LIMIT="3 per minute").test_client()
    join = {"name": "Ana", "consent": True, "locale": "en"}
    assert client.post(f"{P}/programs/{shop.vendor.slug}/enrol",
                       json={**join, "email": "a1@example.com"}).status_code == 201
    page = client.post(f"/join/{shop.vendor.slug}",
                       data={**join, "consent": "y", "email": "a2@example.com"})
    assert page.status_code == 303
    assert client.post(f"{P}/programs/{shop.vendor.slug}/enrol",
                       json={**join, "email": "a3@example.com"}).status_code == 201
    refused = client.post(f"{P}/programs/{shop.vendor.slug}/enrol",
                          json={**join, "email": "a4@example.com"})
    assert_error(refused, 429, "RATE_LIMITED")
    page = client.post(f"/join/{shop.vendor.slug}",
                       data={**join, "consent": "y", "email": "a5@example.com"})
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert "Too many attempts" in page.get_data(as_text=True)
    assert 'value="a5@example.com"' in page.get_data(as_text=True)  # what was typed stays


def test_enrolment_limit_per_contact_holds_across_addresses(app_with, db, frozen_time):
    shop = make_shop("stamps")
    client = app_with(RATELIMIT_ENABLED=True, ENROL_CONTACT_RATE_LIMIT="2 per hour").test_client()
    url = f"{P}/programs/{shop.vendor.slug}/enrol"
    body = {"name": "Ana", "consent": True, "email": "probe@example.com"}
    assert client.post(url, json=body, environ_base={"REMOTE_ADDR": "10.1.0.1"}).status_code == 201
    assert_error(client.post(url, json=body, environ_base={"REMOTE_ADDR": "10.1.0.2"}),
                 409, "LOYALTY_CARD_ALREADY_EXISTS")
    assert_error(client.post(url, json=body, environ_base={"REMOTE_ADDR": "10.1.0.3"}),
                 429, "RATE_LIMITED")


def _stamp_api(client, shop, pin, address="10.2.0.1", key=None):
    return client.post(f"{V}/cards/{shop.card.id}/stamps", json=shop.pin_body(pin=pin),
                       headers=key or shop.key_headers, environ_base={"REMOTE_ADDR": address})


def _stamp_screen(client, shop, pin, address="10.2.0.1"):
    return client.post(f"/cashier/card/{shop.card.id}/stamp",
                       data={"pin": pin, "idempotency_key": None},
                       headers={"HX-Request": "true"}, environ_base={"REMOTE_ADDR": address})


def test_refused_pin_limit_is_shared_by_the_cashier_screen_and_the_api(app_with, db,
                                                                        frozen_time):
    from tests.api.helpers import sign_in

    shop = make_shop("stamps")
    app = app_with(RATELIMIT_ENABLED=True, PIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    terminal = app.test_client()
    sign_in(terminal, shop.staff)
    with terminal.session_transaction() as session:
        session["cashier_staff_pin_id"] = shop.pin.id
    assert_error(_stamp_api(client, shop, "0000"), 403, "INVALID_STAFF_PIN")
    assert _stamp_screen(terminal, shop, "0001").status_code == 403
    assert_error(_stamp_api(client, shop, "0002"), 403, "INVALID_STAFF_PIN")
    # The address used up its refused PINs on both routes: the right PIN is refused too.
    assert_error(_stamp_api(client, shop, "4827"), 429, "RATE_LIMITED")
    assert _stamp_screen(terminal, shop, "4827").status_code == 429
    # From another address, the same staff member's PIN works.
    assert _stamp_api(client, shop, "4827", address="10.2.0.2").status_code == 200


def test_refused_pin_limit_per_staff_holds_across_addresses_and_keys(app_with, db, frozen_time):
    from loyalty_portal.services import api_key_service

    shop = make_shop("stamps")
    app = app_with(RATELIMIT_ENABLED=True, PIN_STAFF_RATE_LIMIT="4 per hour")
    client = app.test_client()
    secrets = [api_key_service.create_key(shop.vendor.id, f"T{n}").secret for n in range(4)]
    keys = [{"Authorization": f"Bearer {secret}"} for secret in secrets]
    for n, key in enumerate(keys):
        assert_error(_stamp_api(client, shop, "0000", address=f"10.3.0.{n}", key=key),
                     403, "INVALID_STAFF_PIN")
    assert_error(_stamp_api(client, shop, "4827", address="10.3.1.1"), 429, "RATE_LIMITED")


def test_pins_refused_unchecked_because_locked_do_not_count(app_with, db, frozen_time):
    shop = make_shop("stamps")
    app = app_with(RATELIMIT_ENABLED=True, PIN_RATE_LIMIT="6 per minute",
                   PIN_STAFF_RATE_LIMIT="6 per minute")
    client = app.test_client()
    for _ in range(4):
        assert_error(_stamp_api(client, shop, "0000"), 403, "INVALID_STAFF_PIN")
    for _ in range(10):  # the fifth locks this PIN at this key; the rest are refused unchecked
        assert_error(_stamp_api(client, shop, "0000"), 423, "STAFF_PIN_LOCKED")
    # 5 checked wrong PINs: the address and the staff member still have one to spare.
    from loyalty_portal.services import api_key_service

    other = {"Authorization": f"Bearer {api_key_service.create_key(shop.vendor.id, 'T9').secret}"}
    assert _stamp_api(client, shop, "4827", key=other).status_code == 200
