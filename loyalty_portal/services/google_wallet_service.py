"""Google Wallet: one LoyaltyClass per program, one LoyaltyObject per card, kept up to date through
Google's Wallet REST API (walletobjects v1), and the "Save to Google Wallet" link.

Google holds the pass; we only tell it what to show. The class carries what every card of a
program shares (vendor, program name, logo, colour, the reward), the object what one card shows
(balance, the QR code the cashier scans, the customer's name, ACTIVE or INACTIVE). A class is
inserted when a customer first asks for a Google card of the program, an object when the customer
first asks for that card; after that the outbox worker patches them when the card or the program
changes (never the cashier's request).

Every call is idempotent, so a retry or a second worker can never make things worse: an insert
answered 409 (it exists) becomes a patch, a patch answered 404 (it is gone or was never inserted)
becomes an insert. 429 and 5xx answers, timeouts and unreachable hosts raise a *retryable*
GoogleWalletRequestFailed (the outbox backs off and tries again); any other refusal (400, 403...)
raises a final one carrying Google's own message, which the admin sees on the dead message.

Authentication is google-auth's: service-account credentials with the wallet_object.issuer scope
and an AuthorizedSession, which fetches, caches and refreshes the access token from the key file's
`token_uri` (so tests can point it at a local token endpoint, as GOOGLE_WALLET_API_BASE_URL points
the API calls at a local server).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import google.auth.exceptions
import requests
from flask import Flask, current_app
from flask_babel import force_locale, ngettext
from flask_babel import lazy_gettext as _l
from google.auth import jwt
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account
from sqlalchemy import select

from ..errors import GoogleWalletNotConfigured, GoogleWalletRequestFailed
from ..extensions import db
from ..models import LoyaltyCard, LoyaltyProgram
from .card_service import format_card_number, get_card_by_public_token

log = logging.getLogger(__name__)

SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
SAVE_URL_PREFIX = "https://pay.google.com/gp/v/save/"
# The languages the passes' labels are given in; the first one is the default value.
PASS_LANGUAGES = ("en", "fr", "de", "lb")
CLASS_RESOURCE = "loyaltyClass"
OBJECT_RESOURCE = "loyaltyObject"
DEFAULT_LOGO_PATH = "/static/img/wallet-logo.png"


# Configuration ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoogleWalletSettings:
    issuer_id: str
    credentials: service_account.Credentials
    token_uri: str  # the key file's: where google-auth fetches access tokens
    api_base_url: str
    id_prefix: str
    timeout_seconds: float

    @property
    def service_account_email(self) -> str:
        return self.credentials.service_account_email


class GoogleWalletConfigurationError(RuntimeError):
    """The Google Wallet settings are incomplete or the key file is unusable (at start-up)."""


def init_app(app: Flask) -> None:
    """Load the service account at start-up, so a wrong setting stops the app with a clear
    message instead of failing at a customer's first click. Neither setting: Google Wallet is
    simply off. Raises GoogleWalletConfigurationError."""
    issuer_id = str(app.config.get("GOOGLE_WALLET_ISSUER_ID") or "").strip()
    key_file = str(app.config.get("GOOGLE_WALLET_SERVICE_ACCOUNT_FILE") or "").strip()
    if not issuer_id and not key_file:
        return
    if not (issuer_id and key_file):
        raise GoogleWalletConfigurationError(
            "Google Wallet needs both GOOGLE_WALLET_ISSUER_ID and "
            "GOOGLE_WALLET_SERVICE_ACCOUNT_FILE (or neither, to switch it off)."
        )
    if not issuer_id.isdigit():
        raise GoogleWalletConfigurationError(
            f"GOOGLE_WALLET_ISSUER_ID must be the digits of the Google Pay & Wallet Console's "
            f"issuer id, not {issuer_id!r}."
        )
    prefix = str(app.config.get("GOOGLE_WALLET_ID_PREFIX") or "")
    if not all(c.isalnum() or c in "._-" for c in prefix):
        raise GoogleWalletConfigurationError(
            "GOOGLE_WALLET_ID_PREFIX may hold only letters, digits, '.', '_' and '-'."
        )
    try:
        with open(key_file, encoding="utf-8") as file:
            info = json.load(file)
        credentials = service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
    except (OSError, ValueError) as error:
        raise GoogleWalletConfigurationError(
            f"GOOGLE_WALLET_SERVICE_ACCOUNT_FILE {key_file!r} is not a usable service-account "
            f"JSON key: {error}"
        ) from error
    app.extensions["google_wallet"] = GoogleWalletSettings(
        issuer_id=issuer_id,
        credentials=credentials,
        token_uri=info["token_uri"],
        api_base_url=str(app.config["GOOGLE_WALLET_API_BASE_URL"]).rstrip("/"),
        id_prefix=prefix,
        timeout_seconds=float(app.config.get("GOOGLE_WALLET_TIMEOUT_SECONDS") or 10),
    )


def settings() -> GoogleWalletSettings | None:
    """The settings loaded at start-up, or None when Google Wallet is not configured."""
    return current_app.extensions.get("google_wallet")


def is_configured() -> bool:
    return settings() is not None


def _require_settings() -> GoogleWalletSettings:
    found = settings()
    if found is None:
        raise GoogleWalletNotConfigured()
    return found


def is_offered(program: LoyaltyProgram) -> bool:
    """Whether customers of the program can add their card to Google Wallet."""
    return bool(program.google_wallet_enabled) and is_configured()


# Ids --------------------------------------------------------------------------------------------


def class_id_for(program: LoyaltyProgram) -> str:
    """`<issuer id>.<prefix>-<vendor slug>`; once inserted, the stored id wins (a slug may
    change, Google's ids cannot)."""
    if program.google_class_id:
        return program.google_class_id
    found = _require_settings()
    return f"{found.issuer_id}.{_suffix(found, program.vendor.slug)}"


def object_id_for(card: LoyaltyCard) -> str:
    """`<issuer id>.<prefix>-card-<card number>`; once inserted, the stored id wins."""
    if card.google_object_id:
        return card.google_object_id
    found = _require_settings()
    return f"{found.issuer_id}.{_suffix(found, 'card-' + card.card_number)}"


def _suffix(found: GoogleWalletSettings, name: str) -> str:
    return f"{found.id_prefix}-{name}" if found.id_prefix else name


# What Google shows -------------------------------------------------------------------------------


def _localized(text: Callable[[], str]) -> dict[str, Any]:
    """A LocalizedString with `text()` evaluated in each pass language (English the default)."""
    values = []
    for language in PASS_LANGUAGES:
        with force_locale(language):
            values.append({"language": language, "value": str(text())})
    return {"defaultValue": values[0], "translatedValues": values[1:]}


def _vendor_text(program: LoyaltyProgram, value: str) -> dict[str, Any]:
    """A LocalizedString for text the vendor typed (one language: the vendor's)."""
    return {"defaultValue": {"language": program.vendor.default_locale or "en", "value": value}}


def _public_url(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def logo_url(program: LoyaltyProgram) -> str:
    """Google requires a logo on every class: the program's, else the portal's neutral one."""
    return program.logo_url or _public_url(DEFAULT_LOGO_PATH)


def class_payload(program: LoyaltyProgram) -> dict[str, Any]:
    """The program's LoyaltyClass (walletobjects v1). Fields that may be absent are sent as
    null, so a patch clears what the program no longer has."""
    reward_module = _reward_module(program)
    modules = [reward_module] if reward_module else []
    if program.description:
        modules.append(
            {
                "id": "about",
                "header": "About the program",
                "localizedHeader": _localized(lambda: _l("About the program")),
                "body": program.description,
            }
        )
    return {
        "id": class_id_for(program),
        "issuerName": program.vendor.name,
        "programName": program.name,
        "programLogo": {
            "sourceUri": {"uri": logo_url(program)},
            "contentDescription": _vendor_text(program, program.vendor.name),
        },
        "hexBackgroundColor": program.card_background_color,
        # Google approves a class by itself; an approved class is patched as UNDER_REVIEW too.
        "reviewStatus": "UNDER_REVIEW",
        "multipleDevicesAndHoldersAllowedStatus": "ONE_USER_ALL_DEVICES",
        "accountNameLabel": "Member",
        "localizedAccountNameLabel": _localized(lambda: _l("Member")),
        "accountIdLabel": "Card number",
        "localizedAccountIdLabel": _localized(lambda: _l("Card number")),
        "textModulesData": modules or None,
    }


def _reward_module(program: LoyaltyProgram) -> dict[str, Any] | None:
    if program.is_stamps:
        reward = program.stamps_reward_description or program.name
        target = program.stamps_target

        def body() -> str:
            return ngettext(
                "%(reward)s after %(num)s stamp", "%(reward)s after %(num)s stamps", target,
                reward=reward,
            )

        return {
            "id": "reward",
            "header": "Reward",
            "localizedHeader": _localized(lambda: _l("Reward")),
            "body": body_in_english(body),
            "localizedBody": _localized(body),
        }
    rewards = sorted(program.active_rewards(), key=lambda r: r["points_cost"])
    if not rewards:
        return None

    def catalogue() -> str:
        return "\n".join(
            ngettext(
                "%(reward)s: %(num)s point", "%(reward)s: %(num)s points", r["points_cost"],
                reward=r["name"],
            )
            for r in rewards
        )

    return {
        "id": "reward",
        "header": "Rewards",
        "localizedHeader": _localized(lambda: _l("Rewards")),
        "body": body_in_english(catalogue),
        "localizedBody": _localized(catalogue),
    }


def body_in_english(text: Callable[[], str]) -> str:
    with force_locale(PASS_LANGUAGES[0]):
        return str(text())


def reward_progress(rewards: list[dict], balance: int) -> tuple[str | None, int | None]:
    """For a points card: the dearest reward it can pay for now (or None), and the points still
    missing for the cheapest one it cannot pay for yet (None when it can pay for all)."""
    affordable = [r for r in rewards if r["points_cost"] <= balance]
    out_of_reach = [r for r in rewards if r["points_cost"] > balance]
    best = max(affordable, key=lambda r: r["points_cost"])["name"] if affordable else None
    missing = (
        min(r["points_cost"] for r in out_of_reach) - balance if out_of_reach else None
    )
    return best, missing


def _points(label: str, localized_label: Callable[[], str], balance: dict) -> dict[str, Any]:
    return {"label": label, "localizedLabel": _localized(localized_label), "balance": balance}


def object_payload(card: LoyaltyCard) -> dict[str, Any]:
    """The card's LoyaltyObject (walletobjects v1): the balance in `loyaltyPoints` (stamps as
    "7 / 10", points as a number), what is still missing for the next reward in
    `secondaryLoyaltyPoints`, the same QR
    code the cashier scans on the card page, and INACTIVE while the card is blocked."""
    program = card.program
    number = format_card_number(card.card_number)
    modules = []
    if program.is_stamps:
        to_go = max(0, program.stamps_target - card.stamp_count)
        primary = _points(
            "Stamps", lambda: _l("Stamps"),
            {"string": f"{card.stamp_count} / {program.stamps_target}"},
        )
        secondary = _points(
            "Stamps to your reward", lambda: _l("Stamps to your reward"), {"int": to_go}
        )
        if to_go == 0:
            modules.append(_reward_available(program.stamps_reward_description or program.name))
    else:
        primary = _points("Points", lambda: _l("Points"), {"int": card.points_balance})
        available, missing = reward_progress(program.active_rewards(), card.points_balance)
        secondary = (
            _points("Points still needed", lambda: _l("Points still needed"), {"int": missing})
            if missing is not None
            else None
        )
        if available:
            modules.append(_reward_available(available))
    if not card.is_active:
        modules.insert(
            0,
            {
                "id": "blocked",
                "body": "This card is blocked. Please ask at the counter.",
                "localizedBody": _localized(
                    lambda: _l("This card is blocked. Please ask at the counter.")
                ),
            },
        )
    return {
        "id": object_id_for(card),
        "classId": class_id_for(program),
        "state": "ACTIVE" if card.is_active else "INACTIVE",
        "accountId": number,
        # An erased customer's name is gone from Google too (null clears it on a patch).
        "accountName": None if card.customer.erased_at else card.customer.name,
        "barcode": {
            # Exactly what the cashier's scanner reads from the card page's QR code.
            "type": "QR_CODE",
            "value": card.public_token,
            "alternateText": number,
        },
        "loyaltyPoints": primary,
        "secondaryLoyaltyPoints": secondary,
        "textModulesData": modules or None,
        "linksModuleData": {
            "uris": [
                {
                    "id": "card_page",
                    "uri": _public_url(f"/card/{card.public_token}"),
                    "description": "Your card online",
                    "localizedDescription": _localized(lambda: _l("Your card online")),
                }
            ]
        },
    }


def _reward_available(reward: str) -> dict[str, Any]:
    def body() -> str:
        return str(_l("Reward available: %(reward)s", reward=reward))

    return {"id": "reward_available", "body": body_in_english(body),
            "localizedBody": _localized(body)}


# Google's REST API ------------------------------------------------------------------------------


def _session(found: GoogleWalletSettings) -> AuthorizedSession:
    """google-auth's requests session: it adds the bearer token, fetching it from the key file's
    token_uri when missing or expired (the credentials object, shared by the app, caches it) and
    once more when the API answers 401."""
    return AuthorizedSession(found.credentials)


def _google_message(response: requests.Response) -> str:
    """Google's `{"error": {"message": ...}}`, or the start of whatever else came back."""
    try:
        body = response.json()
        message = body["error"]["message"]
        if isinstance(message, str) and message:
            return message
    except (ValueError, KeyError, TypeError):
        pass
    return (response.text or response.reason or "").strip()[:500] or f"HTTP {response.status_code}"


def _is_retryable(status: int) -> bool:
    return status in (408, 429) or status >= 500


def _request(
    session: AuthorizedSession,
    found: GoogleWalletSettings,
    method: str,
    path: str,
    payload: dict | None = None,
) -> requests.Response:
    url = f"{found.api_base_url}/{path}"
    try:
        return session.request(method, url, json=payload, timeout=found.timeout_seconds)
    except google.auth.exceptions.RefreshError as error:
        # The token endpoint refused the service account (deleted key, disabled account):
        # retrying will not help, unless google-auth itself says the refusal was transient.
        raise GoogleWalletRequestFailed(
            None, f"access token refused: {error}", retryable=getattr(error, "retryable", False)
        ) from error
    except (requests.RequestException, google.auth.exceptions.TransportError) as error:
        raise GoogleWalletRequestFailed(None, str(error), retryable=True) from error


def _fail(response: requests.Response) -> GoogleWalletRequestFailed:
    return GoogleWalletRequestFailed(
        response.status_code, _google_message(response),
        retryable=_is_retryable(response.status_code),
    )


def _upsert(
    session: AuthorizedSession,
    found: GoogleWalletSettings,
    resource: str,
    payload: dict,
    *,
    believed_inserted: bool,
) -> None:
    """Make Google's copy of `payload` current, whatever Google already has: patch what we
    believe exists (404 → insert), insert what we believe is new (409 → patch). A third answer
    of 404/409 means another process is flipping it at this moment: retryable."""
    item = f"{resource}/{quote(payload['id'], safe='')}"
    calls = [("PATCH", item), ("POST", resource)]
    if not believed_inserted:
        calls.reverse()
    calls.append(calls[0])
    for method, path in calls:
        response = _request(session, found, method, path, payload)
        if response.ok:
            return
        already = method == "POST" and response.status_code == 409
        missing = method == "PATCH" and response.status_code == 404
        if not (already or missing):
            raise _fail(response)
        log.info("Google Wallet %s %s answered %s; trying the other way", method, path,
                 response.status_code)
    raise GoogleWalletRequestFailed(
        response.status_code, _google_message(response), retryable=True
    )


def sync_program(program: LoyaltyProgram) -> None:
    """Bring the program's class at Google, and every object already inserted for its cards,
    up to date with the program (its look, texts and rewards are on both). Does nothing for a
    program that no customer has added to Google Wallet yet. Raises GoogleWalletRequestFailed,
    GoogleWalletNotConfigured."""
    found = _require_settings()
    if not program.google_class_id:
        return
    session = _session(found)
    _upsert(session, found, CLASS_RESOURCE, class_payload(program), believed_inserted=True)
    cards = db.session.scalars(
        select(LoyaltyCard)
        .where(LoyaltyCard.program_id == program.id, LoyaltyCard.google_object_id.is_not(None))
        .order_by(LoyaltyCard.id)
    )
    for card in cards:
        _upsert(session, found, OBJECT_RESOURCE, object_payload(card), believed_inserted=True)


def sync_card(card: LoyaltyCard, *, create: bool = False) -> bool:
    """Bring the card's object at Google up to date (the class first, if never inserted).
    Without `create`, a card whose object was never inserted is left alone (False). Stores the
    ids once Google has them and commits. Raises GoogleWalletRequestFailed,
    GoogleWalletNotConfigured."""
    found = _require_settings()
    if not card.google_object_id and not create:
        return False
    program = card.program
    session = _session(found)
    if not program.google_class_id:
        payload = class_payload(program)
        _upsert(session, found, CLASS_RESOURCE, payload, believed_inserted=False)
        program.google_class_id = payload["id"]
        db.session.commit()
    payload = object_payload(card)
    _upsert(session, found, OBJECT_RESOURCE, payload,
            believed_inserted=bool(card.google_object_id))
    if not card.google_object_id:
        card.google_object_id = payload["id"]
        db.session.commit()
    return True


def check_credentials() -> str:
    """Ask Google (at the configured API base URL) for our issuer account, which needs a token
    from the key file's token_uri and the service account's access to the issuer. Returns the
    issuer's name. Raises GoogleWalletNotConfigured, GoogleWalletRequestFailed."""
    found = _require_settings()
    response = _request(_session(found), found, "GET", f"issuer/{found.issuer_id}")
    if not response.ok:
        raise _fail(response)
    return str(response.json().get("name") or found.issuer_id)


# The "Save to Google Wallet" link ----------------------------------------------------------------


def portal_origin() -> str:
    parts = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    return f"{parts.scheme}://{parts.netloc}"


def save_jwt(payload: dict[str, Any], found: GoogleWalletSettings | None = None) -> str:
    """A "savetowallet" JWT, signed RS256 with the service account's key by google-auth."""
    found = found or _require_settings()
    claims = {
        "iss": found.service_account_email,
        "aud": "google",
        "typ": "savetowallet",
        "origins": [portal_origin()],
        "payload": payload,
    }
    return jwt.encode(found.credentials.signer, claims).decode("ascii")


@dataclass(frozen=True)
class SaveLink:
    url: str
    by_reference: bool  # False: Google could not be reached and the link carries the whole pass


def save_link(card: LoyaltyCard) -> SaveLink:
    """The card's "Save to Google Wallet" URL. The class and object are inserted first (once),
    so the link names the object by reference and stays short. When Google cannot be reached
    right now, the link carries the whole class and object instead (Google inserts them when
    the customer saves) and the caller should have the card synced later. Raises
    GoogleWalletNotConfigured, and a final GoogleWalletRequestFailed (400, 403)."""
    found = _require_settings()
    if not card.program.google_wallet_enabled:
        raise GoogleWalletNotConfigured()
    if not card.google_object_id:
        try:
            sync_card(card, create=True)
        except GoogleWalletRequestFailed as error:
            if not error.retryable:
                raise
            log.warning("Google Wallet unreachable, save link carries the pass: %s", error)
            db.session.rollback()
            payload: dict[str, Any] = {"loyaltyObjects": [object_payload(card)]}
            if not card.program.google_class_id:
                payload["loyaltyClasses"] = [class_payload(card.program)]
            return SaveLink(SAVE_URL_PREFIX + save_jwt(payload, found), by_reference=False)
    reference = {"id": card.google_object_id, "classId": card.program.google_class_id}
    return SaveLink(
        SAVE_URL_PREFIX + save_jwt({"loyaltyObjects": [reference]}, found), by_reference=True
    )


def save_link_for_public_token(public_token: str) -> SaveLink:
    """The save link behind the card page's "Add to Google Wallet" button. Raises
    LoyaltyCardNotFound and the errors of save_link()."""
    return save_link(get_card_by_public_token(public_token))
