"""Browser tests: the real app served on a loopback port, driven by Debian's Chromium.

- `live_server`: the application on this test's own database (the `db_url` fixture of
  tests/conftest.py), with real CSRF, served by werkzeug in a thread on a free port.
- `shop`: a stamp-card café on that database (owner, staff terminal, admin, Anna's PIN, a card).
- `browser`: one Chromium for all browser tests (launched once, closed after the last one);
  `page` / `new_page(width=..., height=..., ...)`: a fresh browser context (no cookies) per page.
- `demo_server`, `demo`, `demo_page(email, ...)`: for tests that only look (accessibility,
  screenshots): one server per module with `flask loyalty demo`'s data, and pages already signed
  in (each login goes through the form once per module).

SQLite allows one writer at a time and every transaction starts with BEGIN IMMEDIATE, so the test
thread never holds a transaction while the browser drives the server: `live_server.run(fn)` runs
`fn` in an app context, commits and removes the session before returning. Return plain values
(ids, numbers) from `fn`, not ORM objects, which are detached afterwards.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.browser.steps import sign_in
from tests.conftest import _test_config

# How long a Playwright step may wait before it fails (ms): generous for a loaded CI machine,
# tiny against the 30 s default, so a broken test fails fast.
STEP_TIMEOUT_MS = 10_000
# expect() assertions keep their own 5 s default otherwise, which a loaded machine can miss.
expect.set_options(timeout=STEP_TIMEOUT_MS)


@dataclass
class LiveServer:
    app: object
    url: str

    def run(self, fn: Callable, *args, **kwargs):
        """Call fn in an app context and end its transaction before the browser goes on."""
        from loyalty_portal.extensions import db

        with self.app.app_context():
            try:
                result = fn(*args, **kwargs)
                db.session.commit()
                return result
            finally:
                db.session.remove()


@contextlib.contextmanager
def serve(database_url: str, **settings):
    """The app on `database_url` (with `settings` on top of the tests' configuration), served on
    a free loopback port until the block ends."""
    from loyalty_portal import create_app
    from loyalty_portal.extensions import db

    config = _test_config(database_url)
    # Real CSRF: the browser posts the tokens the pages carry (form fields and htmx's header).
    config.update(WTF_CSRF_ENABLED=True, TESTING=False)
    # Not testing, so production's checks apply: secrets of production length.
    config.update(SECRET_KEY="browser-tests-secret-key-" + "s" * 32,
                  PIN_PEPPER="browser-tests-pin-pepper-" + "p" * 32)
    config.update(settings)
    app = create_app(config)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, url)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture
def live_server(db_url):
    """The app on this test's own empty database."""
    with serve(db_url) as server:
        yield server


@pytest.fixture(scope="module")
def demo_server(_migrated_schema, db_kind, tmp_path_factory):
    """The app with `flask loyalty demo`'s data (two shops, three weeks of history), shared by
    the tests of one module that only look (accessibility, screenshots)."""
    from loyalty_portal.demo import seed_demo

    if db_kind == "sqlite":
        url = _migrated_schema.fresh_url(tmp_path_factory.mktemp("demo"))
    else:
        url = _migrated_schema.url
    try:
        with serve(url) as server:
            server.run(seed_demo)
            yield server
    finally:
        if db_kind != "sqlite":
            _migrated_schema.empty_all_tables()


@pytest.fixture(scope="package")
def browser(browser_type_launch_args):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**browser_type_launch_args)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Open a page in a fresh context (own cookies): new_page(viewport=..., locale=...)."""
    contexts = []

    def _new_page(width: int = 1024, height: int = 768, locale: str = "en-GB", **options):
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale=locale, **options
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield _new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@dataclass
class Shop:
    """A café's stamp card, as plain values (safe to use while the browser drives the server)."""

    vendor_id: int
    slug: str
    program_id: int
    program_name: str
    card_id: int
    card_number: str
    public_token: str
    customer: str
    staff_name: str
    pin: str
    owner_email: str
    staff_email: str
    admin_email: str


