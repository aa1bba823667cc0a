"""What a person does in the browser, shared by the browser tests."""

from tests.factories import DEFAULT_PASSWORD


def sign_in(page, live_server, email: str, password: str = DEFAULT_PASSWORD,
            remember: bool = False) -> None:
    """Sign in through the login form (real CSRF token) and wait for the role's start page."""
    page.goto(f"{live_server.url}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    if remember:
        page.get_by_label("Remember this terminal").check()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def find_card(page, number: str) -> None:
    """Type the card number into the scan field and press Enter, as a scanner does."""
    scan = page.get_by_label("Card number, QR code, name, e-mail or phone")
    scan.fill(number)
    scan.press("Enter")


def wait_until_settled(page) -> None:
    """Wait until htmx has settled what it swapped in. htmx wires the new content's own hx-
    triggers in its settle step (20 ms after the swap), so text filled into a field before
    then fires no request, where a person's first keystroke always comes later."""
    page.locator(".htmx-request, .htmx-swapping, .htmx-settling").first.wait_for(state="detached")


def type_pin_on_pad(page, pin: str) -> None:
    for digit in pin:
        page.locator(f"[data-pinpad-keys] [data-digit='{digit}']").click()
