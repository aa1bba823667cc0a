"""Apple Wallet: a signed .pkpass per card, Apple's pass web service, and the push that tells a
device to fetch a changed pass.

The pass is built on request from the card's current state (so it is always the latest) and
signed with the Pass Type ID certificate; Apple's format is followed to the letter (pass.json,
images at 1x/2x/3x, pass.strings per language, manifest.json with SHA-1s, a detached PKCS #7
signature with the WWDR intermediate and a signing time). The web service is what a device calls
after adding the pass: register for pushes, ask which passes changed, fetch the latest. A balance
change reaches the device through the outbox: the worker calls `push_card_update()`, which sends
one empty push per registered device; the device then asks what changed and downloads the pass.

Public functions (the wallet-neutral wallet_service calls these): is_configured(),
pass_for_public_token(), build_pass(), and the web-service and push functions below.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import os
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import safe_join

from ..clock import utcnow
from ..errors import (
    ApplePassNotFound,
    ApplePassUnauthorized,
    AppleWalletNotConfigured,
    ValidationError,
    WalletIntegrationError,
)
from ..extensions import db
from ..models import AppleDevice, AppleDeviceRegistration, LoyaltyCard
from . import change_tags
from .apns_client import ApnsClient, PushResult
from .apple_certificates import AppleCredentials
from .apple_pass_images import initials, logo_file_images, pass_images
from .card_service import format_card_number, get_card_by_public_token

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/vnd.apple.pkpass"
# The web service lives here under the public API; the device appends /v1/... itself.
WEB_SERVICE_PREFIX = "/api/v1/loyalty/apple"
PASS_LOCALES = ("en", "fr", "de", "lb")

# pass.json names its labels and lock-screen messages by their English text; each .lproj's
# pass.strings maps that text to the language's (Babel's catalogues give the translations).
PASS_STRINGS = {
    "Stamps": _l("Stamps"),
    "Stamps: %@": _l("Stamps: %@"),
    "Reward": _l("Reward"),
    "Reward: %@": _l("Reward: %@"),
    "Stamps to your reward": _l("Stamps to your reward"),
    "Stamps to your reward: %@": _l("Stamps to your reward: %@"),
    "Points": _l("Points"),
    "Points: %@": _l("Points: %@"),
    "Next reward": _l("Next reward"),
    "Next reward: %@": _l("Next reward: %@"),
    "Points still needed": _l("Points still needed"),
    "Points still needed: %@": _l("Points still needed: %@"),
    "No reward yet": _l("No reward yet"),
    "Member": _l("Member"),
    "Card number": _l("Card number"),
    "About the program": _l("About the program"),
    "Your card online": _l("Your card online"),
    "Show your loyalty card": _l("Show your loyalty card"),
    "This card is blocked. Please ask at the counter.": _l(
        "This card is blocked. Please ask at the counter."
    ),
}


# Configuration -----------------------------------------------------------------------------------


def credentials() -> AppleCredentials | None:
    """The checked credentials loaded at start-up, or None when Apple Wallet is not configured."""
    return current_app.extensions.get("apple_wallet")


def is_configured() -> bool:
    return credentials() is not None


def _require_credentials() -> AppleCredentials:
    found = credentials()
    if found is None:
        raise AppleWalletNotConfigured()
    return found


def web_service_url() -> str:
    """The pass's webServiceURL: without /v1, which the device appends to every call."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + WEB_SERVICE_PREFIX


# The pass ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PassFile:
    """A signed .pkpass and what HTTP needs to serve it."""

    content: bytes
    filename: str
    last_modified: datetime  # whole seconds, UTC

    content_type = CONTENT_TYPE


def pass_for_public_token(public_token: str) -> PassFile:
    """The card's pass, for the "Add to Apple Wallet" link. Raises LoyaltyCardNotFound, and
    AppleWalletNotConfigured when the platform has no certificate or the program has not
    switched the Apple pass on."""
    card = get_card_by_public_token(public_token)
    if not card.program.apple_wallet_enabled:
        raise AppleWalletNotConfigured()
    return build_pass(card)


def build_pass(card: LoyaltyCard) -> PassFile:
    """The card's signed .pkpass as it stands now. Raises AppleWalletNotConfigured."""
    creds = _require_credentials()
    program = card.program
    files = {"pass.json": json.dumps(pass_json(card, creds), ensure_ascii=False).encode()}
    files.update(_images(program))
    files.update(_pass_strings_files())
    manifest = json.dumps(
        {name: hashlib.sha1(data).hexdigest() for name, data in files.items()}, sort_keys=True
    ).encode()
    files["manifest.json"] = manifest
    files["signature"] = sign_manifest(manifest, creds)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return PassFile(
        content=buffer.getvalue(),
        filename=f"{program.vendor.slug}-loyalty-card.pkpass",
        last_modified=pass_last_modified(card),
    )


