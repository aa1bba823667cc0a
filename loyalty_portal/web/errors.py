"""How a refusal looks on a screen: the translated message (an htmx fragment or a flash).

htmx requests keep the real status code (403 wrong PIN, 423 locked, 429 cooldown, ...) and get
templates/partials/_error.html. htmx does not swap 4xx/5xx responses by default, so
static/js/app.js sets `htmx.config.responseHandling` to swap them (still flagged as errors), and
the response says where the message goes: `HX-Retarget: #messages` (the live region every page has,
see base.html) with `HX-Reswap: innerHTML`. The form that failed stays on screen, so the cashier can
correct the PIN and tap again with the same idempotency key.

Plain requests (no JavaScript): a refused form post flashes the message and goes back to the page
it came from (303); a refused GET renders the error page with the real status.
"""

import uuid
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, format_time, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..errors import (
    InvalidStaffPin,
    LoyaltyError,
    PurchaseAmountTooLarge,
    RateLimited,
    StaffPinLocked,
    StampCooldown,
)
from .formatting import money

MESSAGES_TARGET = "#messages"

HTTP_MESSAGES = {
    400: _l("The request could not be understood. Please try again."),
    403: _l("You do not have access to this page."),
    404: _l("This page does not exist."),
    405: _l("This action is not possible here."),
    429: _l("Too many attempts. Please wait a minute and try again."),
    500: _l("Something went wrong on our side. Please try again."),
}
CSRF_MESSAGE = _l("This form has expired. Reload the page and try again.")


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def render_screen_error(error: LoyaltyError):
    headers = {}
    if error.retry_after_seconds is not None:
        headers["Retry-After"] = str(error.retry_after_seconds)
    return _render(screen_message(error), error.status, headers, error_code=error.error_code)


def screen_message(error: LoyaltyError) -> str:
    """The refusal in the cashier's words: plurals, and times in the vendor's zone and locale
    (flask_babel's time zone is the signed-in user's vendor's, see i18n.select_timezone)."""
    if isinstance(error, InvalidStaffPin):
        return ngettext("Wrong PIN. %(num)s attempt left.", "Wrong PIN. %(num)s attempts left.",
                        error.details["remaining_attempts"])
    if isinstance(error, StaffPinLocked):
        return _locked_message(error)
    if isinstance(error, RateLimited):
        return ngettext("Too many attempts. Please wait %(num)s minute and try again.",
                        "Too many attempts. Please wait %(num)s minutes and try again.",
                        (error.retry_after_seconds + 59) // 60)
    if isinstance(error, StampCooldown):
        return ngettext(
            "Too soon for another stamp on this card: wait %(num)s more minute (until %(time)s).",
            "Too soon for another stamp on this card: wait %(num)s more minutes (until %(time)s).",
            error.details["minutes_left"], time=format_time(error.cooldown_ends, "short"),
        )
    if isinstance(error, PurchaseAmountTooLarge) and getattr(current_user, "vendor", None):
        return gettext(
            "The largest amount a cashier may enter is %(amount)s. Check the amount; for more, "
            "the owner adjusts the balance.",
            amount=money(error.details["max_purchase_amount_cents"], current_user.vendor.currency),
        )
    return error.message


def _locked_message(error: StaffPinLocked) -> str:
    """Which lock, and until when: a lock of more than a day names the date too."""
    until = error.locked_until
    when = (format_time(until, "short") if error.retry_after_seconds < 20 * 3600
            else format_datetime(until, "short"))
    if error.lock_scope == "terminal":
        return gettext("PIN entry at this terminal is locked until %(time)s after too many wrong "
                       "PINs. Other terminals still work; the owner can unlock it sooner.",
                       time=when)
    if error.lock_scope == "pin_at_terminal":
        return gettext("This PIN is locked at this terminal until %(time)s after too many wrong "
                       "attempts. It still works at other terminals; the owner can unlock it "
                       "sooner.", time=when)
    return gettext("This PIN is locked until %(time)s after too many wrong attempts. "
                   "The owner can unlock it sooner.", time=when)


def render_http_error_page(error: HTTPException):
    status = error.code or 500
    if isinstance(error, CSRFError):
        message = CSRF_MESSAGE
    else:
        message = HTTP_MESSAGES.get(status, HTTP_MESSAGES[500 if status >= 500 else 400])
    error_id = None
    if status >= 500:
        error_id = uuid.uuid4().hex
        original = getattr(error, "original_exception", None) or error
        current_app.logger.error(
            "Unexpected error %s", error_id,
            exc_info=(type(original), original, original.__traceback__),
        )
    return _render(str(message), status, {}, error_id=error_id)


def _render(message: str, status: int, headers: dict, *, error_code: str | None = None,
            error_id: str | None = None):
    if is_htmx():
        headers.update({"HX-Retarget": MESSAGES_TARGET, "HX-Reswap": "innerHTML"})
        body = render_template("partials/_error.html", message=message, error_code=error_code,
                               error_id=error_id)
        return body, status, headers
    if request.method in ("GET", "HEAD") or status >= 500:
        body = render_template("errors/error.html", message=message, status=status,
                               error_id=error_id)
        return body, status, headers
    flash(message, "error")
    return redirect(_same_site_referrer() or url_for("auth.home"), 303)


def _same_site_referrer() -> str | None:
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + ("?" + parts.query if parts.query else "")
