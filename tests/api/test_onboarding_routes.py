"""Shops and people over JSON: the admin's vendors, an owner's first program, logins and card
re-issue; a suspended vendor's API key and terminal; who may call what."""

import pytest

from loyalty_portal.models import Role
from loyalty_portal.services import vendor_service
from tests.api.helpers import A, P, V, assert_error, sign_in
from tests.factories import make_user, make_vendor

NEW_SHOP = {"slug": "cafe-lumiere", "name": "Café Lumière", "timezone": "Europe/Luxembourg",
            "currency": "EUR", "default_locale": "lb", "owner_email": "paul@cafe.test",
            "owner_name": "Paul"}


def test_admin_creates_a_vendor_and_its_owner_gets_the_invitation(admin_client, smtp_server):
    response = admin_client.post(f"{A}/vendors", json=NEW_SHOP)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["vendor"]["slug"] == "cafe-lumiere" and body["vendor"]["is_suspended"] is False
    assert body["owner"] | {"id": 0, "invited_at": ""} == {
        "id": 0, "email": "paul@cafe.test", "name": "Paul", "role": "owner", "is_active": True,
        "is_invitation_pending": True, "invited_at": "", "last_login_at": None}
    [message] = smtp_server.messages_to("paul@cafe.test")
    assert message["Content-Language"] == "lb"
    assert "/invitation/" in smtp_server.link_in(message)

    listed = admin_client.get(f"{A}/vendors").get_json()["items"]
    assert [v["slug"] for v in listed] == ["cafe-lumiere"]
    logins = admin_client.get(f"{A}/vendors/{body['vendor']['id']}/logins").get_json()["items"]
    assert [login["email"] for login in logins] == ["paul@cafe.test"]


def test_admin_vendor_refusals(admin_client, smtp_server):
    admin_client.post(f"{A}/vendors", json=NEW_SHOP)
    assert_error(admin_client.post(f"{A}/vendors", json=NEW_SHOP | {"owner_email": "x@y.test"}),
                 409, "VENDOR_ALREADY_EXISTS")
    details = assert_error(
        admin_client.post(f"{A}/vendors", json=NEW_SHOP | {"slug": "other", "timezone": "Nowhere"}),
        422, "LOYALTY_VALIDATION_FAILED")
    assert details["field"] == "timezone"
    taken = NEW_SHOP | {"slug": "b", "owner_email": "paul@cafe.test"}
    assert_error(admin_client.post(f"{A}/vendors", json=taken), 409, "USER_ALREADY_EXISTS")
    assert_error(admin_client.post(f"{A}/vendors", json={"slug": "x"}), 422, "VALIDATION_ERROR")
    assert_error(admin_client.get(f"{A}/vendors/999"), 404, "VENDOR_NOT_FOUND")


def test_admin_invites_another_owner(admin_client, smtp_server, db):
    vendor = make_vendor()
    response = admin_client.post(f"{A}/vendors/{vendor.id}/owners",
                                 json={"email": "anne@shop.test", "locale": "de"})
    assert response.status_code == 201
    assert smtp_server.messages_to("anne@shop.test")[0]["Content-Language"] == "de"


def test_a_suspended_vendors_api_key_and_terminal_stop_and_nothing_is_deleted(
    admin_client, shop, client, app
):
    assert client.get(f"{V}/program", headers=shop.key_headers).status_code == 200
    response = admin_client.patch(f"{A}/vendors/{shop.vendor.id}", json={"suspended": True})
    assert response.get_json()["is_suspended"] is True

    details = assert_error(client.get(f"{V}/program", headers=shop.key_headers), 403,
                           "VENDOR_SUSPENDED")
    assert details == {"vendor_id": shop.vendor.id}
    terminal = app.test_client()
    sign_in(terminal, shop.staff)
    assert_error(terminal.get(f"{V}/program"), 401, "AUTHENTICATION_REQUIRED")
    owner = app.test_client()
    sign_in(owner, shop.owner)
    assert owner.get(f"{V}/cards").status_code == 403  # the counter is closed to owners too
    assert owner.get(f"{V}/statistics").status_code == 200  # reading and exporting still work

    admin_client.patch(f"{A}/vendors/{shop.vendor.id}", json={"suspended": False})
    assert client.get(f"{V}/program", headers=shop.key_headers).status_code == 200
    assert terminal.get(f"{V}/program").status_code == 200


