"""Sign-in, sign-out, the language choice, error pages and the page-wide guarantees (CSP, CSRF)."""

import re

import pytest

from loyalty_portal import create_app
from loyalty_portal.models import Role
from tests.factories import DEFAULT_PASSWORD, make_user, make_vendor
from tests.web.screen_helpers import HTMX, LANGUAGES, choose_language, sign_in, text, translated


@pytest.mark.parametrize("locale", LANGUAGES)
def test_login_page_in_each_language(client, db, locale):
    response = client.get(f"/login?lang={locale}")
    assert response.status_code == 200
    body = text(response)
    assert f'<html lang="{locale}">' in body
    assert translated(locale, "Sign in") in body
    assert translated(locale, "Remember this terminal (keeps you signed in on this device)") in body
    assert '<meta name="csrf-token"' in body


@pytest.mark.parametrize(("role", "home"), [
    (Role.ADMIN, "/admin"), (Role.OWNER, "/vendor"), (Role.STAFF, "/cashier/"),
])
def test_login_sends_each_role_to_its_screen(client, db, role, home):
    user = make_user(role)
    response = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == home


def test_login_follows_a_local_next_but_never_another_site(client, db):
    user = make_user(Role.STAFF)
    data = {"email": user.email, "password": DEFAULT_PASSWORD}
    response = client.post("/login?next=/cashier/find", data=data)
    assert response.headers["Location"] == "/cashier/find"
    client.post("/logout")
    assert client.post("/login?next=//evil.test/x", data=data).headers["Location"] == "/cashier/"


@pytest.mark.parametrize("locale", LANGUAGES)
def test_wrong_password_is_refused_in_words(client, db, locale):
    user = make_user(Role.OWNER)
    choose_language(client, locale)
    response = client.post("/login", data={"email": user.email, "password": "wrong-password"})
    assert response.status_code == 422
    assert translated(locale, "This e-mail address and password do not match.") in text(response)


def test_remember_this_terminal_sets_the_remember_cookie(client, db):
    user = make_user(Role.STAFF)
    response = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD,
                                           "remember": "y"})
    assert "remember_token=" in " ".join(response.headers.getlist("Set-Cookie"))
    client.post("/logout")
    response = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert "remember_token=" not in " ".join(response.headers.getlist("Set-Cookie"))


def test_logout_signs_out_and_keeps_the_language(client, db):
    user = make_user(Role.STAFF)
    sign_in(client, user)
    choose_language(client, "de")
    response = client.post("/logout")
    assert response.headers["Location"] == "/login"
    with client.session_transaction() as session:
        assert "_user_id" not in session
        assert session["locale"] == "de"
    assert client.get("/cashier/").status_code == 302


@pytest.mark.parametrize(
    ("code", "stored"), [("fr", "fr"), ("de", "de"), ("lb", "lb"), ("lu", "lb"), ("en", "en")]
)
def test_language_choice_is_kept_in_the_session(client, db, code, stored):
    response = client.get(f"/language/{code}?next=/privacy")
    assert response.headers["Location"] == "/privacy"
    with client.session_transaction() as session:
        assert session["locale"] == stored
    assert f'<html lang="{stored}">' in text(client.get("/privacy"))


def test_unknown_language_and_foreign_next_are_refused(client, db):
    assert client.get("/language/xx").status_code == 404
    assert client.get("/language/fr?next=https://evil.test/").headers["Location"] == "/"


def test_signed_out_screen_goes_to_login_and_htmx_gets_a_full_redirect(client, db):
    response = client.get("/cashier/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/cashier/")
    response = client.get("/cashier/", headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")


@pytest.mark.parametrize("locale", LANGUAGES)
def test_wrong_role_gets_the_403_page(client, db, locale):
    sign_in(client, make_user(Role.ADMIN))
    response = client.get(f"/cashier/?lang={locale}")
    assert response.status_code == 403
    assert translated(locale, "Access denied") in text(response)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_404_page_and_htmx_fragment(client, db, locale):
    response = client.get(f"/no-such-page?lang={locale}")
    assert response.status_code == 404
    assert translated(locale, "Page not found") in text(response)
    response = client.get(f"/no-such-page?lang={locale}", headers=HTMX)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#messages"
    assert response.headers["HX-Reswap"] == "innerHTML"
    assert translated(locale, "This page does not exist.") in text(response)
    assert "<html" not in text(response)


def test_500_page_hides_the_error_and_gives_a_reference(app, db):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "secret detail" not in text(response)
    assert re.search(r"[0-9a-f]{32}", text(response))


def test_every_page_sends_the_content_security_policy_and_has_no_inline_code(client, db):
    staff = make_user(Role.STAFF)
    for path in ("/login", "/privacy", "/lost-card", "/cashier/"):
        if path == "/cashier/":
            sign_in(client, staff)
        response = client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        body = text(response)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), path
        assert " style=" not in body and "<style" not in body, path
        assert "/static/vendor/htmx/htmx.min.js" in body
        assert '"includeIndicatorStyles": false' in body


def test_htmx_is_served_from_static(client, db):
    response = client.get("/static/vendor/htmx/htmx.min.js")
    assert response.status_code == 200
    assert b"htmx" in response.data[:2000]


@pytest.fixture
def csrf_app(db_url):
    """The application with CSRF protection on, as in production."""
    from tests.conftest import LoyaltyTestClient, _test_config

    application = create_app({**_test_config(db_url), "WTF_CSRF_ENABLED": True})
    application.test_client_class = LoyaltyTestClient
    return application


def test_forms_need_the_csrf_token(csrf_app):
    with csrf_app.app_context():
        user = make_user(Role.STAFF, make_vendor())
        email = user.email
    client = csrf_app.test_client()
    data = {"email": email, "password": DEFAULT_PASSWORD}
    refused = client.post("/login", data=data, headers={"Referer": "http://localhost/login"})
    # A plain form post is sent back to its page with the message (and a fresh token).
    assert refused.status_code == 303
    assert refused.headers["Location"] == "/login"
    with client.session_transaction() as session:
        assert "_user_id" not in session
    message = translated("en", "This form has expired. Reload the page and try again.")
    assert message in text(client.get("/login"))
    login_page = text(client.get("/login"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)
    accepted = client.post("/login", data={**data, "csrf_token": token.group(1)})
    assert accepted.status_code == 303


def test_htmx_requests_need_the_csrf_header(csrf_app):
    with csrf_app.app_context():
        user_id = make_user(Role.STAFF, make_vendor()).id
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
    page = text(client.get("/cashier/"))
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    refused = client.post("/cashier/staff/forget", headers=HTMX)
    assert refused.status_code == 400
    assert refused.headers["HX-Retarget"] == "#messages"
    accepted = client.post("/cashier/staff/forget", headers={**HTMX, "X-CSRFToken": token})
    assert accepted.status_code == 204
