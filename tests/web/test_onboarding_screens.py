"""The onboarding screens in four languages: the admin's shops, the owner's first program and
logins, invitation and password-reset links (good, expired, reused, tampered), asking for a reset
or a card link (same answer, rate limits), the card's QR code and re-issue, a suspended shop."""

import re

import pytest

from loyalty_portal import create_app
from loyalty_portal.extensions import db as _db
from loyalty_portal.models import Role
from loyalty_portal.services import vendor_service
from tests.factories import DEFAULT_PASSWORD, make_card, make_program, make_user, make_vendor
from tests.web.screen_helpers import LANGUAGES, choose_language, sign_in, text, translated

NEW_SHOP = {"name": "Café Lumière", "slug": "cafe-lumiere", "timezone": "Europe/Luxembourg",
            "currency": "EUR", "language": "fr", "owner_email": "paul@cafe.test",
            "owner_name": "Paul"}


def without_csrf(response) -> str:
    """The page without its CSRF token (signed with the second it was made in)."""
    without = re.sub(r'(name="csrf_token" value=")[^"]*"', r'\1"', text(response))
    return re.sub(r'(name="csrf-token" content=")[^"]*"', r'\1"', without)


def path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


@pytest.fixture
def admin(client, db):
    sign_in(client, make_user(Role.ADMIN))
    return client


# The admin's shops --------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LANGUAGES)
def test_admin_creates_a_shop_and_invites_its_owner(admin, smtp_server, locale):
    choose_language(admin, locale)
    page = admin.get("/admin/vendors/")
    assert page.status_code == 200
    assert translated(locale, "No shop yet. Create the first one below.") in text(page)

    response = admin.post("/admin/vendors/", data=NEW_SHOP)
    assert response.status_code == 303
    shop_page = text(admin.get(response.headers["Location"]))
    assert translated(locale, "%(shop)s is created. An invitation is on its way to %(email)s.",
                      shop="Café Lumière", email="paul@cafe.test") in shop_page
    assert translated(locale, "Invited, no password yet") in shop_page
    [message] = smtp_server.messages_to("paul@cafe.test")
    assert message["Content-Language"] == "fr"  # the shop's language, not the admin's
    assert "Café Lumière" in text(admin.get("/admin/vendors/"))


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_refused_shop_keeps_what_was_typed_and_says_why_beside_each_field(
    admin, smtp_server, locale
):
    make_user(Role.OWNER, email="taken@cafe.test")
    choose_language(admin, locale)
    response = admin.post("/admin/vendors/", data=NEW_SHOP | {"owner_email": "taken@cafe.test"})
    assert response.status_code == 422
    body = text(response)
    assert translated(locale, "Someone already signs in with this e-mail address.") in body
    assert 'value="Café Lumière"' in body
    assert 'id="owner_email" ' in body and 'aria-invalid="true"' in body

    response = admin.post("/admin/vendors/", data=NEW_SHOP | {"timezone": "Mars/Olympus"})
    assert translated(locale, "Unknown time zone.") in text(response)
    assert smtp_server.messages == []


@pytest.mark.parametrize("locale", LANGUAGES)
def test_admin_suspends_and_resumes_a_shop(admin, db, locale):
    vendor = make_vendor(name="Bakery")
    choose_language(admin, locale)
    response = admin.post(f"/admin/vendors/{vendor.id}/suspension", data={"suspended": "1"})
    page = text(admin.get(response.headers["Location"]))
    assert translated(locale, "%(shop)s is suspended: its terminals and API keys stop working.",
                      shop="Bakery") in page
    assert translated(locale, "Lift the suspension") in page
    admin.post(f"/admin/vendors/{vendor.id}/suspension", data={"suspended": "0"})
    _db.session.refresh(vendor)
    assert vendor.suspended_at is None


def test_admin_invites_another_owner(admin, smtp_server):
    vendor = make_vendor()
    response = admin.post(f"/admin/vendors/{vendor.id}/owners",
                          data={"email": "anne@shop.test", "name": "Anne", "language": "de"})
    assert response.status_code == 303
    assert smtp_server.messages_to("anne@shop.test")[0]["Content-Language"] == "de"
    bad = admin.post(f"/admin/vendors/{vendor.id}/owners", data={"email": "nope", "language": "de"})
    assert bad.status_code == 422


def test_shops_are_the_admins_only(client, db):
    sign_in(client, make_user(Role.OWNER))
    assert client.get("/admin/vendors/").status_code == 403


# The owner's first program and logins ------------------------------------------------------------


