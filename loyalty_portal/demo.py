"""Demo data for `make run` and screenshots: two vendors, their people, customers and history."""

import contextlib
import random
from datetime import timedelta

from sqlalchemy import select

from . import clock
from .errors import LoyaltyError
from .extensions import db
from .models import Role, User, Vendor
from .services import (
    card_service,
    pin_service,
    points_service,
    program_service,
    stamp_service,
    vendor_service,
)
from .services.ledger import Actor

DEMO_PASSWORD = "loyalty-demo"

CUSTOMERS = [
    ("Marie Weber", "marie.weber@example.com", "+352621100101", "fr"),
    ("Jean Muller", "jean.muller@example.com", "+352621100102", "fr"),
    ("Sophie Schmit", "sophie.schmit@example.com", "+352621100103", "lb"),
    ("Lukas Becker", "lukas.becker@example.com", "+352621100104", "de"),
    ("Emma Hoffmann", "emma.hoffmann@example.com", "+352621100105", "de"),
    ("Tom Reuter", "tom.reuter@example.com", "+352621100106", "lb"),
    ("Clara Dupont", "clara.dupont@example.com", "+352621100107", "fr"),
    ("Noah Wagner", "noah.wagner@example.com", "+352621100108", "en"),
]


def seed_demo(history_days: int = 21) -> list[str]:
    """Create the demo (idempotent: an existing demo vendor is left as it is) and return the
    lines that tell a newcomer how to sign in."""
    lines = [f"Password for every demo login: {DEMO_PASSWORD}"]
    if db.session.scalar(select(User.id).where(User.email == "admin@demo.test")) is None:
        vendor_service.create_user("admin@demo.test", "Platform admin", DEMO_PASSWORD, Role.ADMIN)
    lines.append("Admin:          admin@demo.test")

    cafe = _vendor(
        "cafe-lumiere",
        "Café Lumière",
        "stamps",
        "Coffee card",
        stamps_target=10,
        stamps_reward_description="A free coffee of your choice",
        description="Collect 10 stamps, the 11th coffee is on us.",
        card_background_color="#5B3A29",
        # The Google button shows once the platform has Google Wallet settings (docs/wallets.md).
        google_wallet_enabled=True,
        apple_wallet_enabled=True,
        shop_latitude=49.6106,
        shop_longitude=6.1296,
        max_stamps_per_purchase=4,
    )
    bakery = _vendor(
        "boulangerie-schmit",
        "Boulangerie Schmit",
        "points",
        "Bread points",
        points_per_currency_unit=1,
        description="1 point for every euro spent.",
        card_background_color="#1F3A5F",
        google_wallet_enabled=True,
        apple_wallet_enabled=True,
        max_purchase_amount_cents=30_000,
        confirm_purchase_above_cents=5_000,
        points_rewards=[
            {"id": "croissant", "name": "A croissant", "points_cost": 20, "active": True},
            {"id": "baguette", "name": "A baguette", "points_cost": 30, "active": True},
            {"id": "cake", "name": "A fruit tart", "points_cost": 80, "active": True},
        ],
    )
    for vendor, history in ((cafe, _stamp_history), (bakery, _points_history)):
        lines += _people(vendor)
        if vendor.created_now:
            _customers_with_history(vendor.vendor, history, history_days)
    return lines


class _Seeded:
    def __init__(self, vendor: Vendor, created_now: bool):
        self.vendor, self.created_now = vendor, created_now


def _vendor(slug, name, program_type, program_name, **settings) -> _Seeded:
    vendor = db.session.scalar(select(Vendor).where(Vendor.slug == slug))
    if vendor is not None:
        return _Seeded(vendor, False)
    vendor = vendor_service.create_vendor(slug, name)
    program_service.create_program(vendor.id, program_type, program_name, **settings)
    return _Seeded(vendor, True)


def _people(seeded: _Seeded) -> list[str]:
    vendor = seeded.vendor
    owner_email, counter_email = f"owner@{vendor.slug}.test", f"counter@{vendor.slug}.test"
    if seeded.created_now:
        vendor_service.create_user(
            owner_email, f"Owner of {vendor.name}", DEMO_PASSWORD, Role.OWNER, vendor.id
        )
        vendor_service.create_user(
            counter_email, f"{vendor.name} counter", DEMO_PASSWORD, Role.STAFF, vendor.id
        )
        pin_service.create_pin(vendor.id, "Anna", "4827")
        pin_service.create_pin(vendor.id, "Luc", "5139")
    return [
        f"{vendor.name} ({vendor.slug}):",
        f"  owner          {owner_email}",
        f"  staff terminal {counter_email}",
        "  staff PINs     Anna 4827, Luc 5139",
        f"  join page      /join/{vendor.slug}",
    ]


def _customers_with_history(vendor: Vendor, history, days: int) -> None:
    program = program_service.get_program(vendor.id)
    pins = pin_service.list_pins(vendor.id)
    rng = random.Random(vendor.slug)
    now = clock.utcnow()
    # History is replayed through the services with the clock moved back; the PIN check is
    # skipped while seeding (each would cost a bcrypt round), the PIN is still recorded.
    program_service.update_program(vendor.id, require_staff_pin=False)
    try:
        for index, (name, email, phone, locale) in enumerate(CUSTOMERS):
            clock.freeze(now - timedelta(days=days, hours=-index))
            card = card_service.enrol_customer(
                program, name=name, email=email, phone=phone, locale=locale, consent=True
            ).card
            for day in range(days, 0, -1):
                if rng.random() < 0.45:
                    moment = now - timedelta(days=day, hours=rng.randint(-4, 4))
                    clock.freeze(moment)
                    actor = Actor(staff_pin_id=rng.choice(pins).id, user_agent="demo seed")
                    # A rule may refuse it, as it would at the counter.
                    with contextlib.suppress(LoyaltyError):
                        history(vendor.id, card.id, actor, rng)
    finally:
        clock.freeze(None)
        program_service.update_program(vendor.id, require_staff_pin=True)


def _stamp_history(vendor_id, card_id, actor, rng) -> None:
    result = stamp_service.add_stamp(vendor_id, card_id, actor=actor)
    if result.reward_available and rng.random() < 0.7:
        stamp_service.redeem_reward(vendor_id, card_id, actor=actor)


def _points_history(vendor_id, card_id, actor, rng) -> None:
    result = points_service.earn_points(vendor_id, card_id, rng.randint(250, 2500), actor=actor)
    if result.points_balance >= 30 and rng.random() < 0.3:
        points_service.redeem_reward(vendor_id, card_id, "baguette", actor=actor)
