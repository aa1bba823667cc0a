"""axe-core (the copy bundled by axe-playwright-python) on every screen, with the demo's data:
no serious or critical violation (WCAG A/AA and axe's best practices)."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.steps import find_card, type_pin_on_pad

pytestmark = pytest.mark.browser

BLOCKING_IMPACTS = ("serious", "critical")
AXE = Axe()

# (screen, who is signed in, path); {cafe.x}/{bakery.x} come from the demo fixture.
SCREENS = [
    ("login", None, "/login"),
    ("join", None, "/join/{cafe.slug}"),
    ("card page, stamps", None, "/card/{cafe.public_token}"),
    ("card page, points", None, "/card/{bakery.public_token}"),
    ("lost card", None, "/lost-card"),
    ("privacy notice", None, "/privacy"),
    ("error page", None, "/join/no-such-shop"),
    ("cashier, start", "cafe.staff", "/cashier/"),
    ("cashier, points card", "bakery.staff", "/cashier/card/{bakery.card_id}"),
    ("owner dashboard", "cafe.owner", "/vendor/"),
    ("program setup, stamps", "cafe.owner", "/vendor/program"),
    ("program setup, points", "bakery.owner", "/vendor/program"),
    ("staff PINs", "cafe.owner", "/vendor/staff"),
    ("staff PIN", "cafe.owner", "/vendor/staff/{cafe.staff_pin_id}"),
    ("cards list", "cafe.owner", "/vendor/cards"),
    ("card detail", "cafe.owner", "/vendor/cards/{cafe.card_id}"),
    ("void a transaction", "cafe.owner", "/vendor/transactions/{cafe.transaction_id}/void"),
    ("statistics", "cafe.owner", "/vendor/statistics"),
    ("statistics, points", "bakery.owner", "/vendor/statistics"),
    ("CSV export", "cafe.owner", "/vendor/export"),
    ("API keys", "cafe.owner", "/vendor/api-keys"),
    ("poster", "cafe.owner", "/vendor/poster"),
    ("admin overview", "admin", "/admin/"),
    ("admin program", "admin", "/admin/programs/{cafe.program_id}"),
]


def login_of(demo, who: str | None) -> str | None:
    if who is None:
        return None
    if who == "admin":
        return demo.admin_email
    shop, role = who.split(".")
    return getattr(getattr(demo, shop), f"{role}_email")


def blocking_violations(page) -> list[str]:
    """axe's serious and critical findings on the page as it is now, one readable line each."""
    results = AXE.run(page)
    lines = []
    for violation in results.response["violations"]:
        if violation["impact"] not in BLOCKING_IMPACTS:
            continue
        for node in violation["nodes"]:
            lines.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']} — "
                f"{', '.join(map(str, node['target']))}: {node.get('failureSummary', '')}"
            )
    return lines


def assert_accessible(page, screen: str) -> None:
    problems = blocking_violations(page)
    assert not problems, f"{screen} ({page.url}):\n" + "\n".join(problems)


@pytest.mark.parametrize(("screen", "who", "path"), SCREENS, ids=[s[0] for s in SCREENS])
def test_screen_has_no_serious_accessibility_violation(
    demo_server, demo, demo_page, screen, who, path
):
    # Customers and cashiers hold phones; owners and admins sit at a desk.
    phone = who is None or who.endswith(".staff")
    width, height = (390, 844) if phone else (1280, 900)
    page = demo_page(login_of(demo, who), width=width, height=height)
    page.goto(demo_server.url + path.format(cafe=demo.cafe, bakery=demo.bakery))
    assert_accessible(page, screen)


@pytest.mark.parametrize("width", [390, 1024])
def test_cashier_journey_has_no_serious_accessibility_violation(
    demo_server, demo, demo_page, width
):
    """Each state of the cashier's panel, as htmx swaps it in, on a phone and a counter tablet."""
    page = demo_page(demo.cafe.staff_email, width=width, height=800)
    page.goto(f"{demo_server.url}/cashier/")
    problems = []

    def check(state):
        problems.extend(f"{state}: {line}" for line in blocking_violations(page))

    find_card(page, "example.com")
    expect(page.locator("#results-title")).to_be_visible()
    check("search results")

    find_card(page, demo.cafe.card_number)
    expect(page.locator("#card-title")).to_be_visible()
    check("card")

    find_card(page, "000000000000")
    expect(page.get_by_role("alert")).to_contain_text("No card found")
    check("card not found")

    find_card(page, demo.cafe.card_number)
    expect(page.locator("#card-title")).to_be_visible()
    if page.get_by_role("button", name="Add a stamp").count() == 0:
        # The other width's run stamped this card: it shows the cooldown, not the pad.
        expect(page.get_by_text(re.compile("Next stamp possible at"))).to_be_visible()
        check("card in its cooldown")
        assert not problems, "\n".join(problems)
        return

    page.get_by_role("button", name="Add a stamp").click()
    staff_picker = page.get_by_role("heading", name="Who is at the counter?")
    pin_field = page.get_by_label("Anna, enter your PIN")
    expect(staff_picker.or_(pin_field)).to_be_visible()
    if staff_picker.is_visible():  # the first test on this demo picks Anna for the terminal
        check("staff picker")
        page.get_by_role("button", name="Anna", exact=True).click()
    expect(pin_field).to_be_visible()
    check("PIN pad")

    type_pin_on_pad(page, "9999")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong PIN")
    check("wrong PIN")

    type_pin_on_pad(page, "4827")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("Stamp added")
    check("after the stamp, with its undo")

    page.get_by_role("link", name=re.compile("Undo the last action")).click()
    expect(page.get_by_role("heading", name=re.compile("Undo for"))).to_be_visible()
    check("undo pad")

    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", [390, 1024])
def test_points_counter_states_have_no_serious_accessibility_violation(
    demo_server, demo, demo_page, width
):
    """The amount refused as typed, and the second confirmation of a large amount."""
    page = demo_page(demo.bakery.staff_email, width=width, height=800)
    page.goto(f"{demo_server.url}/cashier/card/{demo.bakery.card_id}")
    problems = []
    page.get_by_label("Purchase amount (EUR)").fill("9999")
    expect(page.locator("#amount-feedback")).to_contain_text("The largest amount")
    problems += [f"amount refused: {line}" for line in blocking_violations(page)]
    page.get_by_label("Purchase amount (EUR)").fill("99.99")
    page.get_by_role("button", name="Add points").click()
    expect(page.get_by_role("heading", name="Is this amount right?")).to_be_visible()
    problems += [f"large amount: {line}" for line in blocking_violations(page)]
    assert not problems, "\n".join(problems)