def _images(program) -> dict[str, bytes]:
    """The vendor's logo when its address is a file of the app (/static/...); a remote logo is not
    fetched while building a pass (a slow host would hold up every device's update), so then,
    as without a logo, the icon and logo are drawn from the colours and initials."""
    logo_url = program.logo_url or ""
    if logo_url.startswith("/static/"):
        path = safe_join(current_app.static_folder, logo_url[len("/static/") :].split("?")[0])
        if path is not None and os.path.isfile(path):
            try:
                return logo_file_images(
                    path, os.stat(path).st_mtime_ns, program.card_background_color
                )
            except OSError:
                log.warning("Logo %s of program %s is not an image", logo_url, program.id)
    return pass_images(
        program.card_background_color, program.card_text_color, initials(program.vendor.name)
    )


def pass_json(card: LoyaltyCard, creds: AppleCredentials) -> dict:
    """pass.json per Apple's "Pass" reference: a storeCard with the balance (each changing field
    with a changeMessage so the lock screen says what changed), the card's QR code, colours,
    the web service and, when the shop's position is set, its location."""
    program = card.program
    content = {
        "formatVersion": 1,
        "passTypeIdentifier": creds.pass_type_identifier,
        "teamIdentifier": creds.team_identifier,
        "serialNumber": card.apple_serial_number,
        "authenticationToken": card.apple_auth_token,
        "webServiceURL": web_service_url(),
        "organizationName": program.vendor.name,
        "description": f"{program.name} – {program.vendor.name}",
        "logoText": program.name,
        "backgroundColor": rgb(program.card_background_color),
        "foregroundColor": rgb(program.card_text_color),
        "labelColor": rgb(program.card_text_color),
        "sharingProhibited": True,
        "barcodes": [
            {
                # Exactly what the cashier's scanner reads from the card page's QR code.
                "format": "PKBarcodeFormatQR",
                "message": card.public_token,
                "messageEncoding": "iso-8859-1",
                "altText": format_card_number(card.card_number),
            }
        ],
        "storeCard": _store_card_fields(card),
    }
    if program.shop_latitude is not None and program.shop_longitude is not None:
        content["locations"] = [
            {
                "latitude": program.shop_latitude,
                "longitude": program.shop_longitude,
                "relevantText": "Show your loyalty card",
            }
        ]
    if not card.is_active:
        content["voided"] = True
    return content


def _store_card_fields(card: LoyaltyCard) -> dict:
    program = card.program
    if program.is_stamps:
        to_go = max(0, program.stamps_target - card.stamp_count)
        primary = [_field("balance", "Stamps", f"{card.stamp_count} / {program.stamps_target}",
                          "Stamps: %@")]
        secondary = [_field("reward", "Reward", program.stamps_reward_description or program.name,
                            "Reward: %@")]
        auxiliary = [_field("stamps_to_go", "Stamps to your reward", to_go,
                            "Stamps to your reward: %@")]
    else:
        reward, needed = next_reward(program.active_rewards(), card.points_balance)
        primary = [_field("balance", "Points", card.points_balance, "Points: %@")]
        secondary = [_field("next_reward", "Next reward", reward or "No reward yet",
                            "Next reward: %@")]
        auxiliary = [_field("points_needed", "Points still needed", needed,
                            "Points still needed: %@")]
    auxiliary.append(_field("member", "Member", card.customer.name))
    back = [_field("card_number", "Card number", format_card_number(card.card_number))]
    if program.description:
        back.append(_field("about", "About the program", program.description))
    back.append(
        _field(
            "card_page",
            "Your card online",
            f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/card/{card.public_token}",
        )
    )
    if not card.is_active:
        back.insert(0, _field("blocked", "", "This card is blocked. Please ask at the counter."))
    return {
        "primaryFields": primary,
        "secondaryFields": secondary,
        "auxiliaryFields": auxiliary,
        "backFields": back,
    }


def _field(key: str, label: str, value, change_message: str | None = None) -> dict:
    field = {"key": key, "value": value}
    if label:
        field["label"] = label
    if change_message:
        field["changeMessage"] = change_message
    return field


