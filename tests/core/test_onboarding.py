"""Shops and people through the services: a shop with its invited owner, signed single-use
invitation and reset links, counter-terminal logins, suspension, the first program."""

from datetime import timedelta

import pytest

from loyalty_portal.errors import (
    LinkAlreadyUsed,
    LinkExpired,
    LinkInvalid,
    LoyaltyProgramAlreadyExists,
    UserAlreadyExists,
    ValidationError,
    VendorAlreadyExists,
    VendorNotFound,
    VendorSuspended,
)
from loyalty_portal.models import Role
from loyalty_portal.services import (
    account_service,
    api_key_service,
    program_service,
    vendor_service,
)
from tests.factories import make_program, make_user, make_vendor


def token_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]


def open_shop(**overrides):
    values = dict(slug="cafe-lumiere", name="Café Lumière", timezone="Europe/Luxembourg",
                  currency="EUR", default_locale="fr", owner_email="Paul@Cafe.test",
                  owner_name="Paul")
    values.update(overrides)
    return vendor_service.open_shop(**values)


def test_a_new_shop_has_an_invited_owner_who_cannot_sign_in_yet(db, smtp_server, frozen_time):
    vendor, owner = open_shop()

    assert (vendor.slug, vendor.default_locale) == ("cafe-lumiere", "fr")
    assert (owner.email, owner.role, owner.vendor_id) == ("paul@cafe.test", Role.OWNER, vendor.id)
    assert owner.is_invitation_pending and owner.invited_at == frozen_time.now
    assert not owner.is_active
    [message] = smtp_server.messages_to("paul@cafe.test")
    assert "Café Lumière" in message["Subject"]
    assert message["Content-Language"] == "fr"
    link = smtp_server.link_in(message)
    assert link.startswith("http://127.0.0.1:5000/invitation/")


def test_an_owner_accepts_the_invitation_once(db, smtp_server):
    _, owner = open_shop()
    token = token_of(smtp_server.link_in(smtp_server.messages[0]))

    assert account_service.invitation(token).id == owner.id
    account_service.accept_invitation(token, "a-good-password")

    assert vendor_service.authenticate("paul@cafe.test", "a-good-password").id == owner.id
    with pytest.raises(LinkAlreadyUsed):
        account_service.accept_invitation(token, "another-password")
    assert vendor_service.authenticate("paul@cafe.test", "another-password") is None


def test_an_invitation_link_expires(db, smtp_server, frozen_time, app):
    open_shop()
    token = token_of(smtp_server.link_in(smtp_server.messages[0]))
    frozen_time.advance(seconds=app.config["INVITATION_MAX_AGE"] - 1)
    assert account_service.invitation(token)
    frozen_time.advance(seconds=2)
    with pytest.raises(LinkExpired) as refused:
        account_service.accept_invitation(token, "a-good-password")
    assert refused.value.status == 410


def test_a_tampered_or_foreign_link_is_invalid(db, smtp_server):
    open_shop()
    token = token_of(smtp_server.link_in(smtp_server.messages[0]))
    with pytest.raises(LinkInvalid):
        account_service.invitation(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    with pytest.raises(LinkInvalid):  # an invitation is not a reset link
        account_service.check_reset_link(token)


def test_inviting_again_sends_a_new_link_and_someone_elses_address_is_refused(db, smtp_server):
    vendor, owner = open_shop()
    again = account_service.invite_owner(vendor.id, "paul@cafe.test")
    assert again.id == owner.id
    assert len(smtp_server.messages_to("paul@cafe.test")) == 2

    other = make_vendor()
    with pytest.raises(UserAlreadyExists):
        account_service.invite_owner(other.id, "paul@cafe.test")
    existing = make_user(Role.STAFF, other, "counter@other.test")
    with pytest.raises(UserAlreadyExists):
        account_service.invite_owner(vendor.id, existing.email)


def test_a_refused_owner_address_creates_no_shop(db, smtp_server):
    with pytest.raises(ValidationError) as refused:
        open_shop(owner_email="not-an-address")
    assert refused.value.details["field"] == "email"
    with pytest.raises(VendorNotFound):
        vendor_service.get_vendor_by_slug("cafe-lumiere")
    assert smtp_server.messages == []


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("slug", {"slug": "Not A Slug"}),
        ("name", {"name": " "}),
        ("timezone", {"timezone": "Mars/Olympus"}),
        ("currency", {"currency": "EU"}),
        ("default_locale", {"default_locale": "pt"}),
    ],
)
def test_a_shop_with_bad_settings_is_refused_on_its_field(db, field, overrides):
    with pytest.raises(ValidationError) as refused:
        open_shop(**overrides)
    assert refused.value.details["field"] == field


def test_a_slug_is_taken_once(db, smtp_server):
    open_shop()
    with pytest.raises(VendorAlreadyExists) as refused:
        open_shop(owner_email="other@cafe.test")
    assert refused.value.error_code == "VENDOR_ALREADY_EXISTS"


