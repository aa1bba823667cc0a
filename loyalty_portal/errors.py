"""The LoyaltyError hierarchy: every refusal the product makes, with a stable error code.

Codes come from the design note (shared/seed). Messages are lazy Babel strings rendered in the
caller's language; `details` carries machine-readable facts (when a cooldown ends, attempts left).
The HTTP renderers live with the blueprints: JSON envelope under /api/, translated text on screens.
"""

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l


class LoyaltyError(Exception):
    error_code = "LOYALTY_ERROR"
    status = 400
    message_template = _l("The loyalty operation could not be completed.")

    def __init__(self, details: dict[str, Any] | None = None, **message_params: Any):
        self.details = details or {}
        self.message_params = message_params
        super().__init__(self.error_code)

    @property
    def message(self) -> str:
        template = str(self.message_template)
        return template % self.message_params if self.message_params else template

    @property
    def retry_after_seconds(self) -> int | None:
        """Seconds until retrying can succeed, when the refusal knows it (for Retry-After)."""
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"error_code": self.error_code, "message": self.message, "details": self.details}

    def __str__(self) -> str:
        return f"{self.error_code}: {self.message}"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class NotFoundError(LoyaltyError):
    error_code = "NOT_FOUND"
    status = 404
    message_template = _l("Not found.")

    def __init__(self, identifier: str | int | None = None):
        super().__init__({"identifier": str(identifier)} if identifier is not None else None)


class ConflictError(LoyaltyError):
    error_code = "CONFLICT"
    status = 409


class ValidationError(LoyaltyError):
    """Input that breaks a rule of the domain (the schema layer catches malformed input first)."""

    error_code = "LOYALTY_VALIDATION_FAILED"
    status = 422
    message_template = _l("The data is not valid.")

    def __init__(self, message: str | None = None, field: str | None = None, **details: Any):
        payload = dict(details)
        if field:
            payload["field"] = field
        super().__init__(payload)
        self._message = message
        self.problems: list[ValidationError] = [self]

    @property
    def message(self) -> str:
        return str(self._message) if self._message else str(self.message_template)

    @classmethod
    def all_of(cls, problems: list["ValidationError"]) -> "ValidationError":
        """Several refusals reported at once: the first names the error, `details["errors"]`
        lists every field with its message, and `problems` keeps them for a form to mark."""
        if len(problems) == 1:
            return problems[0]
        first = problems[0]
        combined = cls(first._message, field=first.details.get("field"), errors=[
            {"field": problem.details.get("field"), "message": problem.message}
            for problem in problems
        ])
        combined.problems = list(problems)
        return combined


class MalformedInput(LoyaltyError):
    """Input refused at the edge (input_guard.py) before any view sees it."""

    error_code = "MALFORMED_INPUT"
    status = 400
    message_template = _l("The request contains characters or values that are not allowed.")

    def __init__(self, location: str, reason: str, **details: Any):
        super().__init__({"location": location, "reason": reason, **details})


# Access -----------------------------------------------------------------------------------------


class AuthenticationRequired(LoyaltyError):
    error_code = "AUTHENTICATION_REQUIRED"
    status = 401
    message_template = _l("Sign in or send an API key (Authorization: Bearer ...).")


class InvalidApiKey(LoyaltyError):
    error_code = "INVALID_API_KEY"
    status = 401
    message_template = _l("This API key is unknown or has been revoked.")


class InvalidCredentials(LoyaltyError):
    error_code = "INVALID_CREDENTIALS"
    status = 401
    message_template = _l("Wrong e-mail or password.")


class PermissionDenied(LoyaltyError):
    error_code = "PERMISSION_DENIED"
    status = 403
    message_template = _l("Your role does not allow this operation.")


class ApiKeyNotFound(NotFoundError):
    error_code = "API_KEY_NOT_FOUND"
    message_template = _l("API key not found.")


# Programs ---------------------------------------------------------------------------------------


class LoyaltyProgramNotFound(NotFoundError):
    error_code = "LOYALTY_PROGRAM_NOT_FOUND"
    message_template = _l("Loyalty program not found.")


class LoyaltyProgramAlreadyExists(ConflictError):
    error_code = "LOYALTY_PROGRAM_ALREADY_EXISTS"
    message_template = _l("This vendor already has a loyalty program.")

    def __init__(self, vendor_id: int):
        super().__init__({"vendor_id": vendor_id})


class LoyaltyProgramInactive(ConflictError):
    error_code = "LOYALTY_PROGRAM_INACTIVE"
    message_template = _l("The loyalty program is not active.")

    def __init__(self, program_id: int):
        super().__init__({"program_id": program_id})


class VendorNotFound(NotFoundError):
    error_code = "VENDOR_NOT_FOUND"
    message_template = _l("Vendor not found.")