def next_reward(rewards: list[dict], balance: int) -> tuple[str | None, int]:
    """The reward a points card is heading for and the points still needed: the dearest reward
    it can already pay for (0 needed), else the cheapest one."""
    affordable = [r for r in rewards if r["points_cost"] <= balance]
    if affordable:
        return max(affordable, key=lambda r: r["points_cost"])["name"], 0
    if not rewards:
        return None, 0
    cheapest = min(rewards, key=lambda r: r["points_cost"])
    return cheapest["name"], cheapest["points_cost"] - balance


def rgb(hex_colour: str) -> str:
    """"#1F3A5F" -> "rgb(31, 58, 95)", the only colour syntax pass.json accepts."""
    value = hex_colour.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgb({red}, {green}, {blue})"


def _pass_strings_files() -> dict[str, bytes]:
    cache = current_app.extensions.setdefault("apple_pass_strings", {})
    if not cache:
        for locale in PASS_LOCALES:
            with force_locale(locale):
                lines = [
                    f'"{_strings_escape(key)}" = "{_strings_escape(str(text))}";'
                    for key, text in PASS_STRINGS.items()
                ]
            # Apple's .strings files are UTF-16 (with a byte order mark).
            cache[f"{locale}.lproj/pass.strings"] = ("\n".join(lines) + "\n").encode("utf-16")
    return dict(cache)


def _strings_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def sign_manifest(manifest: bytes, creds: AppleCredentials) -> bytes:
    """A detached PKCS #7 (CMS) signature of manifest.json in DER, by the Pass Type ID
    certificate, with the WWDR intermediate included and the signed attributes (signing time
    among them) that Wallet requires."""
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(manifest)
        .add_signer(creds.certificate, creds.private_key, hashes.SHA256())
        .add_certificate(creds.wwdr_certificate)
        .sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
        )
    )


def _last_change(card: LoyaltyCard) -> datetime:
    return max(card.updated_at, card.program.updated_at).astimezone(UTC)


def pass_last_modified(card: LoyaltyCard) -> datetime:
    """When what the pass shows last changed, in whole seconds (HTTP dates have no fractions).

    While the second of the last change is still running, another change may follow within it,
    and a device that got Last-Modified = that second would then be told 304 Not Modified. So
    until the second is over the pass claims the second before (and latest_pass never answers
    NotModified): a device that fetches it now gets the next change too."""
    second = _last_change(card).replace(microsecond=0)
    if utcnow() < second + timedelta(seconds=1):
        second -= timedelta(seconds=1)
    return second


# The pass web service --------------------------------------------------------------------------

DEVICE_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")
PUSH_TOKEN_PATTERN = re.compile(r"^[0-9A-Fa-f]{1,200}$")


def authenticated_card(
    pass_type_identifier: str, serial_number: str, authorization: str | None
) -> LoyaltyCard:
    """The card whose pass the request names, if `authorization` is "ApplePass <its token>"
    (compared in constant time). Raises AppleWalletNotConfigured, ApplePassNotFound for another
    pass type, ApplePassUnauthorized for a wrong token or an unknown serial number."""
    creds = _require_credentials()
    if pass_type_identifier != creds.pass_type_identifier:
        raise ApplePassNotFound()
    scheme, _, token = (authorization or "").partition(" ")
    card = None
    if len(serial_number) <= 64:
        card = db.session.scalar(
            select(LoyaltyCard).where(LoyaltyCard.apple_serial_number == serial_number)
        )
    expected = card.apple_auth_token if card is not None else "-" * 32
    token_matches = hmac.compare_digest(token.strip().encode(), expected.encode())
    if card is None or scheme != "ApplePass" or not token_matches:
        raise ApplePassUnauthorized()
    return card


def register_device(
    device_library_identifier: str,
    pass_type_identifier: str,
    serial_number: str,
    push_token: str,
    authorization: str | None,
) -> bool:
    """Remember that the device holds this pass and its current push token. Returns True when
    the registration is new (Apple's 201), False when it existed (200). Raises what
    authenticated_card raises, ApplePassNotFound for a malformed device id and ValidationError for
    a malformed push token."""
    card = authenticated_card(pass_type_identifier, serial_number, authorization)
    if not DEVICE_ID_PATTERN.fullmatch(device_library_identifier):
        raise ApplePassNotFound()
    if not PUSH_TOKEN_PATTERN.fullmatch(push_token):
        raise ValidationError(field="pushToken")
    try:
        return _register(device_library_identifier, pass_type_identifier, card.id, push_token)
    except IntegrityError:
        # The same device registered two passes at once and the other request made the device
        # (or this registration) first: the second attempt finds it.
        db.session.rollback()
        return _register(device_library_identifier, pass_type_identifier, card.id, push_token)


