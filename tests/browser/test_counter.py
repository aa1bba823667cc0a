"""The counter's hazards of issue 15 in a real Chromium: a scanner's burst while a card or the PIN
pad is shown, a card not found, refusals before the PIN, several stamps at once, a large amount,
the cashier's undo, a locked PIN and the camera scanner fed by Chromium's fake camera.

The scanner is Playwright's keyboard typing a card number in one burst and pressing Enter, which
is what a USB or Bluetooth scanner does.
"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import STEP_TIMEOUT_MS, make_shop
from tests.browser.steps import find_card, sign_in, type_pin_on_pad, wait_until_settled

pytestmark = pytest.mark.browser


def scanner_burst(page, code: str) -> None:
    """A barcode scanner: the whole code in one burst, then Enter, wherever the focus is."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def _second_card(program_id: int) -> str:
    from loyalty_portal.extensions import db
    from loyalty_portal.models import LoyaltyProgram
    from tests.factories import make_card

    card = make_card(db.session.get(LoyaltyProgram, program_id), name="Paul Schmit")
    return card.card_number


def _failed_attempts(vendor_id: int) -> int:
    from loyalty_portal.services import pin_service

    return sum(p.failed_attempts for p in pin_service.list_pins(vendor_id))


def _ledger(card_id: int) -> list[tuple[str, int, int | None]]:
    from sqlalchemy import select

    from loyalty_portal.extensions import db
    from loyalty_portal.models import LoyaltyTransaction as T

    rows = db.session.execute(
        select(T.transaction_type, T.stamps_delta, T.voids_transaction_id)
        .where(T.card_id == card_id).order_by(T.id)
    )
    return [(str(kind), delta, voids) for kind, delta, voids in rows]


def _stamp_now(shop) -> None:
    from loyalty_portal.services import pin_service, stamp_service
    from loyalty_portal.services.ledger import Actor

    anna = next(p for p in pin_service.list_pins(shop.vendor_id) if p.name == shop.staff_name)
    stamp_service.add_stamp(shop.vendor_id, shop.card_id,
                            actor=Actor(staff_pin_id=anna.id, pin=shop.pin))


def _pick_anna(page, shop) -> None:
    expect(page.get_by_role("heading", name="Who is at the counter?")).to_be_visible()
    page.get_by_role("button", name=shop.staff_name, exact=True).click()


def _counter(page, live_server, shop):
    sign_in(page, live_server, shop.staff_email)
    find_card(page, shop.card_number)
    expect(page.get_by_role("heading", name=shop.customer)).to_be_visible()
    wait_until_settled(page)


# A scan always starts a new lookup --------------------------------------------------------------


def test_a_scan_while_a_card_is_shown_looks_up_the_new_card(page, live_server, shop):
    paul = live_server.run(_second_card, shop.program_id)
    _counter(page, live_server, shop)
    # "Add a stamp" has the focus: a stray Enter would open Marie's confirmation.
    expect(page.get_by_role("button", name="Add a stamp")).to_be_focused()
    scanner_burst(page, paul)
    expect(page.get_by_role("heading", name="Paul Schmit")).to_be_visible()
    expect(page.get_by_role("heading", name=shop.customer)).to_have_count(0)
    expect(page.get_by_label(re.compile("enter your PIN"))).to_have_count(0)


def test_a_scan_while_the_pin_pad_is_open_costs_no_pin_attempt(page, live_server, shop):
    paul = live_server.run(_second_card, shop.program_id)
    _counter(page, live_server, shop)
    page.get_by_role("button", name="Add a stamp").click()
    _pick_anna(page, shop)
    pin = page.get_by_label(f"{shop.staff_name}, enter your PIN")
    expect(pin).to_be_focused()
    scanner_burst(page, paul)
    expect(page.get_by_role("heading", name="Paul Schmit")).to_be_visible()
    expect(page.get_by_label(f"{shop.staff_name}, enter your PIN")).to_have_count(0)
    expect(page.get_by_role("alert")).to_have_count(0)
    assert live_server.run(_failed_attempts, shop.vendor_id) == 0
    assert live_server.run(_ledger, shop.card_id) == []


