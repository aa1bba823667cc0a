"""The error envelope for everything under /api/, the session endpoints, and the OpenAPI docs."""

import logging

from loyalty_portal.models import Role
from loyalty_portal.services import program_service
from tests.api.helpers import V, assert_error
from tests.factories import DEFAULT_PASSWORD, make_user


def test_unknown_routes_and_methods(client):
    assert_error(client.get("/api/v1/nothing-here"), 404, "NOT_FOUND")
    response = client.delete("/api/v1/loyalty/cards/abc")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["Allow"]


def test_malformed_json_is_400(client, shop):
    response = client.post(
        f"{V}/cards/{shop.card.id}/stamps",
        data="{not json",
        content_type="application/json",
        headers=shop.key_headers,
    )
    assert_error(response, 400, "BAD_REQUEST")


def test_an_unexpected_error_is_500_with_a_logged_error_id(app, client, shop, monkeypatch, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(vendor_id):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(program_service, "get_program", broken)
    with caplog.at_level(logging.ERROR):
        response = client.get(f"{V}/program", headers=shop.key_headers)
    details = assert_error(response, 500, "INTERNAL_ERROR")
    assert "database on fire" not in response.get_data(as_text=True)
    assert details["error_id"] in caplog.text and "database on fire" in caplog.text


def test_screens_keep_their_own_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and not response.is_json


def test_session_sign_in_who_am_i_and_sign_out(client, db):
    user = make_user(Role.OWNER)
    wrong = client.post("/api/v1/auth/session", json={"email": user.email, "password": "nope"})
    assert_error(wrong, 401, "INVALID_CREDENTIALS")
    signed_in = client.post(
        "/api/v1/auth/session", json={"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert signed_in.status_code == 200
    body = signed_in.get_json()
    assert (body["user_id"], body["role"], body["vendor_id"]) == (user.id, "owner", user.vendor_id)
    assert body["csrf_token"]
    assert client.get("/api/v1/auth/session").get_json()["email"] == user.email
    assert client.delete("/api/v1/auth/session").status_code == 204
    assert_error(client.get("/api/v1/auth/session"), 401, "AUTHENTICATION_REQUIRED")


def test_sign_in_is_rate_limited(app_with, db):
    client = app_with(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute").test_client()
    for _ in range(2):
        client.post("/api/v1/auth/session", json={"email": "a@example.com", "password": "x"})
    response = client.post("/api/v1/auth/session", json={"email": "a@example.com", "password": "x"})
    assert_error(response, 429, "RATE_LIMITED")


def test_the_openapi_document_declares_auth_and_errors(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["info"]["title"] == "Loyalty Portal API"
    assert set(spec["components"]["securitySchemes"]) == {"bearerAuth", "sessionCookie"}
    stamp = spec["paths"]["/api/v1/vendor/loyalty/cards/{card_id}/stamps"]["post"]
    assert {"200", "400", "401", "403", "404", "409", "422", "423", "429"} <= set(
        stamp["responses"]
    )
    assert any(p["name"] == "Idempotency-Key" for p in stamp["parameters"])
    assert set(spec["components"]["schemas"]["Error"]["required"]) == {
        "error_code",
        "message",
        "details",
    }


def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "https://" not in page
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert client.get(f"/static/vendor/swagger-ui/{asset}").status_code == 200


def test_every_error_code_is_documented():
    """docs/errors.md names every code a client can receive: each LoyaltyError's and the HTTP
    layer's."""
    import inspect
    from pathlib import Path

    from loyalty_portal import errors
    from loyalty_portal.api import errors as api_errors

    codes = {
        cls.error_code
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.LoyaltyError)
    }
    codes |= {code for code, _ in api_errors.HTTP_ERRORS.values()} | {api_errors.CSRF_ERROR[0]}
    documented = (Path(__file__).parents[2] / "docs" / "errors.md").read_text()
    assert sorted(code for code in codes if f"`{code}`" not in documented) == []