def _register(
    device_library_identifier: str, pass_type_identifier: str, card_id: int, push_token: str
) -> bool:
    now = utcnow()
    device = db.session.scalar(
        select(AppleDevice).where(
            AppleDevice.device_library_identifier == device_library_identifier
        )
    )
    if device is None:
        device = AppleDevice(
            device_library_identifier=device_library_identifier,
            push_token=push_token,
            created_at=now,
            updated_at=now,
        )
        db.session.add(device)
    elif device.push_token != push_token:
        device.push_token = push_token
        device.updated_at = now
    db.session.flush()
    existing = db.session.scalar(
        select(AppleDeviceRegistration.id).where(
            AppleDeviceRegistration.device_id == device.id,
            AppleDeviceRegistration.card_id == card_id,
        )
    )
    if existing is None:
        db.session.add(
            AppleDeviceRegistration(
                device_id=device.id,
                card_id=card_id,
                pass_type_identifier=pass_type_identifier,
                created_at=now,
            )
        )
    db.session.commit()
    return existing is None


def unregister_device(
    device_library_identifier: str,
    pass_type_identifier: str,
    serial_number: str,
    authorization: str | None,
) -> None:
    """Forget that the device holds this pass (and the device itself when it holds no other).
    Unregistering twice is not an error. Raises what authenticated_card raises."""
    card = authenticated_card(pass_type_identifier, serial_number, authorization)
    device_ids = select(AppleDevice.id).where(
        AppleDevice.device_library_identifier == device_library_identifier
    )
    db.session.execute(
        delete(AppleDeviceRegistration).where(
            AppleDeviceRegistration.card_id == card.id,
            AppleDeviceRegistration.device_id.in_(device_ids),
        )
    )
    delete_devices_without_passes()
    db.session.commit()


def delete_devices_without_passes() -> None:
    """Forget the devices that hold no pass any more (a push token is personal data with no
    purpose left). Runs in the caller's transaction."""
    db.session.execute(
        delete(AppleDevice).where(
            ~exists().where(AppleDeviceRegistration.device_id == AppleDevice.id)
        )
    )


@dataclass(frozen=True)
class UpdatedPasses:
    serial_numbers: list[str]
    last_updated: str


def passes_updated_since(
    device_library_identifier: str, pass_type_identifier: str, passes_updated_since: str | None
) -> UpdatedPasses | None:
    """The serial numbers of the device's passes changed after the tag, and the tag to send next
    time; None when nothing changed (Apple's 204). The tag is opaque to the device: a malformed
    one, or one above every tag handed out so far, counts as "from the beginning" (the device
    fetches its passes once more rather than miss a change). Raises AppleWalletNotConfigured."""
    creds = _require_credentials()
    if pass_type_identifier != creds.pass_type_identifier:
        return None
    registered = dict(
        db.session.execute(
            select(LoyaltyCard.id, LoyaltyCard.apple_serial_number)
            .join(AppleDeviceRegistration, AppleDeviceRegistration.card_id == LoyaltyCard.id)
            .join(AppleDevice, AppleDevice.id == AppleDeviceRegistration.device_id)
            .where(
                AppleDevice.device_library_identifier == device_library_identifier,
                AppleDeviceRegistration.pass_type_identifier == pass_type_identifier,
            )
        ).all()
    )
    if not registered:
        db.session.commit()
        return None
    # The cards' change tag grows in commit order (change_tags.py), so a device that sends back
    # the tag we gave it never misses a change that committed after it asked.
    since = _parse_tag(passes_updated_since)
    if since is not None and since > change_tags.watermark():
        since = None  # never handed out (a restored database, a forged tag): start again
    changed = change_tags.cards_changed_since(list(registered), since)
    db.session.commit()
    if not changed.card_ids:
        return None
    return UpdatedPasses(
        serial_numbers=sorted(registered[card_id] for card_id in changed.card_ids),
        last_updated=str(changed.tag),
    )


def _parse_tag(tag: str | None) -> int | None:
    """A tag we handed out, or None ("from the beginning") for anything else."""
    if tag is None or not tag.isascii() or not tag.isdigit() or len(tag) > 18:
        return None
    return int(tag)


class NotModified:
    """The device's copy is current (Apple's 304)."""


