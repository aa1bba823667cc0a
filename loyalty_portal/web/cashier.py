"""The cashier screen: find a card, then stamp, add points or redeem, confirmed by a staff PIN.

Every view serves htmx and plain requests alike: `_fragment.html` into #cashier-panel when the
HX-Request header is present, the whole page otherwise (the no-JavaScript fallback posts normal
forms). Refusals are LoyaltyErrors, rendered by web/errors.py; three of them replace the panel
instead (the handlers at the end): a card not found clears the previous card, a locked PIN shows
the locked pad, and a large amount asks for its second confirmation.

The card view offers only what the rules accept now (services/counter_service.py), so a refusal
comes before the PIN, never after four digits.
"""

import json
import uuid
from datetime import datetime

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth import roles_required
from ..clock import utcnow
from ..errors import (
    InvalidReward,
    LargePurchaseNotConfirmed,
    LoyaltyCardNotFound,
    LoyaltyError,
    StaffPinLocked,
    UndoNotAllowed,
    ValidationError,
    VendorSuspended,
)
from ..input_guard import bounded_int
from ..models import Role
from ..services import (
    card_service,
    counter_service,
    money,
    pin_service,
    points_service,
    stamp_service,
    transaction_service,
)
from ..services.ledger import Actor
from .errors import is_htmx, render_screen_error, screen_message

bp = Blueprint("cashier", __name__, url_prefix="/cashier")

STAFF_SESSION_KEY = "cashier_staff_pin_id"
# Locks this terminal has met: {staff PIN id: the StaffPinLocked error's locked_until (ISO)}.
LOCKS_SESSION_KEY = "cashier_pin_locks"
ACTIONS = ("stamp", "redeem_stamps", "earn_points", "redeem_reward", "undo")


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


def _chosen_staff(vendor_id: int):
    """The staff member who picked their name on this terminal, if still an active PIN."""
    staff_pin_id = session.get(STAFF_SESSION_KEY)
    if staff_pin_id is None:
        return None
    return next((p for p in pin_service.list_pins(vendor_id) if p.id == staff_pin_id), None)


def _terminal_actor() -> Actor:
    """Who works at this terminal, without a PIN: to decide what the screen offers."""
    return Actor(staff_pin_id=session.get(STAFF_SESSION_KEY), user_id=current_user.id)


def _card_panel(card_id: int):
    counter = counter_service.card_at_counter(_vendor_id(), card_id, _terminal_actor())
    return _page("_card.html", counter=counter, card=counter.card, program=counter.program)