@pytest.fixture
def new_owner(client, db):
    vendor = make_vendor(name="New shop")
    owner = make_user(Role.OWNER, vendor)
    sign_in(client, owner)
    return owner


@pytest.mark.parametrize("locale", LANGUAGES)
def test_an_owner_without_a_program_creates_it_first(client, new_owner, locale):
    choose_language(client, locale)
    for screen in ("/vendor/", "/vendor/cards", "/vendor/program"):
        assert client.get(screen).headers["Location"] == "/vendor/program/new"
    page = client.get("/vendor/program/new")
    assert translated(locale, "Create your program") in text(page)

    refused = client.post("/vendor/program/new", data={"program_type": "stamps", "name": ""})
    assert refused.status_code == 422
    assert translated(locale, "Must be %(low)s to %(high)s characters.", low=1, high=120) in text(
        refused)
    response = client.post("/vendor/program/new", data={"program_type": "points",
                                                         "name": "Bread points"})
    assert response.headers["Location"] == "/vendor/program"
    assert translated(locale, "Your program is created. Check its settings and add your staff's "
                              "PINs.") in text(client.get("/vendor/program"))
    # Once it exists, the creation page leads to the settings.
    assert client.get("/vendor/program/new").headers["Location"] == "/vendor/program"


@pytest.mark.parametrize("locale", LANGUAGES)
def test_an_owner_adds_a_terminal_and_invites_an_owner(client, new_owner, smtp_server, locale):
    make_program(new_owner.vendor)
    choose_language(client, locale)
    page = text(client.get("/vendor/logins"))
    assert translated(locale, "Add a counter terminal") in page
    assert new_owner.email in page

    response = client.post("/vendor/logins/terminals", data={
        "name": "Counter 1", "email": "till@shop.test", "password": "till-password"})
    assert translated(locale, "%(name)s can sign in at the counter with %(email)s.",
                      name="Counter 1", email="till@shop.test") in text(
        client.get(response.headers["Location"]))
    refused = client.post("/vendor/logins/terminals", data={
        "name": "Counter 2", "email": "till2@shop.test", "password": "short"})
    assert refused.status_code == 422
    assert translated(locale, "A password has %(low)s to %(high)s characters.", low=8,
                      high=200) in text(refused)

    client.post("/vendor/logins/owners", data={"email": "anne@shop.test", "language": "lb"})
    assert smtp_server.messages_to("anne@shop.test")[0]["Content-Language"] == "lb"
    assert translated(locale, "Invited, no password yet") in text(client.get("/vendor/logins"))


def test_an_owner_switches_a_terminal_off_but_not_themselves(client, new_owner):
    make_program(new_owner.vendor)
    terminal = make_user(Role.STAFF, new_owner.vendor)
    client.post(f"/vendor/logins/{terminal.id}/active", data={"active": "0"})
    _db.session.refresh(terminal)
    assert terminal.is_active_user is False
    client.post(f"/vendor/logins/{new_owner.id}/active", data={"active": "0"})
    _db.session.refresh(new_owner)
    assert new_owner.is_active_user is True
    other = make_user(Role.STAFF)  # another shop's login is not found
    assert client.post(f"/vendor/logins/{other.id}/active", data={"active": "0"}).status_code in (
        303, 404)
    _db.session.refresh(other)
    assert other.is_active_user is True


# Invitation and reset links -----------------------------------------------------------------------


@pytest.fixture
def invitation_link(db, smtp_server):
    vendor_service.open_shop("shop", "Shop", "Europe/Luxembourg", "EUR", "en", "paul@shop.test",
                             "Paul")
    return path_of(smtp_server.link_in(smtp_server.messages[0]))