# Cards ------------------------------------------------------------------------------------------


class LoyaltyCardNotFound(NotFoundError):
    error_code = "LOYALTY_CARD_NOT_FOUND"
    message_template = _l("Loyalty card not found.")


class LoyaltyCardAlreadyExists(ConflictError):
    error_code = "LOYALTY_CARD_ALREADY_EXISTS"
    message_template = _l("This customer is already enrolled in the loyalty program.")

    def __init__(self, customer_id: int, program_id: int, card_id: int | None = None):
        super().__init__({"customer_id": customer_id, "program_id": program_id, "card_id": card_id})


class LoyaltyCardInactive(ConflictError):
    error_code = "LOYALTY_CARD_INACTIVE"
    message_template = _l("The loyalty card is not active.")

    def __init__(self, card_id: int):
        super().__init__({"card_id": card_id})


class CustomerNotFound(NotFoundError):
    error_code = "CUSTOMER_NOT_FOUND"
    message_template = _l("Customer not found.")


# Staff PINs and anti-fraud ----------------------------------------------------------------------


class StaffPinNotFound(NotFoundError):
    error_code = "STAFF_PIN_NOT_FOUND"
    message_template = _l("Staff PIN not found.")


class LockoutNotFound(NotFoundError):
    error_code = "LOCKOUT_NOT_FOUND"
    message_template = _l("This lock does not exist (any more).")


class StaffPinRequired(LoyaltyError):
    error_code = "STAFF_PIN_REQUIRED"
    status = 400
    message_template = _l("A staff PIN is required for this operation.")


class InvalidStaffPin(LoyaltyError):
    error_code = "INVALID_STAFF_PIN"
    status = 403
    message_template = _l("Wrong staff PIN. %(remaining)s attempts left.")

    def __init__(self, remaining_attempts: int):
        super().__init__({"remaining_attempts": remaining_attempts}, remaining=remaining_attempts)


class TrivialStaffPin(ValidationError):
    """A PIN anyone would try first: one block repeated, a run of digits, a most common PIN."""

    error_code = "STAFF_PIN_TOO_SIMPLE"
    message_template = _l(
        "This PIN is too easy to guess (repeated digits, a sequence or a very common PIN). "
        "Choose another."
    )

    def __init__(self, reason: str):
        super().__init__(field="pin", reason=reason)


class StaffPinLocked(LoyaltyError):
    """`lock_scope` says what is locked: "pin" (this PIN at every terminal), "pin_at_terminal"
    (this PIN at the terminal that asked) or "terminal" (every PIN at that terminal)."""

    error_code = "STAFF_PIN_LOCKED"
    status = 423
    message_template = _l("This staff PIN is locked after too many failed attempts.")
    SCOPE_MESSAGES = {
        "pin_at_terminal": _l(
            "This staff PIN is locked at this terminal after too many failed attempts."
        ),
        "terminal": _l("PIN entry at this terminal is locked after too many wrong PINs."),
    }

    def __init__(self, locked_until: datetime, now: datetime, lock_scope: str = "pin"):
        super().__init__({"locked_until": _iso(locked_until), "lock_scope": lock_scope})
        self.locked_until = locked_until
        self.lock_scope = lock_scope
        self._seconds_left = max(1, int((locked_until - now).total_seconds() + 0.999))

    @property
    def message(self) -> str:
        return str(self.SCOPE_MESSAGES.get(self.lock_scope, self.message_template))

    @property
    def retry_after_seconds(self) -> int:
        return self._seconds_left


class RateLimited(LoyaltyError):
    """Too many attempts of one kind (signing in, wrong PINs, enrolments) from one client address
    or at one target (an account, a staff PIN, an e-mail or phone); see rate_limits.py."""

    error_code = "RATE_LIMITED"
    status = 429
    message_template = _l("Too many attempts. Please wait and try again.")

    def __init__(self, purpose: str, retry_after_seconds: int):
        super().__init__({"purpose": purpose, "retry_after_seconds": retry_after_seconds})
        self._seconds_left = max(1, retry_after_seconds)

    @property
    def retry_after_seconds(self) -> int:
        return self._seconds_left


class StampCooldown(LoyaltyError):
    error_code = "STAMP_COOLDOWN"
    status = 429
    message_template = _l(
        "Please wait %(minutes)s more minutes before the next stamp on this card."
    )

    def __init__(self, cooldown_ends: datetime, cooldown_minutes: int, now: datetime):
        self._seconds_left = max(1, int((cooldown_ends - now).total_seconds() + 0.999))
        minutes_left = (self._seconds_left + 59) // 60
        super().__init__(
            {
                "cooldown_ends": _iso(cooldown_ends),
                "cooldown_minutes": cooldown_minutes,
                "minutes_left": minutes_left,
            },
            minutes=minutes_left,
        )
        self.cooldown_ends = cooldown_ends

    @property
    def retry_after_seconds(self) -> int:
        return self._seconds_left