def test_card_not_found_clears_the_previous_card(page, live_server, shop):
    _counter(page, live_server, shop)
    scanner_burst(page, "000000000000")
    expect(page.get_by_role("alert")).to_contain_text("No card found for “000000000000”.")
    expect(page.get_by_role("heading", name=shop.customer)).to_have_count(0)
    expect(page.get_by_role("button", name="Add a stamp")).to_have_count(0)
    expect(page.get_by_label("Card number, QR code, name, e-mail or phone")).to_be_focused()


# Refuse before the PIN ---------------------------------------------------------------------------


def test_a_card_in_its_cooldown_offers_no_stamp_button(page, live_server, shop):
    live_server.run(_stamp_now, shop)
    _counter(page, live_server, shop)
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"Next stamp possible at \d"))
    expect(page.get_by_role("button", name="Add a stamp")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"\d stamps"))).to_have_count(0)


def test_a_full_card_offers_redeeming_first(page, live_server):
    shop = live_server.run(make_shop, stamps_target=1, cooldown_minutes=0)
    live_server.run(_stamp_now, shop)
    _counter(page, live_server, shop)
    expect(page.get_by_role("link", name="Redeem the reward")).to_be_focused()


def test_three_coffees_are_one_ledger_row_of_three_stamps(page, live_server, shop):
    _counter(page, live_server, shop)
    page.get_by_role("button", name="3 stamps").click()
    _pick_anna(page, shop)
    expect(page.get_by_role("heading", name=f"Add 3 stamps for {shop.customer}")).to_be_visible()
    type_pin_on_pad(page, shop.pin)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_have_text(f"3 stamps added for {shop.customer}.")
    assert live_server.run(_ledger, shop.card_id) == [("stamp_earned", 3, None)]


def _points_shop(**settings):
    from loyalty_portal.services import program_service

    shop = make_shop()
    program_service.update_program(shop.vendor_id, program_type="points",
                                   points_per_currency_unit=1, **settings)
    return shop


def test_an_amount_over_the_limit_is_refused_as_it_is_typed(page, live_server):
    shop = live_server.run(_points_shop, max_purchase_amount_cents=20_000)
    _counter(page, live_server, shop)
    amount = page.get_by_label("Purchase amount (EUR)")
    feedback = page.locator("#amount-feedback")
    amount.fill("9999")
    expect(feedback.get_by_role("alert")).to_contain_text(
        "The largest amount a cashier may enter is €200.00.")
    page.get_by_role("button", name="Add points").click()
    expect(page.locator("#messages").get_by_role("alert")).to_contain_text("€200.00")
    expect(page.get_by_role("heading", name="Who is at the counter?")).to_have_count(0)
    expect(page.get_by_label(re.compile("enter your PIN"))).to_have_count(0)
    amount.fill("0")
    expect(feedback).to_contain_text("The purchase amount must be above zero.")
    amount.fill("12,5x")
    expect(feedback).to_contain_text("Enter the amount like 12.50.")
    amount.fill("12.50")
    expect(page.locator("#amount-feedback")).to_have_text("= 12 points")


def test_a_large_amount_is_confirmed_with_its_points_before_the_pin(page, live_server):
    shop = live_server.run(_points_shop, confirm_purchase_above_cents=5_000)
    _counter(page, live_server, shop)
    page.get_by_label("Purchase amount (EUR)").fill("99.99")
    page.get_by_role("button", name="Add points").click()
    expect(page.get_by_role("heading", name="Is this amount right?")).to_be_visible()
    expect(page.locator("#cashier-panel")).to_contain_text("€99.99 → 99 points")
    page.get_by_role("link", name="Yes, add 99 points").click()
    _pick_anna(page, shop)
    type_pin_on_pad(page, shop.pin)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_have_text(f"99 points added for {shop.customer}.")


# Undo ---------------------------------------------------------------------------------------------


def test_the_cashier_undoes_their_own_stamp_inside_the_window(page, live_server, shop):
    _counter(page, live_server, shop)
    page.get_by_role("button", name="Add a stamp").click()
    _pick_anna(page, shop)
    type_pin_on_pad(page, shop.pin)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_have_text(f"Stamp added for {shop.customer}.")
    page.get_by_role("link", name=re.compile("Undo the last action")).click()
    expect(page.get_by_role("heading", name=f"Undo for {shop.customer}")).to_be_visible()
    type_pin_on_pad(page, shop.pin)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_have_text(f"Undone for {shop.customer}.")
    expect(page.locator("#cashier-panel")).to_contain_text("0 of 10 stamps")
    rows = live_server.run(_ledger, shop.card_id)
    assert rows[0][:2] == ("stamp_earned", 1)
    assert rows[1][0] == "void" and rows[1][1] == -1 and rows[1][2] is not None


