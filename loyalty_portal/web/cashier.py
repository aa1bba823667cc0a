"""The cashier screen: find a card, then stamp, add points or redeem, confirmed by a staff PIN.

Every view serves htmx and plain requests alike: `_fragment.html` into #cashier-panel when the
HX-Request header is present, the whole page otherwise (the no-JavaScript fallback posts normal
forms). Refusals are LoyaltyErrors, rendered by web/errors.py.
"""

import json
import re
import uuid

from babel.numbers import get_currency_precision
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth import roles_required
from ..errors import InvalidReward, LoyaltyCardNotFound, ValidationError, VendorSuspended
from ..models import Role
from ..rate_limits import limit_failed_pin_attempts
from ..services import card_service, pin_service, points_service, stamp_service
from ..services.ledger import Actor
from .errors import is_htmx

bp = Blueprint("cashier", __name__, url_prefix="/cashier")

STAFF_SESSION_KEY = "cashier_staff_pin_id"
ACTIONS = ("stamp", "redeem_stamps", "earn_points", "redeem_reward")
AMOUNT_PATTERN = re.compile(r"^(\d{1,9})(?:[.,](\d{1,3}))?$")


@bp.before_request
@roles_required(Role.STAFF, Role.OWNER)
def require_counter_role():
    """Staff terminals and owners; admins have no vendor and no counter; a suspended shop's
    counter is closed (its terminals are signed out, see auth.load_user)."""
    if current_user.vendor.is_suspended:
        raise VendorSuspended(current_user.vendor_id)


def _page(fragment: str, **context):
    """The fragment for htmx, the whole cashier page (with the fragment in its panel) otherwise."""
    if is_htmx():
        return render_template(f"cashier/{fragment}", **context)
    return render_template("cashier/index.html", panel=f"cashier/{fragment}", **context)


def _vendor_id() -> int:
    return current_user.vendor_id


def parse_amount(text: str | None, currency: str) -> int:
    """A typed amount ("12.50", "12,5", "12") in minor units, from the decimal text (no floats)."""
    precision = get_currency_precision(currency)
    cleaned = (text or "").strip().replace(" ", "").replace("\u00a0", "")
    match = AMOUNT_PATTERN.match(cleaned)
    if not match or len(match.group(2) or "") > precision:
        raise ValidationError(_l("Enter the amount like 12.50."), field="amount")
    whole, fraction = match.group(1), (match.group(2) or "")
    return int(whole) * 10**precision + int(fraction.ljust(precision, "0") or 0)


def _chosen_staff(vendor_id: int):
    """The staff member who picked their name on this terminal, if still an active PIN."""
    staff_pin_id = session.get(STAFF_SESSION_KEY)
    if staff_pin_id is None:
        return None
    return next((p for p in pin_service.list_pins(vendor_id) if p.id == staff_pin_id), None)


def _actor() -> Actor:
    return Actor(
        staff_pin_id=session.get(STAFF_SESSION_KEY),
        pin=request.form.get("pin") or None,
        user_id=current_user.id,
        client_ip=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:300] or None,
    )


def _idempotency_key() -> str | None:
    return (request.form.get("idempotency_key") or "").strip()[:128] or None


# Finding a card -----------------------------------------------------------------------------------


@bp.get("/")
def index():
    if is_htmx():
        return render_template("cashier/_start.html")
    return render_template("cashier/index.html", panel="cashier/_start.html")


@bp.get("/find")
def find():
    """A scanned or typed card number or QR token, or a search by name, e-mail or phone."""
    query = request.args.get("q", "").strip()
    cards = card_service.find_cards(_vendor_id(), query)
    if len(cards) == 1 and not is_htmx():
        return redirect(url_for("cashier.card", card_id=cards[0].id), 303)
    if len(cards) == 1:
        return render_template("cashier/_card.html", card=cards[0], program=cards[0].program)
    if not cards:
        raise LoyaltyCardNotFound(query)
    return _page("_results.html", cards=cards, query=query)