class DailyStampLimit(LoyaltyError):
    error_code = "DAILY_STAMP_LIMIT"
    status = 429
    message_template = _l("This card has reached its limit of %(limit)s stamps today.")

    def __init__(
        self, max_daily_stamps: int, stamps_today: int, resets_at: datetime, now: datetime
    ):
        super().__init__(
            {
                "max_daily_stamps": max_daily_stamps,
                "stamps_today": stamps_today,
                "resets_at": _iso(resets_at),
            },
            limit=max_daily_stamps,
        )
        self._seconds_left = max(1, int((resets_at - now).total_seconds() + 0.999))

    @property
    def retry_after_seconds(self) -> int:
        return self._seconds_left


class PurchaseAmountTooLarge(LoyaltyError):
    error_code = "PURCHASE_AMOUNT_TOO_LARGE"
    status = 422
    message_template = _l("This amount is above the largest purchase the program accepts.")

    def __init__(self, purchase_amount_cents: int, max_purchase_amount_cents: int):
        super().__init__(
            {
                "field": "purchase_amount_cents",
                "purchase_amount_cents": purchase_amount_cents,
                "max_purchase_amount_cents": max_purchase_amount_cents,
            }
        )


class LargePurchaseNotConfirmed(LoyaltyError):
    error_code = "LARGE_PURCHASE_NOT_CONFIRMED"
    status = 422
    message_template = _l("This is a large amount: confirm the %(points)s points first.")

    def __init__(self, purchase_amount_cents: int, points: int, threshold_cents: int):
        super().__init__(
            {
                "purchase_amount_cents": purchase_amount_cents,
                "points": points,
                "confirm_purchase_above_cents": threshold_cents,
            },
            points=points,
        )


class DailyPointsLimit(LoyaltyError):
    error_code = "DAILY_POINTS_LIMIT"
    status = 429
    message_template = _l("This card would pass its limit of %(limit)s points today.")

    def __init__(
        self, max_daily_points: int, points_today: int, resets_at: datetime, now: datetime
    ):
        super().__init__(
            {
                "max_daily_points": max_daily_points,
                "points_today": points_today,
                "resets_at": _iso(resets_at),
            },
            limit=max_daily_points,
        )
        self._seconds_left = max(1, int((resets_at - now).total_seconds() + 0.999))

    @property
    def retry_after_seconds(self) -> int:
        return self._seconds_left


# Redemption -------------------------------------------------------------------------------------


class InsufficientStamps(ConflictError):
    error_code = "INSUFFICIENT_STAMPS"
    message_template = _l("Not enough stamps: %(current)s of %(required)s.")

    def __init__(self, current_stamps: int, required_stamps: int):
        super().__init__(
            {"current_stamps": current_stamps, "required_stamps": required_stamps},
            current=current_stamps,
            required=required_stamps,
        )


class InsufficientPoints(ConflictError):
    error_code = "INSUFFICIENT_POINTS"
    message_template = _l("Not enough points: %(current)s of %(required)s.")

    def __init__(self, current_points: int, required_points: int):
        super().__init__(
            {"current_points": current_points, "required_points": required_points},
            current=current_points,
            required=required_points,
        )


class InvalidReward(LoyaltyError):
    error_code = "INVALID_REWARD"
    status = 422
    message_template = _l("This reward does not exist or is not available.")

    def __init__(self, reward_id: str):
        super().__init__({"reward_id": reward_id})


class WrongProgramType(ConflictError):
    error_code = "WRONG_PROGRAM_TYPE"
    message_template = _l("This operation does not fit the program's type.")

    def __init__(self, program_type: str):
        super().__init__({"program_type": program_type})


# Ledger and retries -----------------------------------------------------------------------------


class TransactionNotFound(NotFoundError):
    error_code = "TRANSACTION_NOT_FOUND"
    message_template = _l("Transaction not found.")


class TransactionNotVoidable(ConflictError):
    error_code = "TRANSACTION_NOT_VOIDABLE"
    message_template = _l("This transaction cannot be voided.")

    def __init__(self, transaction_id: int, reason: str):
        super().__init__({"transaction_id": transaction_id, "reason": reason})


class TransactionAlreadyVoided(ConflictError):
    error_code = "TRANSACTION_ALREADY_VOIDED"
    message_template = _l("This transaction has already been voided.")

    def __init__(self, transaction_id: int):
        super().__init__({"transaction_id": transaction_id})