def test_enrolment_stops_while_a_vendor_is_suspended(shop, client):
    vendor_service.set_vendor_suspended(shop.vendor.id, True)
    response = client.post(f"{P}/programs/{shop.vendor.slug}/enrol",
                           json={"name": "Jo", "email": "jo@example.com", "consent": True})
    assert_error(response, 409, "LOYALTY_PROGRAM_INACTIVE")


def test_owner_creates_the_program_once(client, db):
    vendor = make_vendor()
    sign_in(client, make_user(Role.OWNER, vendor))
    assert_error(client.get(f"{V}/program"), 404, "LOYALTY_PROGRAM_NOT_FOUND")

    response = client.post(f"{V}/program", json={"program_type": "points", "name": "Bread points"})
    assert response.status_code == 201
    assert response.get_json()["program_type"] == "points"
    details = assert_error(client.post(f"{V}/program", json={"program_type": "stamps",
                                                              "name": "Again"}),
                           409, "LOYALTY_PROGRAM_ALREADY_EXISTS")
    assert details == {"vendor_id": vendor.id}


def test_owner_manages_logins(owner_client, shop, smtp_server):
    response = owner_client.post(f"{V}/terminals", json={"email": "till@shop.test",
                                                         "name": "Till 1",
                                                         "password": "till-password"})
    assert response.status_code == 201
    terminal = response.get_json()
    assert (terminal["role"], terminal["is_invitation_pending"]) == ("staff", False)
    assert "password" not in terminal

    assert owner_client.post(f"{V}/owners", json={"email": "anne@shop.test"}).status_code == 201
    assert len(smtp_server.messages_to("anne@shop.test")) == 1
    emails = [login["email"] for login in owner_client.get(f"{V}/logins").get_json()["items"]]
    assert {"till@shop.test", "anne@shop.test", shop.owner.email} <= set(emails)

    switched = owner_client.patch(f"{V}/logins/{terminal['id']}", json={"is_active": False})
    assert switched.get_json()["is_active"] is False
    details = assert_error(owner_client.patch(f"{V}/logins/{shop.owner.id}",
                                              json={"is_active": False}),
                           422, "LOYALTY_VALIDATION_FAILED")
    assert details["field"] == "user"
    assert_error(owner_client.post(f"{V}/terminals", json={"email": "till@shop.test",
                                                           "name": "Again",
                                                           "password": "till-password"}),
                 409, "USER_ALREADY_EXISTS")
    assert_error(owner_client.post(f"{V}/terminals", json={"email": "t2@shop.test", "name": "T",
                                                           "password": "short"}),
                 422, "VALIDATION_ERROR")


def test_owner_reissues_a_card_and_the_old_link_is_gone(owner_client, shop, client):
    old_token = shop.card.public_token
    response = owner_client.post(f"{V}/cards/{shop.card.id}/reissue")
    body = response.get_json()
    assert response.status_code == 200 and body["public_token"] != old_token
    assert body["card_url"].endswith(f"/card/{body['public_token']}")
    assert client.get(f"/card/{old_token}").status_code == 404
    assert client.get(f"/card/{body['public_token']}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "json"),
    [
        ("post", f"{V}/program", {"program_type": "stamps", "name": "X"}),
        ("get", f"{V}/logins", None),
        ("post", f"{V}/owners", {"email": "a@b.test"}),
        ("post", f"{V}/terminals", {"email": "a@b.test", "name": "T", "password": "12345678"}),
        ("post", f"{V}/cards/1/reissue", None),
    ],
)
def test_terminals_and_api_keys_cannot_manage_logins(staff_client, shop, client, method, path,
                                                     json):
    assert_error(getattr(staff_client, method)(path, json=json), 403, "PERMISSION_DENIED")
    assert_error(getattr(client, method)(path, json=json, headers=shop.key_headers), 403,
                 "PERMISSION_DENIED")


def test_only_admins_manage_vendors(owner_client, shop):
    assert_error(owner_client.get(f"{A}/vendors"), 403, "PERMISSION_DENIED")
    assert_error(owner_client.patch(f"{A}/vendors/{shop.vendor.id}", json={"suspended": True}),
                 403, "PERMISSION_DENIED")