def _actor() -> Actor:
    return Actor(
        staff_pin_id=session.get(STAFF_SESSION_KEY),
        pin=request.form.get("pin") or None,
        user_id=current_user.id,
        terminal=f"user:{current_user.id}",  # each counter tablet signs in with its own login
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
        return _card_panel(cards[0].id)
    if not cards:
        raise LoyaltyCardNotFound(query)
    return _page("_results.html", cards=cards, query=query)


@bp.get("/card/<id:card_id>")
def card(card_id: int):
    return _card_panel(card_id)


@bp.get("/card/<id:card_id>/amount")
def check_amount(card_id: int):
    """The typed amount checked as it is typed: the points it earns, or why it is refused, in
    the cashier's language and currency (a 200 fragment either way, for #amount-feedback)."""
    found = card_service.get_card(_vendor_id(), card_id)
    text = (request.args.get("amount") or "").strip()
    points = refusal = None
    if text:
        try:
            amount_cents = money.parse_amount(text, found.program.vendor.currency)
            points = counter_service.check_amount(
                _vendor_id(), card_id, amount_cents, large_amount_confirmed=True
            )
        except LoyaltyError as error:
            refusal = screen_message(error)
    return render_template("cashier/_amount_check.html", points=points, refusal=refusal)


# Confirming with a PIN ----------------------------------------------------------------------------


@bp.get("/card/<id:card_id>/confirm/<action>")
def confirm(card_id: int, action: str):
    """The confirmation step of an action: the staff picker, then the PIN pad (or a plain
    confirm button when the program asks for no PIN). Each rendering carries a fresh
    idempotency key, so a double tap never counts twice."""
    if action not in ACTIONS:
        raise ValidationError(_l("Unknown action."), field="action")
    found = card_service.get_card(_vendor_id(), card_id)
    program = found.program
    amount_cents = points = stamps = undo = None
    confirmed = request.args.get("confirmed") == "1"
    if action == "stamp":
        stamps = request.args.get("stamps", default=1, type=bounded_int(1, 1000))
        counter_service.check_stamp_quantity(_vendor_id(), card_id, stamps)
    if action == "earn_points":
        amount_cents = money.parse_amount(request.args.get("amount"), program.vendor.currency)
        try:
            points = counter_service.check_amount(
                _vendor_id(), card_id, amount_cents, large_amount_confirmed=confirmed
            )
        except LargePurchaseNotConfirmed as error:
            return _page("_large_amount.html", card=found, program=program,
                         amount_cents=amount_cents, points=error.details["points"],
                         confirm_url=_with_args(confirmed="1"))
    reward = None
    if action == "redeem_reward":
        reward = program.find_reward(request.args.get("reward_id", ""))
        if reward is None:
            raise InvalidReward(request.args.get("reward_id", ""))
    if action == "undo":
        undo = transaction_service.undoable_action(_vendor_id(), card_id, _terminal_actor(),
                                                   utcnow())
        if undo is None or undo.id != request.args.get("transaction_id", type=bounded_int()):
            raise UndoNotAllowed(card_id, "nothing")
    staff = _chosen_staff(_vendor_id()) if program.require_staff_pin else None
    context = dict(
        card=found, program=program, action=action, amount_cents=amount_cents, points=points,
        stamps=stamps, confirmed=confirmed, reward=reward, undo=undo, staff=staff,
        idempotency_key=str(uuid.uuid4()), confirm_url=request.full_path.rstrip("?"),
    )
    if program.require_staff_pin and staff is None:
        return _page("_staff_picker.html", pins=pin_service.list_pins(_vendor_id()), **context)
    locked_until = _known_lock(staff)
    if locked_until is not None:
        return _page("_locked.html", locked_until=locked_until, **context)
    return _page("_pinpad.html", **context)


def _with_args(**changes) -> str:
    args = request.args.to_dict() | changes
    return url_for(request.endpoint, **request.view_args, **args)


def _known_lock(staff) -> datetime | None:
    """When the lock this terminal last met on the staff member's PIN ends, if it has not yet:
    the pad stays disabled and sends no digits until then."""
    if staff is None:
        return None
    until = session.get(LOCKS_SESSION_KEY, {}).get(str(staff.id))
    if until is None:
        return None
    moment = datetime.fromisoformat(until.replace("Z", "+00:00"))
    if moment <= utcnow():
        session[LOCKS_SESSION_KEY] = {
            k: v for k, v in session[LOCKS_SESSION_KEY].items() if k != str(staff.id)
        }
        return None
    return moment


@bp.post("/staff")
def choose_staff():
    """Remember who works at this terminal; then back to the confirmation they were on."""
    staff_pin_id = request.form.get("staff_pin_id", type=bounded_int())
    pin_service.get_pin(_vendor_id(), staff_pin_id or 0)
    session[STAFF_SESSION_KEY] = staff_pin_id
    # Picking a locked name again lets the pad ask the server once more (the owner may have
    # unlocked it); a lock that still holds is refused before any PIN check is counted.
    locks = session.get(LOCKS_SESSION_KEY, {})
    if str(staff_pin_id) in locks:
        session[LOCKS_SESSION_KEY] = {k: v for k, v in locks.items() if k != str(staff_pin_id)}
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
    counter = counter_service.card_at_counter(_vendor_id(), card_id, _terminal_actor())
    return _page("_result.html", counter=counter, card=counter.card, program=counter.program,
                 change=change)


@bp.post("/card/<id:card_id>/stamp")
def stamp(card_id: int):
    change = stamp_service.add_stamp(
        _vendor_id(), card_id, actor=_actor(),
        stamps=request.form.get("stamps", 1, type=bounded_int(1, 1000)),
        idempotency_key=_idempotency_key(),
    )
    return _done(card_id, change)


@bp.post("/card/<id:card_id>/redeem_stamps")
def redeem_stamps(card_id: int):
    change = stamp_service.redeem_reward(
        _vendor_id(), card_id, actor=_actor(), idempotency_key=_idempotency_key()
    )
    return _done(card_id, change)


@bp.post("/card/<id:card_id>/earn_points")
def earn_points(card_id: int):
    change = points_service.earn_points(
        _vendor_id(), card_id, request.form.get("amount_cents", type=bounded_int(0)) or 0,
        actor=_actor(), large_amount_confirmed=request.form.get("confirmed") == "1",
        idempotency_key=_idempotency_key(),
    )
    return _done(card_id, change)


@bp.post("/card/<id:card_id>/redeem_reward")
def redeem_reward(card_id: int):
    change = points_service.redeem_reward(
        _vendor_id(), card_id, request.form.get("reward_id", ""),
        actor=_actor(), idempotency_key=_idempotency_key(),
    )
    return _done(card_id, change)


@bp.post("/card/<id:card_id>/undo")
def undo(card_id: int):
    """The cashier's own last action on the card, undone with their PIN (a void row)."""
    change = transaction_service.undo_at_counter(
        _vendor_id(), request.form.get("transaction_id", type=bounded_int()) or 0, actor=_actor(),
        reason=str(_l("Undone at the counter")), idempotency_key=_idempotency_key(),
    )
    return _done(card_id, change)


# Refusals that replace the panel ------------------------------------------------------------------


def _panel_refusal(error: LoyaltyError, fragment: str, **context):
    """A refusal shown in the panel instead of next to it: the previous card must not stay."""
    headers = {"HX-Retarget": "#cashier-panel", "HX-Reswap": "innerHTML"}
    if error.retry_after_seconds is not None:
        headers["Retry-After"] = str(error.retry_after_seconds)
    body = _page(fragment, error=error, message=screen_message(error), **context)
    return body, error.status, headers


@bp.errorhandler(LoyaltyCardNotFound)
def card_not_found(error: LoyaltyCardNotFound):
    """"Card not found" clears the previous card and list, so nothing is done on the wrong one."""
    if request.endpoint not in ("cashier.find", "cashier.card"):
        return render_screen_error(error)
    return _panel_refusal(error, "_not_found.html", query=request.args.get("q", ""))


@bp.errorhandler(StaffPinLocked)
def pin_locked(error: StaffPinLocked):
    """The pad is disabled until the lock ends (only the error's public details are used)."""
    staff_pin_id = session.get(STAFF_SESSION_KEY)
    if staff_pin_id is not None:
        session[LOCKS_SESSION_KEY] = session.get(LOCKS_SESSION_KEY, {}) | {
            str(staff_pin_id): error.details["locked_until"]
        }
    card_id = (request.view_args or {}).get("card_id")
    found = card_service.get_card(_vendor_id(), card_id) if card_id else None
    staff = _chosen_staff(_vendor_id())
    locked_until = datetime.fromisoformat(error.details["locked_until"].replace("Z", "+00:00"))
    return _panel_refusal(error, "_locked.html", card=found, staff=staff,
                          locked_until=locked_until, confirm_url=_confirm_url_of_post())


def _confirm_url_of_post() -> str:
    """The confirmation a refused post came from (the pad rendered it), to come back to it."""
    return_to = request.form.get("confirm_url") or ""
    return return_to if return_to.startswith("/cashier/") else url_for("cashier.index")
