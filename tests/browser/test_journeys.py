"""The four journeys of issue 4 in a real browser: cashier, customer, owner, admin.

Everything goes through the screens (login form with its CSRF token, htmx swaps, the PIN pad's
JavaScript); the database is only read, in short transactions, to check what the screens say.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.steps import find_card, sign_in, type_pin_on_pad

pytestmark = pytest.mark.browser


def stamp_with_pin_pad(page, shop, pick_staff: bool = False) -> None:
    """From the card panel: Add a stamp, (pick the staff member,) tap the PIN, Confirm."""
    page.get_by_role("button", name="Add a stamp").click()
    if pick_staff:
        expect(page.get_by_role("heading", name="Who is at the counter?")).to_be_visible()
        page.get_by_role("button", name=shop.staff_name, exact=True).click()
    expect(page.get_by_label(f"{shop.staff_name}, enter your PIN")).to_be_visible()
    # The whole pad, Confirm included, is on screen without scrolling (a counter tablet).
    expect(page.get_by_role("button", name="Confirm")).to_be_in_viewport()
    type_pin_on_pad(page, shop.pin)
    expect(page.get_by_label(f"{shop.staff_name}, enter your PIN")).to_have_value(shop.pin)
    page.get_by_role("button", name="Confirm").click()


def card_balance(live_server, card_id: int) -> int:
    from loyalty_portal.extensions import db
    from loyalty_portal.models import LoyaltyCard

    return live_server.run(lambda: db.session.get(LoyaltyCard, card_id).stamp_count)


def add_stamp_directly(live_server, shop) -> None:
    """A stamp recorded earlier at the counter (through the service, not the screens)."""
    from loyalty_portal.services import pin_service, stamp_service
    from loyalty_portal.services.ledger import Actor

    def stamp():
        anna = next(p for p in pin_service.list_pins(shop.vendor_id) if p.name == shop.staff_name)
        stamp_service.add_stamp(shop.vendor_id, shop.card_id,
                                actor=Actor(staff_pin_id=anna.id, pin=shop.pin))

    live_server.run(stamp)


def test_cashier_finds_a_card_stamps_it_on_the_pin_pad_and_meets_the_cooldown(
    page, live_server, shop
):
    sign_in(page, live_server, shop.staff_email)
    expect(page).to_have_url(re.compile(r"/cashier/$"))

    find_card(page, shop.card_number)
    expect(page.get_by_role("heading", name=shop.customer)).to_be_visible()
    expect(page.locator("#cashier-panel")).to_contain_text("0 of 10 stamps")

    stamp_with_pin_pad(page, shop, pick_staff=True)
    status = page.get_by_role("status")
    expect(status).to_have_text(f"Stamp added for {shop.customer}.")
    expect(page.locator("#cashier-panel")).to_contain_text("1 of 10 stamps")
    assert card_balance(live_server, shop.card_id) == 1

    # Back to "scan next card": the scan field has the focus again, the same card comes back.
    page.get_by_role("link", name="Scan next card").click()
    expect(page.get_by_label("Card number, QR code, name, e-mail or phone")).to_be_focused()
    find_card(page, shop.card_number)
    # The cooldown is said before any PIN: no stamp button, the time of the next stamp.
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"Next stamp possible at \d"))
    expect(page.get_by_role("button", name="Add a stamp")).to_have_count(0)
    assert card_balance(live_server, shop.card_id) == 1


def test_customer_joins_from_the_poster_link_and_sees_the_card(page, live_server, shop, new_page):
    phone = new_page(width=390, height=844, is_mobile=True, has_touch=True)
    phone.goto(f"{live_server.url}/join/{shop.slug}")
    expect(phone.get_by_role("heading", name="Join Coffee card")).to_be_visible()
    phone.get_by_label("Your name").fill("Jean Muller")
    phone.get_by_label("E-mail address").fill("jean.muller@example.com")
    phone.get_by_role("combobox", name="Language").select_option("fr")
    phone.get_by_label(re.compile("I have read the privacy notice")).check()
    phone.get_by_role("button", name="Get my card").click()

    phone.wait_for_url(re.compile(r"/card/[^/]+$"))
    # The customer chose French: the card page speaks it.
    expect(phone.get_by_role("heading", name="Coffee card")).to_be_visible()
    expect(phone.get_by_text("Jean Muller")).to_be_visible()
    qr = phone.locator(".qr svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box["width"] >= 120 and box["height"] >= 120, box  # big enough to scan
    assert phone.evaluate("document.documentElement.lang") == "fr"

    # The cashier can now find the new card by the customer's e-mail address.
    sign_in(page, live_server, shop.staff_email)
    find_card(page, "jean.muller@example.com")
    expect(page.get_by_role("heading", name="Jean Muller")).to_be_visible()


def test_owner_changes_the_cooldown_and_the_cashier_screen_follows(
    page, live_server, shop, new_page
):
    add_stamp_directly(live_server, shop)
    cashier = page
    sign_in(cashier, live_server, shop.staff_email)
    find_card(cashier, shop.card_number)
    expect(cashier.get_by_role("status")).to_contain_text("Next stamp possible at")
    expect(cashier.get_by_role("button", name="Add a stamp")).to_have_count(0)

    owner = new_page(width=1280, height=900)
    sign_in(owner, live_server, shop.owner_email)
    owner.goto(f"{live_server.url}/vendor/program")
    cooldown = owner.get_by_label("Minutes between two stamps on one card")
    expect(cooldown).to_have_value("15")
    cooldown.fill("0")
    owner.get_by_role("button", name="Save the program").click()
    expect(owner.get_by_text("The program is saved.")).to_be_visible()
    expect(owner.get_by_label("Minutes between two stamps on one card")).to_have_value("0")

    # The next look-up of the card follows the new rule at once.
    find_card(cashier, shop.card_number)
    stamp_with_pin_pad(cashier, shop, pick_staff=True)
    expect(cashier.get_by_role("status")).to_have_text(f"Stamp added for {shop.customer}.")
    expect(cashier.locator("#cashier-panel")).to_contain_text("2 of 10 stamps")
    assert card_balance(live_server, shop.card_id) == 2


def test_admin_overview_shows_the_new_stamp(page, live_server, shop, new_page):
    add_stamp_directly(live_server, shop)
    admin = new_page(width=1280, height=900)
    sign_in(admin, live_server, shop.admin_email)
    expect(admin).to_have_url(re.compile(r"/admin/?$"))
    row = admin.get_by_role("row").filter(has_text=shop.program_name)
    expect(row).to_contain_text("1 stamp")
    expect(stamps_issued_tile(admin)).to_have_text("1")

    live_server.run(_no_cooldown, shop.vendor_id)
    sign_in(page, live_server, shop.staff_email)
    find_card(page, shop.card_number)
    stamp_with_pin_pad(page, shop, pick_staff=True)
    expect(page.get_by_role("status")).to_have_text(f"Stamp added for {shop.customer}.")

    admin.reload()
    expect(row).to_contain_text("2 stamps")
    expect(stamps_issued_tile(admin)).to_have_text("2")
    admin.get_by_role("link", name=shop.program_name).click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text(shop.program_name)


def stamps_issued_tile(page):
    return page.locator(".tile").filter(has_text="Stamps issued").locator("dd")


def _no_cooldown(vendor_id: int) -> None:
    from loyalty_portal.services import program_service

    program_service.update_program(vendor_id, cooldown_minutes=0)