@pytest.mark.parametrize("locale", LANGUAGES)
def test_accepting_an_invitation_signs_the_owner_in(client, invitation_link, locale):
    choose_language(client, locale)
    page = client.get(invitation_link)
    assert page.status_code == 200
    assert translated(locale, "Choose your password") in text(page)
    differ = client.post(invitation_link, data={"password": "password-1", "confirm": "other-1"})
    assert differ.status_code == 422
    assert translated(locale, "The two passwords differ.") in text(differ)

    response = client.post(invitation_link, data={"password": "password-1",
                                                  "confirm": "password-1"})
    assert response.headers["Location"] == "/vendor"
    assert client.get("/vendor/program/new").status_code == 200  # signed in as the owner


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_used_invitation_link_is_refused_in_words(client, invitation_link, locale):
    client.post(invitation_link, data={"password": "password-1", "confirm": "password-1"})
    choose_language(client, locale)
    response = client.get(invitation_link)
    assert response.status_code == 410
    assert translated(locale, "This link has already been used. Ask for a new one if you need "
                              "it.") in text(response)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_an_expired_or_tampered_invitation_link_is_refused(client, invitation_link, frozen_time,
                                                           app, locale):
    choose_language(client, locale)
    tampered = client.get(invitation_link + "x")
    assert tampered.status_code == 404
    assert translated(locale, "This link is not valid. Check that you copied all of it.") in text(
        tampered)
    frozen_time.advance(seconds=app.config["INVITATION_MAX_AGE"] + 1)
    expired = client.get(invitation_link)
    assert expired.status_code == 410
    assert translated(locale, "This link has expired. Ask for a new one.") in text(expired)
    assert client.post(invitation_link, data={"password": "password-1",
                                              "confirm": "password-1"}).status_code in (303, 410)
    assert vendor_service.authenticate("paul@shop.test", "password-1") is None


@pytest.mark.parametrize("locale", LANGUAGES)
def test_password_reset_gives_the_same_answer_and_mails_only_known_logins(
    client, db, smtp_server, locale
):
    make_user(Role.OWNER, email="owner@shop.test")
    choose_language(client, locale)
    assert translated(locale, "Forgot your password?") in text(client.get("/login"))

    known = client.post("/password/forgot", data={"email": "owner@shop.test"})
    unknown = client.post("/password/forgot", data={"email": "nobody@shop.test"})
    assert known.status_code == unknown.status_code == 200
    assert (without_csrf(known).replace("owner@", "X@")
            == without_csrf(unknown).replace("nobody@", "X@"))
    assert translated(locale, "Check your e-mail") in text(known)
    assert [m["To"] for m in smtp_server.messages] == ["owner@shop.test"]

    link = path_of(smtp_server.link_in(smtp_server.messages[0]))
    response = client.post(link, data={"password": "brand-new-1", "confirm": "brand-new-1"})
    assert response.status_code == 303
    assert vendor_service.authenticate("owner@shop.test", "brand-new-1")
    reused = client.get(link)
    assert reused.status_code == 410
    assert translated(locale, "This link has already been used. Ask for a new one if you need "
                              "it.") in text(reused)


def test_an_expired_reset_link_is_refused(client, db, smtp_server, frozen_time, app):
    make_user(Role.OWNER, email="owner@shop.test")
    client.post("/password/forgot", data={"email": "owner@shop.test"})
    link = path_of(smtp_server.link_in(smtp_server.messages[0]))
    frozen_time.advance(seconds=app.config["PASSWORD_RESET_MAX_AGE"] + 1)
    assert client.get(link).status_code == 410
    assert vendor_service.authenticate("owner@shop.test", DEFAULT_PASSWORD)


def _limited_app(app, **limits):
    keys = ("TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "PIN_PEPPER", "WTF_CSRF_ENABLED",
            "PASSWORD_BCRYPT_ROUNDS", "MAIL_BACKEND")
    other = create_app({**{key: app.config[key] for key in keys}, "RATELIMIT_ENABLED": True,
                        "RATELIMIT_STORAGE_URI": "memory://", **limits})
    other.test_client_class = app.test_client_class
    return other


def limited(response) -> bool:
    """A refused form post goes back with the 429 message flashed (web/errors.py)."""
    return response.status_code == 303


def test_reset_requests_are_limited_per_address(app, db, smtp_server):
    make_user(Role.OWNER, email="owner@shop.test")
    _db.session.commit()
    client = _limited_app(app, PASSWORD_RESET_RATE_LIMIT="2 per hour").test_client()
    responses = [client.post("/password/forgot", data={"email": "owner@shop.test"})
                 for _ in range(3)]
    assert [limited(r) for r in responses] == [False, False, True]
    # The flashed refusal names the wait (web/errors.py screen_message, RateLimited).
    assert re.search(r"Too many attempts\. Please wait \d+ minutes and try again\.",
                     text(client.get("/password/forgot")))
    assert client.post("/password/forgot", data={"email": "other@shop.test"}).status_code == 200


def test_reset_requests_are_limited_per_client(app, db):
    client = _limited_app(app, PASSWORD_RESET_CLIENT_RATE_LIMIT="2 per hour").test_client()
    responses = [client.post("/password/forgot", data={"email": f"x{n}@shop.test"})
                 for n in range(3)]
    assert [limited(r) for r in responses] == [False, False, True]