def test_no_undo_outside_the_window(page, live_server, shop, frozen_time):
    _counter(page, live_server, shop)
    page.get_by_role("button", name="Add a stamp").click()
    _pick_anna(page, shop)
    type_pin_on_pad(page, shop.pin)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("link", name=re.compile("Undo the last action"))).to_be_visible()
    frozen_time.advance(timedelta(minutes=5, seconds=1))
    find_card(page, shop.card_number)
    expect(page.get_by_role("heading", name=shop.customer)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Undo the last action"))).to_have_count(0)


# Lockout ------------------------------------------------------------------------------------------


def test_a_locked_pin_disables_the_pad_and_offers_another_staff_member(page, live_server):
    shop = live_server.run(make_shop, pin_max_failed_attempts=1)
    _counter(page, live_server, shop)
    page.get_by_role("button", name="Add a stamp").click()
    _pick_anna(page, shop)
    type_pin_on_pad(page, "0000")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="PIN locked")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(
        re.compile(r"Anna's PIN is locked at this terminal until \d")
    )
    expect(page.get_by_label(re.compile("enter your PIN"))).to_have_count(0)
    page.get_by_role("button", name="Another staff member").click()
    expect(page.get_by_role("heading", name="Who is at the counter?")).to_be_visible()


# Camera -------------------------------------------------------------------------------------------


def write_y4m(path, text: str, width: int = 640, height: int = 480, frames: int = 5) -> None:
    """A raw video (YUV4MPEG2, 4:2:0) of a QR code of `text`, for Chromium's fake camera."""
    import segno

    qr = segno.make(text, error="m")
    rows = [list(row) for row in qr.matrix_iter(scale=1, border=4)]
    scale = min(width, height) * 3 // 4 // len(rows)
    size = len(rows) * scale
    left, top = (width - size) // 2, (height - size) // 2
    luma = bytearray([235]) * (width * height)  # light grey paper
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (top + y * scale + dy) * width + left + x * scale
                    luma[start:start + scale] = bytes([16]) * scale
    chroma = bytes([128]) * (width // 2 * height // 2)
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + bytes(luma) + chroma + chroma)


def test_the_camera_scanner_reads_a_card_qr_code(browser, live_server, shop, tmp_path):
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    video = tmp_path / "card-qr.y4m"
    write_y4m(video, shop.public_token)
    camera_browser = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream",
              "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"],
    )
    try:
        context = camera_browser.new_context(viewport={"width": 1024, "height": 768})
        context.set_default_timeout(STEP_TIMEOUT_MS)
        page = context.new_page()
        sign_in(page, live_server, shop.staff_email)
        page.get_by_role("button", name="Scan with the camera").click()
        expect(page.get_by_role("heading", name=shop.customer)).to_be_visible()
        expect(page.get_by_role("button", name="Add a stamp")).to_be_visible()
    finally:
        camera_browser.close()


def test_a_refused_camera_says_so(browser, live_server, shop):
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    camera_browser = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--deny-permission-prompts"],
    )
    try:
        page = camera_browser.new_page()
        page.set_default_timeout(STEP_TIMEOUT_MS)
        sign_in(page, live_server, shop.staff_email)
        page.get_by_role("button", name="Scan with the camera").click()
        expect(page.get_by_role("alert")).to_contain_text("The camera could not be used")
    finally:
        camera_browser.close()


# The customer's card page ---------------------------------------------------------------------


def test_the_customers_card_page_shows_a_new_stamp_by_itself(new_page, live_server, shop):
    phone = new_page(width=390, height=844, is_mobile=True, has_touch=True)
    phone.goto(f"{live_server.url}/card/{shop.public_token}")
    expect(phone.locator("#card-live")).to_contain_text("0 of 10 stamps")
    live_server.run(_stamp_now, shop)
    # The page polls every 5 seconds (answered 304 while nothing changed).
    expect(phone.locator("#card-live")).to_contain_text("1 of 10 stamps", timeout=15_000)
