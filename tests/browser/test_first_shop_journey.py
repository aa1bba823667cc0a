"""Done-when of issue 16: from an empty database with only `flask loyalty create-admin`, a person
creates a shop, invites its owner (the invitation arrives at a real local SMTP server), the owner
sets up the program, a staff PIN and a counter terminal, a customer enrols on their phone, and the
terminal stamps the card — using only the screens."""

import re
import threading

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import serve
from tests.browser.steps import find_card, sign_in, type_pin_on_pad
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.browser

ADMIN = ("admin@platform.test", "admin-password-1")
OWNER = ("paul@cafe.test", "owner-password-1")
TERMINAL = ("counter@cafe.test", "counter-password-1")


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def empty_server(db_url, smtp):
    """The app on an empty (migrated) database, with the outbox worker beside it sending e-mail
    through the local SMTP server."""
    from loyalty_portal.worker import Worker

    with serve(db_url, **smtp.config()) as server:
        worker = Worker(server.app, poll_seconds=0.1)
        thread = threading.Thread(target=worker.run, name="outbox-worker", daemon=True)
        thread.start()
        try:
            yield server
        finally:
            worker.stop()
            thread.join(timeout=10)


def create_admin(server) -> None:
    result = server.app.test_cli_runner().invoke(
        args=["loyalty", "create-admin", ADMIN[0]], input=f"{ADMIN[1]}\n{ADMIN[1]}\n"
    )
    assert result.exit_code == 0, result.output


def test_from_an_empty_database_to_the_first_stamp_using_only_the_screens(
    empty_server, smtp, new_page
):
    create_admin(empty_server)

    # The admin creates the shop and invites its owner.
    admin = new_page(width=1280, height=900)
    sign_in(admin, empty_server, *ADMIN)
    admin.get_by_role("link", name="Shops").click()
    expect(admin.get_by_text("No shop yet.")).to_be_visible()
    admin.get_by_label("Shop name").fill("Café Lumière")
    admin.get_by_label("Short name in links").fill("cafe-lumiere")
    admin.get_by_label("Owner's e-mail address").fill(OWNER[0])
    admin.get_by_label("Owner's name").fill("Paul Weber")
    admin.get_by_role("button", name="Create the shop and invite the owner").click()
    expect(admin.get_by_text(f"An invitation is on its way to {OWNER[0]}")).to_be_visible()
    expect(admin.get_by_role("row").filter(has_text=OWNER[0])).to_contain_text(
        "Invited, no password yet")

    # The owner opens the invitation from their mailbox and chooses a password.
    [invitation] = smtp.wait_for(OWNER[0])
    owner = new_page(width=1280, height=900)
    owner.goto(smtp.link_in(invitation))
    owner.get_by_label("New password").fill(OWNER[1])
    owner.get_by_label("The same password again").fill(OWNER[1])
    owner.get_by_role("button", name="Save my password").click()

    # No program yet: the owner is asked to create it first.
    expect(owner.get_by_role("heading", name="Create your program")).to_be_visible()
    owner.get_by_label("Stamp card").check()
    owner.get_by_label("Program name").fill("Coffee card")
    owner.get_by_role("button", name="Create the program").click()
    expect(owner.get_by_text("Your program is created.")).to_be_visible()

    # A staff PIN, then a counter terminal's login.
    owner.get_by_role("navigation", name="Main").get_by_role("link", name="Staff").click()
    owner.get_by_label("Staff member's name").fill("Anna")
    owner.get_by_label("PIN (4 to 8 digits)").fill("4821")
    owner.get_by_role("button", name="Add", exact=True).click()
    expect(owner.get_by_text("Anna can now use their PIN.")).to_be_visible()
    owner.get_by_role("link", name="Logins").click()
    owner.get_by_label("Name of the terminal").fill("Counter 1")
    owner.get_by_label("Login (an e-mail address)").fill(TERMINAL[0])
    owner.get_by_label("Password (at least 8 characters)").fill(TERMINAL[1])
    owner.get_by_role("button", name="Add the terminal").click()
    expect(owner.get_by_text(f"Counter 1 can sign in at the counter with {TERMINAL[0]}")
           ).to_be_visible()

    # The owner prints the poster; its QR code and link lead to the join page.
    owner.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    owner.get_by_role("link", name="Print the enrolment poster").click()
    expect(owner.locator("article.poster")).to_contain_text("Scan to join")
    join_link = owner.locator(".poster__url").first.inner_text()
    assert join_link == f"{empty_server.url}/join/cafe-lumiere?lang=en"

    # A customer enrols from the poster's link on their phone.
    phone = new_page(width=390, height=844, is_mobile=True, has_touch=True)
    phone.goto(join_link)
    phone.get_by_label("Your name").fill("Marie Weber")
    phone.get_by_label("E-mail address").fill("marie@example.com")
    phone.get_by_label(re.compile("I have read the privacy notice")).check()
    phone.get_by_role("button", name="Get my card").click()
    phone.wait_for_url(re.compile(r"/card/[^/]+$"))
    card_number = phone.locator(".loyalty-card__number").first.inner_text()

    # The counter terminal stamps the card with Anna's PIN.
    counter = new_page()
    sign_in(counter, empty_server, *TERMINAL)
    find_card(counter, card_number)
    expect(counter.get_by_role("heading", name="Marie Weber")).to_be_visible()
    counter.get_by_role("button", name="Add a stamp").click()
    counter.get_by_role("button", name="Anna", exact=True).click()
    type_pin_on_pad(counter, "4821")
    counter.get_by_role("button", name="Confirm").click()
    expect(counter.get_by_role("status")).to_have_text("Stamp added for Marie Weber.")
    expect(counter.locator("#cashier-panel")).to_contain_text("1 of 10 stamps")

    # The customer's card shows it.
    expect(phone.locator("main")).to_contain_text("0 of 10 stamps")
    phone.reload()
    expect(phone.locator("main")).to_contain_text("1 of 10 stamps")


def test_the_program_page_shows_only_the_section_of_the_chosen_kind(page, live_server, shop):
    sign_in(page, live_server, shop.owner_email)
    page.goto(f"{live_server.url}/vendor/program")
    stamps_target = page.get_by_label("Stamps for a reward")
    points_rate = page.get_by_label("Points per unit of currency spent")
    expect(stamps_target).to_be_visible()
    expect(points_rate).to_be_hidden()
    page.get_by_label("Points", exact=True).check()
    expect(points_rate).to_be_visible()
    expect(stamps_target).to_be_hidden()


def test_a_refused_save_moves_to_the_error_summary(page, live_server, shop):
    sign_in(page, live_server, shop.owner_email)
    page.goto(f"{live_server.url}/vendor/program")
    page.get_by_label("Program name").fill("")
    page.get_by_role("button", name="Save the program").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    summary.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"#name$"))