def make_shop(**settings) -> Shop:
    """A stamp-card café with an owner, a staff terminal login, Anna's PIN and Marie's card
    (run it through live_server.run)."""
    from loyalty_portal.models import Role
    from tests.factories import make_card, make_pin, make_program, make_user, make_vendor

    vendor = make_vendor("cafe-lumiere", name="Café Lumière")
    settings.setdefault("stamps_target", 10)
    program = make_program(vendor, "stamps", name="Coffee card", **settings)
    card = make_card(program, name="Marie Weber", email="marie.weber@example.com")
    make_pin(vendor, "Anna", "4821")
    return Shop(
        vendor_id=vendor.id, slug=vendor.slug, program_id=program.id, program_name=program.name,
        card_id=card.id, card_number=card.card_number, public_token=card.public_token,
        customer="Marie Weber", staff_name="Anna", pin="4821",
        owner_email=make_user(Role.OWNER, vendor, "owner@cafe.test").email,
        staff_email=make_user(Role.STAFF, vendor, "counter@cafe.test").email,
        admin_email=make_user(Role.ADMIN, email="admin@platform.test").email,
    )


@pytest.fixture
def shop(live_server) -> Shop:
    return live_server.run(make_shop)


# --------------------------------------------------------------------------- the demo's screens


@dataclass
class DemoShop:
    slug: str
    owner_email: str
    staff_email: str
    program_id: int
    card_id: int
    card_number: str
    public_token: str
    staff_pin_id: int
    transaction_id: int


def demo_shop(slug: str) -> DemoShop:
    """Where the demo's screens of one shop are (run it through demo_server.run): its program,
    Marie Weber's card and its first transaction, Anna's PIN."""
    from sqlalchemy import select

    from loyalty_portal.extensions import db
    from loyalty_portal.models import (
        Customer,
        LoyaltyCard,
        LoyaltyProgram,
        LoyaltyTransaction,
        StaffPin,
        Vendor,
    )

    vendor = db.session.scalar(select(Vendor).where(Vendor.slug == slug))
    program = db.session.scalar(select(LoyaltyProgram).where(LoyaltyProgram.vendor_id == vendor.id))
    card = db.session.scalar(
        select(LoyaltyCard).join(Customer)
        .where(LoyaltyCard.program_id == program.id, Customer.name == "Marie Weber")
    )
    pin = db.session.scalar(
        select(StaffPin).where(StaffPin.vendor_id == vendor.id, StaffPin.name == "Anna")
    )
    transaction_id = db.session.scalar(
        select(LoyaltyTransaction.id).where(LoyaltyTransaction.card_id == card.id)
        .order_by(LoyaltyTransaction.id.desc()).limit(1)
    )
    return DemoShop(slug, f"owner@{slug}.test", f"counter@{slug}.test", program.id, card.id,
                    card.card_number, card.public_token, pin.id, transaction_id)


@pytest.fixture(scope="module")
def demo(demo_server):
    """The demo's two shops: demo.cafe (stamps) and demo.bakery (points)."""

    @dataclass
    class Demo:
        cafe: DemoShop
        bakery: DemoShop
        admin_email: str = "admin@demo.test"

    return Demo(demo_server.run(demo_shop, "cafe-lumiere"),
                demo_server.run(demo_shop, "boulangerie-schmit"))


@pytest.fixture(scope="module")
def signed_in_states(browser, demo_server):
    """Cookies of a signed-in browser per demo login, made once per module: a test opens a page
    that is already signed in instead of going through the form again."""
    from loyalty_portal.demo import DEMO_PASSWORD

    states = {}

    def state_for(email: str):
        if email not in states:
            context = browser.new_context()
            context.set_default_timeout(STEP_TIMEOUT_MS)
            sign_in(context.new_page(), demo_server, email, DEMO_PASSWORD)
            states[email] = context.storage_state()
            context.close()
        return states[email]

    return state_for


@pytest.fixture
def demo_page(new_page, signed_in_states):
    """demo_page(email or None, width=..., height=...): a page in its own context, signed in."""

    def _demo_page(email: str | None = None, **options):
        if email:
            options["storage_state"] = signed_in_states(email)
        return new_page(**options)

    return _demo_page