@bp.get("/card/<int:card_id>")
def card(card_id: int):
    found = card_service.get_card(_vendor_id(), card_id)
    return _page("_card.html", card=found, program=found.program)


# Confirming with a PIN ----------------------------------------------------------------------------


@bp.get("/card/<int:card_id>/confirm/<action>")
def confirm(card_id: int, action: str):
    """The confirmation step of an action: the staff picker, then the PIN pad (or a plain
    confirm button when the program asks for no PIN). Each rendering carries a fresh
    idempotency key, so a double tap never counts twice."""
    if action not in ACTIONS:
        raise ValidationError(_l("Unknown action."), field="action")
    found = card_service.get_card(_vendor_id(), card_id)
    program = found.program
    amount_cents = points = None
    if action == "earn_points":
        amount_cents = parse_amount(request.args.get("amount"), program.vendor.currency)
        points = points_service.points_for_amount(amount_cents, program.points_per_currency_unit)
    reward = None
    if action == "redeem_reward":
        reward = program.find_reward(request.args.get("reward_id", ""))
        if reward is None:
            raise InvalidReward(request.args.get("reward_id", ""))
    staff = _chosen_staff(_vendor_id()) if program.require_staff_pin else None
    context = dict(
        card=found, program=program, action=action, amount_cents=amount_cents, points=points,
        reward=reward, staff=staff, idempotency_key=str(uuid.uuid4()),
        confirm_url=request.full_path.rstrip("?"),
    )
    if program.require_staff_pin and staff is None:
        return _page("_staff_picker.html", pins=pin_service.list_pins(_vendor_id()), **context)
    return _page("_pinpad.html", **context)


@bp.post("/staff")
def choose_staff():
    """Remember who works at this terminal; then back to the confirmation they were on."""
    staff_pin_id = request.form.get("staff_pin_id", type=int)
    pin_service.get_pin(_vendor_id(), staff_pin_id or 0)
    session[STAFF_SESSION_KEY] = staff_pin_id
    return _back_to_confirmation()


@bp.post("/staff/forget")
def forget_staff():
    session.pop(STAFF_SESSION_KEY, None)
    return _back_to_confirmation()


def _back_to_confirmation():
    """Back to the confirmation the cashier was on (htmx fetches it into the panel)."""
    return_to = request.form.get("next") or ""
    if not return_to.startswith("/cashier/"):
        return_to = url_for("cashier.index")
    if is_htmx():
        location = {"path": return_to, "target": "#cashier-panel", "push": "false"}
        return "", 204, {"HX-Location": json.dumps(location)}
    return redirect(return_to, 303)


# The actions --------------------------------------------------------------------------------------


def _done(card_id: int, change):
    found = card_service.get_card(_vendor_id(), card_id)
    return _page("_result.html", card=found, program=found.program, change=change)


@bp.post("/card/<int:card_id>/stamp")
@limit_failed_pin_attempts()
def stamp(card_id: int):
    change = stamp_service.add_stamp(
        _vendor_id(), card_id, actor=_actor(), idempotency_key=_idempotency_key()
    )
    return _done(card_id, change)


@bp.post("/card/<int:card_id>/redeem_stamps")
@limit_failed_pin_attempts()
def redeem_stamps(card_id: int):
    change = stamp_service.redeem_reward(
        _vendor_id(), card_id, actor=_actor(), idempotency_key=_idempotency_key()
    )
    return _done(card_id, change)


@bp.post("/card/<int:card_id>/earn_points")
@limit_failed_pin_attempts()
def earn_points(card_id: int):
    change = points_service.earn_points(
        _vendor_id(), card_id, request.form.get("amount_cents", type=int) or 0,
        actor=_actor(), idempotency_key=_idempotency_key(),
    )
    return _done(card_id, change)


@bp.post("/card/<int:card_id>/redeem_reward")
@limit_failed_pin_attempts()
def redeem_reward(card_id: int):
    change = points_service.redeem_reward(
        _vendor_id(), card_id, request.form.get("reward_id", ""),
        actor=_actor(), idempotency_key=_idempotency_key(),
    )
    return _done(card_id, change)