# Card links ---------------------------------------------------------------------------------------


@pytest.fixture
def card(db, frozen_time):
    program = make_program(make_vendor("cafe", name="Café"), name="Coffee card")
    return make_card(program, name="Marie", email="marie@example.com")


@pytest.mark.parametrize("locale", LANGUAGES)
def test_asking_for_a_card_link_answers_the_same_and_mails_only_the_enrolled_address(
    client, card, smtp_server, locale
):
    choose_language(client, locale)
    page = text(client.get("/join/cafe/card-link"))
    assert translated(locale, "Get the link by e-mail") in page

    known = client.post("/join/cafe/card-link", data={"email": "marie@example.com"})
    unknown = client.post("/join/cafe/card-link", data={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert (without_csrf(known).replace("marie@", "X@")
            == without_csrf(unknown).replace("nobody@", "X@"))
    assert [m["To"] for m in smtp_server.messages] == ["marie@example.com"]

    link = path_of(smtp_server.link_in(smtp_server.messages[0]))
    opened = client.get(link)
    assert opened.headers["Location"] == f"/card/{card.public_token}"
    reused = client.get(link)
    assert reused.status_code == 410
    assert translated(locale, "This link has already been used. Ask for a new one if you need "
                              "it.") in text(reused)


def test_card_link_requests_are_limited(app, card):
    _db.session.commit()
    client = _limited_app(app, CARD_LINK_RATE_LIMIT="1 per hour").test_client()
    data = {"email": "marie@example.com"}
    assert [limited(client.post("/join/cafe/card-link", data=data)) for _ in range(2)] == [
        False, True]


@pytest.mark.parametrize("locale", LANGUAGES)
def test_owner_card_page_shows_the_qr_and_link_and_reissues_it(client, card, locale):
    owner = make_user(Role.OWNER, card.program.vendor)
    sign_in(client, owner)
    choose_language(client, locale)
    old_token = card.public_token
    page = text(client.get(f"/vendor/cards/{card.id}"))
    assert translated(locale, "The customer's card on their phone") in page
    assert f"http://127.0.0.1:5000/card/{old_token}" in page
    assert "<svg" in page

    response = client.post(f"/vendor/cards/{card.id}/reissue")
    assert response.headers["Location"] == f"/vendor/cards/{card.id}"
    after = text(client.get(response.headers["Location"]))
    assert translated(locale, "The card has a new link and QR code; the old ones no longer "
                              "work.") in after
    assert old_token not in after
    assert client.get(f"/card/{old_token}").status_code == 404


def test_the_cashier_card_view_has_the_qr_folded_away(client, card):
    sign_in(client, make_user(Role.STAFF, card.program.vendor))
    page = text(client.get(f"/cashier/card/{card.id}"))
    assert "<details" in page and f"/card/{card.public_token}" in page


# A suspended shop ---------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_suspended_shops_counter_is_closed(client, app, card, locale):
    vendor = card.program.vendor
    terminal = make_user(Role.STAFF, vendor)
    owner = make_user(Role.OWNER, vendor)
    vendor_service.set_vendor_suspended(vendor.id, True)

    sign_in(client, terminal)
    assert client.get("/cashier/").status_code == 302  # the terminal is signed out
    refused = client.post("/login", data={"email": terminal.email, "password": DEFAULT_PASSWORD})
    assert refused.status_code == 422

    owner_client = app.test_client()
    sign_in(owner_client, owner)
    choose_language(owner_client, locale)
    closed = owner_client.get("/cashier/")
    assert closed.status_code == 403
    assert translated(locale, "This shop is suspended: its counter and API keys do not "
                              "work.") in text(closed)
    assert owner_client.get("/vendor/cards").status_code == 200  # data stays readable
    assert client.get("/join/cafe").status_code == 409


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_refused_save_has_an_error_summary_linking_to_the_field(admin, client, locale):
    choose_language(admin, locale)
    body = text(admin.post("/admin/vendors/", data=NEW_SHOP | {"slug": "Not a slug"}))
    assert translated(locale, "Please correct the following:") in body
    summary = body.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    assert 'href="#slug"' in summary
    assert translated(locale, "Use lower-case letters, digits and dashes.") in summary


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_refused_shop_field_is_in_the_summary_at_once(admin, locale):
    choose_language(admin, locale)
    response = admin.post("/admin/vendors/", data=NEW_SHOP | {
        "slug": "Not a slug", "name": "", "timezone": "Mars/Olympus", "currency": "euro",
        "owner_email": "not-an-address"})
    assert response.status_code == 422
    body = text(response)
    summary = body.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    assert re.findall(r'href="#([^"]+)"', summary) == [
        "name", "slug", "timezone", "currency", "owner_email"]
    for message in ("Use lower-case letters, digits and dashes.", "Enter a name.",
                    "Unknown time zone.", "Use a three-letter currency code.",
                    "Enter a valid e-mail address."):
        assert translated(locale, message) in summary
        assert body.count(translated(locale, message)) == 2  # and beside its field


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_refused_program_setting_is_in_the_summary_at_once(client, db, locale):
    program = make_program(make_vendor())
    sign_in(client, make_user(Role.OWNER, program.vendor))
    choose_language(client, locale)
    before = program.name
    response = client.post("/vendor/program", data={
        "program_type": "stamps", "name": "", "stamps_target": "0", "cooldown_minutes": "9999",
        "daily_stamp_limit": "5", "card_background_color": "red",
        "card_text_color": "#FFFFFF"})
    assert response.status_code == 422
    summary = text(response).split("data-error-summary", 1)[1].split("</div>", 1)[0]
    linked = re.findall(r'href="#([^"]+)"', summary)
    assert {"name", "stamps_target", "cooldown_minutes", "card_background_color"} <= set(linked)
    assert translated(locale, "Must be a colour like #1F3A5F.") in summary
    _db.session.refresh(program)
    assert program.name == before  # nothing saved


def test_the_service_names_every_refused_setting(client, db):
    from loyalty_portal.errors import ValidationError
    from loyalty_portal.services import program_service

    program = make_program(make_vendor())
    with pytest.raises(ValidationError) as refused:
        program_service.update_program(program.vendor_id, name="", cooldown_minutes=-1)
    assert [problem["field"] for problem in refused.value.details["errors"]] == [
        "name", "cooldown_minutes"]


def test_the_program_page_summarises_its_errors(client, db):
    program = make_program(make_vendor())
    sign_in(client, make_user(Role.OWNER, program.vendor))
    body = text(client.post("/vendor/program", data={"program_type": "stamps", "name": "",
                                                     "stamps_target": "5"}))
    summary = body.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    assert 'href="#name"' in summary


# A customer's data from the card page -------------------------------------------------------------


@pytest.mark.parametrize("locale", LANGUAGES)
def test_owner_exports_then_erases_a_customer_after_confirming(client, card, locale):
    sign_in(client, make_user(Role.OWNER, card.program.vendor))
    choose_language(client, locale)
    page = text(client.get(f"/vendor/cards/{card.id}"))
    assert translated(locale, "Download the customer's data (JSON)") in page

    export = client.get(f"/vendor/customers/{card.customer_id}/export.json")
    assert export.mimetype == "application/json"
    assert export.get_json()["customer"]["email"] == "marie@example.com"
    assert export.get_json()["cards"][0]["card"]["card_number"] == card.card_number

    confirm = client.get(f"/vendor/customers/{card.customer_id}/erase?card_id={card.id}")
    assert translated(locale, "Yes, erase the personal data") in text(confirm)
    assert client.post(f"/vendor/customers/{card.customer_id}/erase",
                       data={"card_id": str(card.id)}).status_code == 200  # no confirmation
    _db.session.refresh(card.customer)
    assert card.customer.erased_at is None

    done = client.post(f"/vendor/customers/{card.customer_id}/erase",
                       data={"card_id": str(card.id), "confirm": "yes"})
    assert done.headers["Location"] == f"/vendor/cards/{card.id}"
    after = text(client.get(done.headers["Location"]))
    assert translated(locale, "The customer's personal data is erased; the card and its history "
                              "stay.") in after
    assert "marie@example.com" not in after


def test_another_shops_customer_is_not_found(client, card):
    sign_in(client, make_user(Role.OWNER))
    assert client.get(f"/vendor/customers/{card.customer_id}/export.json").status_code in (302,
                                                                                          404)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_refused_terminal_names_every_problem_at_the_top_of_its_form(client, new_owner, locale):
    choose_language(client, locale)
    response = client.post("/vendor/logins/terminals",
                           data={"name": "", "email": "not-an-address", "password": "short"})
    assert response.status_code == 422
    body = text(response)
    summary = body.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    assert re.findall(r'href="#([^"]+)"', summary) == [
        "terminal-name", "terminal-email", "terminal-password"]
    assert translated(locale, "Enter a name, e.g. Counter 1.") in summary
    assert translated(locale, "Enter a valid e-mail address.") in summary
