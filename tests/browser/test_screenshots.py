"""`make screenshots`: a PNG of each screen, with the demo's data, into docs/screenshots/
(docs/user-journeys.md shows them). Customers on a phone; cashiers on a phone and on a counter
tablet; owners and the admin on a desktop. Runs only with --screenshots."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.steps import find_card, type_pin_on_pad

pytestmark = [pytest.mark.browser, pytest.mark.screenshots]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844, "is_mobile": True, "has_touch": True}
TABLET = {"width": 1024, "height": 768, "has_touch": True}
DESKTOP = {"width": 1280, "height": 800}


def shoot(page, name: str, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # Let htmx settle and fonts load; no caret blinking in the images.
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page, caret="hide",
                    animations="disabled")


def test_customer_screens(demo_server, demo, demo_page):
    page = demo_page(**PHONE)
    page.goto(f"{demo_server.url}/join/{demo.cafe.slug}")
    shoot(page, "customer-join-phone", full_page=True)
    page.goto(f"{demo_server.url}/card/{demo.cafe.public_token}")
    shoot(page, "customer-card-stamps-phone", full_page=True)
    page.goto(f"{demo_server.url}/card/{demo.bakery.public_token}")
    shoot(page, "customer-card-points-phone", full_page=True)
    page.goto(f"{demo_server.url}/lost-card")
    shoot(page, "customer-lost-card-phone")
    page.goto(f"{demo_server.url}/login")
    shoot(page, "sign-in-phone")


@pytest.mark.parametrize(("device", "viewport"), [("phone", PHONE), ("tablet", TABLET)])
def test_cashier_screens(demo_server, demo, demo_page, device, viewport):
    page = demo_page(demo.cafe.staff_email, **viewport)
    page.goto(f"{demo_server.url}/cashier/")
    shoot(page, f"cashier-start-{device}")

    # The phone finds Marie's card by its number, the tablet Sophie's by her name.
    query = demo.cafe.card_number if device == "phone" else "Sophie Schmit"
    find_card(page, query)
    expect(page.locator("#card-title")).to_be_visible()
    shoot(page, f"cashier-card-{device}")

    page.get_by_role("button", name="Add a stamp").click()
    expect(page.get_by_role("heading", name="Who is at the counter?")).to_be_visible()
    shoot(page, f"cashier-staff-picker-{device}")
    page.get_by_role("button", name="Anna", exact=True).click()
    expect(page.get_by_label("Anna, enter your PIN")).to_be_visible()
    type_pin_on_pad(page, "48")
    shoot(page, f"cashier-pinpad-{device}")
    type_pin_on_pad(page, "27")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("Stamp added")
    # The result offers the cashier's undo for a few minutes.
    shoot(page, f"cashier-stamp-added-{device}")

    page.get_by_role("link", name=re.compile("Undo the last action")).click()
    expect(page.get_by_role("heading", name=re.compile("Undo for"))).to_be_visible()
    shoot(page, f"cashier-undo-{device}")
    page.get_by_role("link", name="Cancel").click()

    # The card in its cooldown: the time of the next stamp instead of a stamp button.
    expect(page.get_by_text(re.compile("Next stamp possible at"))).to_be_visible()
    shoot(page, f"cashier-cooldown-{device}")

    find_card(page, "000000000000")
    expect(page.get_by_role("alert")).to_contain_text("No card found")
    shoot(page, f"cashier-not-found-{device}")

    find_card(page, "example.com")
    expect(page.locator("#results-title")).to_be_visible()
    shoot(page, f"cashier-results-{device}")

    if device == "tablet":
        bakery = demo_page(demo.bakery.staff_email, **viewport)
        bakery.goto(f"{demo_server.url}/cashier/card/{demo.bakery.card_id}")
        shoot(bakery, "cashier-points-card-tablet")
        bakery.get_by_label("Purchase amount (EUR)").fill("9999")
        expect(bakery.locator("#amount-feedback")).to_contain_text("The largest amount")
        shoot(bakery, "cashier-amount-too-large-tablet")
        bakery.get_by_label("Purchase amount (EUR)").fill("99.99")
        bakery.get_by_role("button", name="Add points").click()
        expect(bakery.get_by_role("heading", name="Is this amount right?")).to_be_visible()
        shoot(bakery, "cashier-large-amount-tablet")
        # Five wrong PINs lock Anna's PIN at the bakery: the locked pad.
        bakery.get_by_role("link", name=re.compile("Yes, add")).click()
        staff = bakery.get_by_role("button", name="Anna", exact=True)
        expect(staff.or_(bakery.get_by_label("Anna, enter your PIN"))).to_be_visible()
        if staff.is_visible():
            staff.click()
        for _ in range(5):
            expect(bakery.get_by_label("Anna, enter your PIN")).to_be_visible()
            type_pin_on_pad(bakery, "0000")
            bakery.get_by_role("button", name="Confirm").click()
            expect(bakery.get_by_role("alert")).to_contain_text(re.compile("Wrong PIN|locked"))
        expect(bakery.get_by_role("heading", name="PIN locked")).to_be_visible()
        shoot(bakery, "cashier-pin-locked-tablet")


OWNER_SCREENS = [
    ("owner-dashboard", "/vendor/"),
    ("owner-program-setup", "/vendor/program"),
    ("owner-staff-pins", "/vendor/staff"),
    ("owner-cards", "/vendor/cards"),
    ("owner-card-detail", "/vendor/cards/{shop.card_id}"),
    ("owner-void", "/vendor/transactions/{shop.transaction_id}/void"),
    ("owner-statistics", "/vendor/statistics"),
    ("owner-export", "/vendor/export"),
    ("owner-api-keys", "/vendor/api-keys"),
    ("owner-poster", "/vendor/poster"),
]


def test_owner_screens(demo_server, demo, demo_page):
    page = demo_page(demo.cafe.owner_email, **DESKTOP)
    for name, path in OWNER_SCREENS:
        page.goto(demo_server.url + path.format(shop=demo.cafe))
        shoot(page, f"{name}-desktop", full_page=True)
    bakery = demo_page(demo.bakery.owner_email, **DESKTOP)
    bakery.goto(f"{demo_server.url}/vendor/program")
    shoot(bakery, "owner-program-setup-points-desktop", full_page=True)


def test_admin_screens(demo_server, demo, demo_page):
    page = demo_page(demo.admin_email, **DESKTOP)
    page.goto(f"{demo_server.url}/admin/")
    shoot(page, "admin-overview-desktop", full_page=True)
    page.goto(f"{demo_server.url}/admin/programs/{demo.cafe.program_id}")
    shoot(page, "admin-program-desktop", full_page=True)