class UndoNotAllowed(ConflictError):
    """A cashier's undo at the counter that only the owner may do now (a void)."""

    error_code = "UNDO_NOT_ALLOWED"
    _MESSAGES = {
        "window_passed": _l("Too late to undo here: the owner can void it."),
        "not_last": _l("Only the last action on a card can be undone here."),
        "not_yours": _l("Only the staff member who did it can undo it."),
        "nothing": _l("There is nothing to undo on this card."),
    }

    def __init__(self, card_id: int, reason: str, transaction_id: int | None = None):
        super().__init__({"card_id": card_id, "transaction_id": transaction_id, "reason": reason})
        self.message_template = self._MESSAGES[reason]


class IdempotencyKeyReused(ConflictError):
    error_code = "IDEMPOTENCY_KEY_REUSED"
    message_template = _l("This idempotency key was already used for a different request.")

    def __init__(self, idempotency_key: str):
        super().__init__({"idempotency_key": idempotency_key})


# Wallets ----------------------------------------------------------------------------------------


class WalletIntegrationError(LoyaltyError):
    error_code = "WALLET_INTEGRATION_ERROR"
    status = 502
    message_template = _l("The wallet provider could not be reached: %(reason)s")

    def __init__(self, provider: str, reason: str):
        super().__init__({"provider": provider}, reason=reason)


class GoogleWalletRequestFailed(WalletIntegrationError):
    """Google's Wallet API refused a call or could not be reached. `retryable` (429, 5xx, no
    answer) tells the outbox to try again later; otherwise (400, 403...) trying again cannot help
    and the message goes to the admin's dead messages with Google's own words."""

    error_code = "GOOGLE_WALLET_REQUEST_FAILED"
    message_template = _l("Google Wallet refused the request (%(status)s): %(reason)s")

    def __init__(self, status: int | None, reason: str, *, retryable: bool):
        LoyaltyError.__init__(
            self,
            {"provider": "google", "status": status, "retryable": retryable},
            status=status if status is not None else "no answer",
            reason=reason,
        )
        self.http_status = status
        self.reason = reason
        self.retryable = retryable


class GoogleWalletNotConfigured(ConflictError):
    error_code = "GOOGLE_WALLET_NOT_CONFIGURED"
    message_template = _l("Google Wallet is not configured for this program.")


class AppleWalletNotConfigured(ConflictError):
    error_code = "APPLE_WALLET_NOT_CONFIGURED"
    message_template = _l("Apple Wallet is not configured for this program.")


class ApplePassUnauthorized(LoyaltyError):
    """Apple's pass web service: the request lacks the pass's `ApplePass` token."""

    error_code = "APPLE_PASS_UNAUTHORIZED"
    status = 401
    message_template = _l("The pass's authentication token is missing or wrong.")


class ApplePassNotFound(NotFoundError):
    error_code = "APPLE_PASS_NOT_FOUND"
    message_template = _l("This pass type or device is unknown here.")


# Shops, people and signed links (onboarding) ----------------------------------------------------


class VendorAlreadyExists(ConflictError):
    error_code = "VENDOR_ALREADY_EXISTS"
    message_template = _l("Another shop already uses this short name.")

    def __init__(self, slug: str):
        super().__init__({"slug": slug, "field": "slug"})


class VendorSuspended(LoyaltyError):
    error_code = "VENDOR_SUSPENDED"
    status = 403
    message_template = _l("This shop is suspended: its counter and API keys do not work.")

    def __init__(self, vendor_id: int):
        super().__init__({"vendor_id": vendor_id})


class UserAlreadyExists(ConflictError):
    error_code = "USER_ALREADY_EXISTS"
    message_template = _l("Someone already signs in with this e-mail address.")

    def __init__(self, email: str):
        super().__init__({"email": email, "field": "email"})


class UserNotFound(NotFoundError):
    error_code = "USER_NOT_FOUND"
    message_template = _l("This login does not exist.")


class LinkInvalid(NotFoundError):
    error_code = "LINK_INVALID"
    message_template = _l("This link is not valid. Check that you copied all of it.")


class LinkExpired(LoyaltyError):
    error_code = "LINK_EXPIRED"
    status = 410
    message_template = _l("This link has expired. Ask for a new one.")


class LinkAlreadyUsed(LoyaltyError):
    error_code = "LINK_ALREADY_USED"
    status = 410
    message_template = _l("This link has already been used. Ask for a new one if you need it.")


# Outbox -----------------------------------------------------------------------------------------


class OutboxMessageNotFound(NotFoundError):
    error_code = "OUTBOX_MESSAGE_NOT_FOUND"
    message_template = _l("No such outbox message.")


class OutboxMessageNotRetryable(ConflictError):
    """Only a dead message, or a failing one no worker holds right now, can be retried."""

    error_code = "OUTBOX_MESSAGE_NOT_RETRYABLE"
    message_template = _l("This message is not failing, or a worker is delivering it right now.")

    def __init__(self, message_id: int, reason: str):
        super().__init__({"message_id": message_id, "reason": reason})
