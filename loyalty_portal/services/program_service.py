"""Programs: creating a vendor's program and validating the settings an owner changes.

Statistics live in statistics_service, the setup screen's card preview in card_look."""

import re
import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..errors import (
    LoyaltyProgramAlreadyExists,
    LoyaltyProgramInactive,
    LoyaltyProgramNotFound,
    ValidationError,
    VendorNotFound,
)
from ..extensions import db
from ..models import (
    LoyaltyCard,
    LoyaltyProgram,
    ProgramType,
    Vendor,
)
from . import change_tags, outbox
from .lookup import get_or_raise, one_or_raise

COLOUR_PATTERN = re.compile(r"^#[0-9A-Fa-f]{6}$")
REWARD_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

# Settings an owner may change, with the check each must pass.
_INT_RANGES = {
    "stamps_target": (1, 100),
    "points_per_currency_unit": (0, 1000),
    "cooldown_minutes": (0, 24 * 60),
    "max_daily_stamps": (1, 100),
    "pin_max_failed_attempts": (1, 20),
    "pin_lockout_minutes": (1, 24 * 60),
    "max_stamps_per_purchase": (1, 10),  # stamp_service.MAX_STAMPS_PER_OPERATION
    "max_purchase_amount_cents": (1, 10_000_000),  # points_service.MAX_PURCHASE_AMOUNT_CENTS
    "counter_undo_minutes": (0, 60),
}
# Settings that may also be None (switched off).
_OPTIONAL_INT_RANGES = {
    "max_daily_points": (1, 1_000_000),
    "confirm_purchase_above_cents": (1, 10_000_000),
}
_TEXT_LIMITS = {"name": (1, 120), "description": (0, 2000), "stamps_reward_description": (0, 200)}
# is_active pauses the program: no enrolments or counter operations; owners' corrections still work.
_BOOLEANS = ("require_staff_pin", "apple_wallet_enabled", "google_wallet_enabled", "is_active")
_COLOURS = ("card_background_color", "card_text_color")
# The shop's position, where the Apple pass surfaces on the lock screen; empty means none.
_COORDINATES = {"shop_latitude": (-90, 90), "shop_longitude": (-180, 180)}
EDITABLE_SETTINGS = (
    *_INT_RANGES,
    *_COORDINATES,
    *_OPTIONAL_INT_RANGES,
    *_TEXT_LIMITS,
    *_BOOLEANS,
    *_COLOURS,
    "logo_url",
    "points_rewards",
    "program_type",
)
# What a card's wallet pass shows: changing one of these changes every pass of the program.
PASS_SETTINGS = frozenset(
    {
        "program_type",
        "name",
        "description",
        "stamps_target",
        "stamps_reward_description",
        "points_per_currency_unit",
        "points_rewards",
        "card_background_color",
        "card_text_color",
        "logo_url",
    }
)


def _validated(changes: dict[str, Any]) -> dict[str, Any]:
    """The settings checked and cleaned. Raises one ValidationError naming every refused setting
    (ValidationError.all_of), so an owner corrects them all in one go."""
    clean: dict[str, Any] = {}
    problems: list[ValidationError] = []
    for key, value in changes.items():
        try:
            clean[key] = _validated_setting(key, value)
        except ValidationError as problem:
            problems.append(problem)
    if problems:
        raise ValidationError.all_of(problems)
    return clean