def latest_pass(
    pass_type_identifier: str,
    serial_number: str,
    authorization: str | None,
    if_modified_since: datetime | None = None,
) -> PassFile | NotModified:
    """The pass as it stands now for a device holding it, or NotModified when it has not changed
    since `if_modified_since` (Apple's 304). Raises what authenticated_card raises."""
    card = authenticated_card(pass_type_identifier, serial_number, authorization)
    if if_modified_since is not None and _unchanged_since(card, if_modified_since):
        return NotModified()
    return build_pass(card)


def _unchanged_since(card: LoyaltyCard, since: datetime) -> bool:
    """Never while the second of the last change is running: another change may still come in
    that second, and whole-second dates cannot tell the two apart (see pass_last_modified)."""
    changed = _last_change(card).replace(microsecond=0)
    return utcnow() >= changed + timedelta(seconds=1) and changed <= since


MAX_LOG_MESSAGES = 50
MAX_LOG_MESSAGE_LENGTH = 1000


def record_device_logs(messages: list[str]) -> int:
    """Write the devices' error messages to the application log (Apple's log endpoint: what a
    device could not do with our passes). Returns how many were recorded."""
    recorded = 0
    for message in messages[:MAX_LOG_MESSAGES]:
        log.warning("Apple Wallet device: %s", message[:MAX_LOG_MESSAGE_LENGTH])
        recorded += 1
    return recorded


# Push -------------------------------------------------------------------------------------------


def push_updates(*, card_id: int | None = None, program_id: int | None = None) -> int:
    """A change reached the outbox (wallet_service's apple.pass_update handler): a card's change
    pushes that card's devices, a program's change (look, texts, rewards) every device holding
    one of its passes. Raises WalletIntegrationError so the outbox retries (429, 5xx, no
    answer)."""
    if card_id is not None:
        return push_card_update(card_id)
    if program_id is not None:
        return push_program_update(program_id)
    return 0


def push_card_update(card_id: int) -> int:
    """Tell every device holding the card's pass that it changed: one empty APNs push per
    device. Devices whose token APNs declares dead (410, 400 BadDeviceToken) are forgotten.
    Returns the number of pushes APNs accepted. Meant for the outbox worker, never a request.

    Raises WalletIntegrationError when a push must be tried again later (429, 5xx, no answer),
    after handling the others; pushing twice is harmless (the device just asks what changed)."""
    return _push(AppleDeviceRegistration.card_id == card_id)


def push_program_update(program_id: int) -> int:
    """push_card_update for every card of the program (one push per device)."""
    cards = select(LoyaltyCard.id).where(LoyaltyCard.program_id == program_id)
    return _push(AppleDeviceRegistration.card_id.in_(cards))


def _push(registrations) -> int:
    if credentials() is None:
        return 0
    devices = db.session.execute(
        select(AppleDevice.id, AppleDevice.push_token)
        .join(AppleDeviceRegistration, AppleDeviceRegistration.device_id == AppleDevice.id)
        .where(registrations)
        .distinct()
        .order_by(AppleDevice.id)
    ).all()
    db.session.commit()  # no transaction open while waiting for Apple
    delivered, retry_reasons = 0, []
    for device_id, push_token in devices:
        outcome = apns_client().push(push_token)
        if outcome.result is PushResult.DELIVERED:
            delivered += 1
        elif outcome.result is PushResult.TOKEN_INVALID:
            _forget_device_token(device_id, push_token)
            log.info("APNs: token of device %s is no longer valid (%s %s); forgotten",
                     device_id, outcome.status, outcome.reason)
        elif outcome.result is PushResult.RETRY:
            retry_reasons.append(f"{outcome.status or 'no answer'} {outcome.reason or ''}".strip())
        else:
            log.error("APNs refused the push to device %s: %s %s", device_id, outcome.status,
                      outcome.reason)
    if retry_reasons:
        raise WalletIntegrationError("apple", "; ".join(retry_reasons))
    return delivered


def _forget_device_token(device_id: int, push_token: str) -> None:
    """Delete the device (and so its registrations) unless it re-registered with a new token
    while the push was on its way."""
    db.session.execute(
        delete(AppleDevice).where(
            AppleDevice.id == device_id, AppleDevice.push_token == push_token
        )
    )
    db.session.commit()


def apns_client() -> ApnsClient:
    """The process's APNs client (one reused HTTP/2 connection)."""
    client = current_app.extensions.get("apple_apns_client")
    if client is None:
        client = ApnsClient(_require_credentials(),
                            current_app.config["APPLE_APNS_TIMEOUT_SECONDS"])
        current_app.extensions["apple_apns_client"] = client
    return client