def test_password_reset_sends_a_single_use_link_only_to_known_logins(db, smtp_server):
    user = make_user(Role.OWNER, email="owner@shop.test")
    account_service.request_password_reset("nobody@shop.test")
    assert smtp_server.messages == []

    account_service.request_password_reset(" Owner@Shop.test ")
    [message] = smtp_server.messages_to("owner@shop.test")
    token = token_of(smtp_server.link_in(message))
    account_service.reset_password(token, "new-password-1")
    assert vendor_service.authenticate("owner@shop.test", "new-password-1").id == user.id
    with pytest.raises(LinkAlreadyUsed):
        account_service.reset_password(token, "new-password-2")


def test_no_reset_link_for_a_login_switched_off_or_still_invited(db, smtp_server):
    vendor, _ = open_shop()
    terminal = account_service.create_terminal_login(vendor.id, "counter@cafe.test", "Counter",
                                                     "counter-pass")
    account_service.set_login_active(vendor.id, terminal.id, False)
    before = len(smtp_server.messages)
    account_service.request_password_reset("counter@cafe.test")
    account_service.request_password_reset("paul@cafe.test")
    assert len(smtp_server.messages) == before


def test_a_short_password_is_refused_and_the_link_still_works(db, smtp_server):
    open_shop()
    token = token_of(smtp_server.link_in(smtp_server.messages[0]))
    with pytest.raises(ValidationError) as refused:
        account_service.accept_invitation(token, "short")
    assert refused.value.details["field"] == "password"
    account_service.accept_invitation(token, "long-enough")


def test_terminal_logins_and_switching_them_off(db):
    vendor = make_vendor()
    owner = make_user(Role.OWNER, vendor)
    terminal = account_service.create_terminal_login(vendor.id, "Till@Shop.test", "Till 1",
                                                     "till-password")
    assert (terminal.role, terminal.email, terminal.is_active) == (Role.STAFF, "till@shop.test",
                                                                   True)
    with pytest.raises(UserAlreadyExists):
        account_service.create_terminal_login(vendor.id, "till@shop.test", "Till 2", "password2")
    with pytest.raises(ValidationError):
        account_service.set_login_active(vendor.id, owner.id, False, acting_user_id=owner.id)

    account_service.set_login_active(vendor.id, terminal.id, False, acting_user_id=owner.id)
    assert vendor_service.authenticate("till@shop.test", "till-password") is None
    assert [u.email for u in account_service.list_logins(vendor.id)] == [owner.email,
                                                                         "till@shop.test"]


def test_a_suspended_vendor_keeps_its_data_but_its_terminals_and_keys_stop(db, frozen_time):
    program = make_program()
    vendor = program.vendor
    owner = make_user(Role.OWNER, vendor, "owner@s.test")
    terminal = make_user(Role.STAFF, vendor, "till@s.test")
    key = api_key_service.create_key(vendor.id, "Till").secret

    vendor_service.set_vendor_suspended(vendor.id, True)
    assert vendor.suspended_at == frozen_time.now
    assert vendor_service.authenticate("till@s.test", "correct-horse-battery") is None
    assert vendor_service.authenticate("owner@s.test", "correct-horse-battery").id == owner.id
    with pytest.raises(VendorSuspended):
        api_key_service.authenticate(key)
    assert terminal.is_active is False and program_service.get_program(vendor.id)

    frozen_time.advance(hours=1)
    vendor_service.set_vendor_suspended(vendor.id, True)  # twice keeps the first time
    assert vendor.suspended_at == frozen_time.now - timedelta(hours=1)
    vendor_service.set_vendor_suspended(vendor.id, False)
    assert api_key_service.authenticate(key).vendor_id == vendor.id
    assert vendor_service.authenticate("till@s.test", "correct-horse-battery").id == terminal.id


def test_an_owner_creates_the_one_program(db):
    vendor = make_vendor()
    assert program_service.find_program(vendor.id) is None
    program = program_service.create_program(vendor.id, "stamps", "Coffee card")
    assert program_service.find_program(vendor.id).id == program.id
    with pytest.raises(LoyaltyProgramAlreadyExists) as refused:
        program_service.create_program(vendor.id, "points", "Points")
    assert (refused.value.error_code, refused.value.status) == (
        "LOYALTY_PROGRAM_ALREADY_EXISTS", 409)


def test_reward_ids_are_made_from_the_names_when_left_empty(db):
    program = make_program(make_vendor(), "points", points_rewards=[])
    saved = program_service.update_program(program.vendor_id, points_rewards=[
        {"id": "", "name": "Pain au chocolat", "points_cost": 10},
        {"name": "Pain au chocolat", "points_cost": 20},
        {"id": "cafe", "name": "Café", "points_cost": 5},
        {"name": "!!!", "points_cost": 5},
    ])
    assert [r["id"] for r in saved.points_rewards] == [
        "pain-au-chocolat", "pain-au-chocolat-2", "cafe", "reward"]