def _validated_setting(key: str, value: Any) -> Any:
    if key not in EDITABLE_SETTINGS:
        raise ValidationError(_l("Unknown setting."), field=key)
    if key in _OPTIONAL_INT_RANGES and value is None:
        pass
    elif key in _INT_RANGES or key in _OPTIONAL_INT_RANGES:
        low, high = _INT_RANGES.get(key) or _OPTIONAL_INT_RANGES[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationError(
                _l("Must be a whole number from %(low)s to %(high)s.", low=low, high=high),
                field=key,
            )
    elif key in _TEXT_LIMITS:
        low, high = _TEXT_LIMITS[key]
        value = (value or "").strip()
        if not low <= len(value) <= high:
            raise ValidationError(
                _l("Must be %(low)s to %(high)s characters.", low=low, high=high), field=key
            )
    elif key in _BOOLEANS:
        if not isinstance(value, bool):
            raise ValidationError(_l("Must be true or false."), field=key)
    elif key in _COLOURS:
        if not isinstance(value, str) or not COLOUR_PATTERN.fullmatch(value):
            raise ValidationError(_l("Must be a colour like #1F3A5F."), field=key)
        value = value.upper()
    elif key in _COORDINATES:
        low, high = _COORDINATES[key]
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise ValidationError(
                _l("Must be a number from %(low)s to %(high)s, or empty.", low=low, high=high),
                field=key,
            )
    elif key == "logo_url":
        value = (value or "").strip() or None
        if value is not None and (len(value) > 500 or not value.startswith(("https://", "/"))):
            raise ValidationError(_l("Must be an https:// address."), field=key)
    elif key == "points_rewards":
        value = validate_rewards_catalogue(value)
    elif key == "program_type":
        try:
            value = ProgramType(value)
        except ValueError:
            raise ValidationError(_l("Must be stamps or points."), field=key) from None
    return value


def validate_rewards_catalogue(rewards: Any) -> list[dict[str, Any]]:
    """A list of `{"id", "name", "points_cost", "active"}` with unique ids and positive costs."""
    if not isinstance(rewards, list) or len(rewards) > 50:
        raise ValidationError(
            _l("The rewards catalogue must be a list of at most 50 rewards."),
            field="points_rewards",
        )
    clean, seen = [], set()
    for index, reward in enumerate(rewards):
        field = f"points_rewards[{index}]"
        if not isinstance(reward, dict):
            raise ValidationError(
                _l("Each reward needs an id, a name and a points cost."), field=field
            )
        name = str(reward.get("name", "")).strip()
        # An owner need not invent ids: an empty one is made from the name ("Pain au chocolat"
        # → "pain-au-chocolat", "-2" when taken).
        reward_id = str(reward.get("id", "")).strip().lower() or reward_id_from_name(name, seen)
        cost = reward.get("points_cost")
        active = reward.get("active", True)
        if not REWARD_ID_PATTERN.fullmatch(reward_id) or reward_id in seen:
            raise ValidationError(
                _l("Each reward needs its own short id (a-z, 0-9, - and _)."), field=f"{field}.id"
            )
        if not 1 <= len(name) <= 200:
            raise ValidationError(_l("Each reward needs a name."), field=f"{field}.name")
        if isinstance(cost, bool) or not isinstance(cost, int) or not 1 <= cost <= 1_000_000:
            raise ValidationError(
                _l("A reward costs at least 1 point."), field=f"{field}.points_cost"
            )
        seen.add(reward_id)
        clean.append({"id": reward_id, "name": name, "points_cost": cost, "active": bool(active)})
    return clean


def reward_id_from_name(name: str, taken: set[str]) -> str:
    """A short id for a reward from its name: ASCII letters and digits joined by dashes."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:56] or "reward"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def get_program(vendor_id: int) -> LoyaltyProgram:
    return one_or_raise(
        select(LoyaltyProgram).where(LoyaltyProgram.vendor_id == vendor_id),
        LoyaltyProgramNotFound(vendor_id),
    )


def find_program(vendor_id: int) -> LoyaltyProgram | None:
    """The vendor's program, or None while the owner has not created it yet."""
    return db.session.scalar(select(LoyaltyProgram).where(LoyaltyProgram.vendor_id == vendor_id))


def get_program_by_id(program_id: int) -> LoyaltyProgram:
    return get_or_raise(LoyaltyProgram, program_id, LoyaltyProgramNotFound(program_id))


def get_public_program(vendor_slug: str) -> LoyaltyProgram:
    """The program behind a vendor's QR code; refuses an inactive one so nobody enrols in it."""
    program = one_or_raise(
        select(LoyaltyProgram)
        .join(Vendor, Vendor.id == LoyaltyProgram.vendor_id)
        .where(Vendor.slug == vendor_slug),
        LoyaltyProgramNotFound(vendor_slug),
    )
    if not program.is_active or program.vendor.is_suspended:
        raise LoyaltyProgramInactive(program.id)
    return program


def create_program(vendor_id: int, program_type: str, name: str, **settings: Any) -> LoyaltyProgram:
    """Create the vendor's one program (active). Unset settings take the defaults of the
    design note: PIN required, 15 minutes cooldown, 5 stamps a day, lock after 5 wrong PINs
    for 30 minutes. Raises VendorNotFound, LoyaltyProgramAlreadyExists, ValidationError."""
    get_or_raise(Vendor, vendor_id, VendorNotFound(vendor_id))
    clean = _validated({"program_type": program_type, "name": name, **settings})
    if db.session.scalar(select(LoyaltyProgram.id).where(LoyaltyProgram.vendor_id == vendor_id)):
        raise LoyaltyProgramAlreadyExists(vendor_id)
    program = LoyaltyProgram(vendor_id=vendor_id, **clean)
    db.session.add(program)
    db.session.commit()
    return program


def update_program(vendor_id: int, **changes: Any) -> LoyaltyProgram:
    """Change settings of the vendor's program. The type can change only while no card has a
    balance of the old kind. A change to what passes show (PASS_SETTINGS) gives every card of the
    program a new change tag and announces PROGRAM_CHANGED in the outbox, in the same
    transaction. Raises LoyaltyProgramNotFound, ValidationError."""
    program = get_program(vendor_id)
    clean = _validated(changes)
    new_type = clean.get("program_type")
    if new_type is not None and new_type != program.program_type:
        balance = LoyaltyCard.stamp_count if program.is_stamps else LoyaltyCard.points_balance
        if db.session.scalar(
            select(LoyaltyCard.id).where(LoyaltyCard.program_id == program.id, balance > 0).limit(1)
        ):
            raise ValidationError(
                _l("The program type cannot change while cards hold a balance."),
                field="program_type",
            )
    shown_changes = [
        key
        for key, value in clean.items()
        if key in PASS_SETTINGS and getattr(program, key) != value
    ]
    for key, value in clean.items():
        setattr(program, key, value)
    if shown_changes:
        # Every card's pass shows these: all of the program's cards change, in this transaction.
        db.session.flush()
        change_tags.bump_program(program.id)
        outbox.announce_program_change(program.id, "program_edited")
    db.session.commit()
    return program


def set_program_active(vendor_id: int, active: bool) -> LoyaltyProgram:
    """Activate or deactivate; an inactive program refuses enrolments and balance changes."""
    program = get_program(vendor_id)
    program.is_active = active
    db.session.commit()
    return program


def activate_program(vendor_id: int) -> LoyaltyProgram:
    return set_program_active(vendor_id, True)


def deactivate_program(vendor_id: int) -> LoyaltyProgram:
    return set_program_active(vendor_id, False)
