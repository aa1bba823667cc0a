"""Wallets, seen from the rest of the app: the one place that knows which wallets a card can be
added to, the links of their buttons, and who must hear that a card or a program changed.

The card page, the public API and the outbox worker ask only this module; the wallet-specific
work is done by apple_wallet_service (a signed .pkpass, pushes to the devices that hold it) and
google_wallet_service (a LoyaltyClass and LoyaltyObject at Google, the save link).

A change reaches the wallets through the outbox: the services announce "card changed" or
"program changed" in the change's own transaction, and the worker delivers each announcement
once per wallet (one delivery kind each, so each wallet retries and dies on its own: Google being
down never re-pushes Apple devices, and the other way round).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..errors import GoogleWalletNotConfigured
from ..extensions import db
from ..models import LoyaltyCard, LoyaltyProgram
from . import apple_wallet_service, google_wallet_service, outbox
from .card_service import get_card_by_public_token

APPLE_UPDATE = "apple.pass_update"  # push every device holding a changed pass
GOOGLE_UPDATE = "google.wallet_update"  # patch what Google shows for a changed card or program
GOOGLE_OBJECT_CREATE = "google.object_create"  # a save link went out while Google was down


@dataclass(frozen=True)
class WalletLinks:
    card_url: str
    apple_wallet_url: str | None
    google_wallet_url: str | None


def links_for(card: LoyaltyCard) -> WalletLinks:
    """Where a customer finds the card: its web page always, and a wallet's button link when
    the program switched that wallet on and the platform is configured for it."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    token_path = f"{base}/api/v1/loyalty/cards/{card.public_token}/wallet"
    apple = card.program.apple_wallet_enabled and apple_wallet_service.is_configured()
    return WalletLinks(
        card_url=f"{base}/card/{card.public_token}",
        apple_wallet_url=f"{token_path}/apple" if apple else None,
        google_wallet_url=(
            f"{token_path}/google" if google_wallet_service.is_offered(card.program) else None
        ),
    )


def wallet_links(public_token: str) -> WalletLinks:
    """links_for() the card behind a customer's token. Raises LoyaltyCardNotFound."""
    return links_for(get_card_by_public_token(public_token))


def google_save_url(public_token: str) -> str:
    """Google's "Save to Google Wallet" address for the card (the Google button's target).
    Raises LoyaltyCardNotFound, GoogleWalletNotConfigured (platform or program), and
    GoogleWalletRequestFailed when Google refuses the pass."""
    card = get_card_by_public_token(public_token)
    if not google_wallet_service.is_offered(card.program):
        raise GoogleWalletNotConfigured()
    link = google_wallet_service.save_link(card)
    if not link.by_reference:
        # Google was unreachable: the link carries the whole pass; the object is inserted (or
        # found inserted by the customer's save) by the worker as soon as Google answers.
        outbox.enqueue(
            GOOGLE_OBJECT_CREATE,
            reason="save_link_without_google",
            card_id=card.id,
            program_id=card.program_id,
            coalesce_key=outbox.card_key(card.id),
        )
        db.session.commit()
    return link.url


# Changes fanned out to every wallet (the outbox worker's handlers) ------------------------------


def deliver_card_change(card: LoyaltyCard, *, wallet: str) -> None:
    """Bring one wallet's copies of the card up to date: each Apple device holding its pass
    gets one push, its Google object (if the customer ever added it) one patch. Raises the
    wallet's retryable or final errors, for the outbox to act on."""
    if wallet == "apple":
        apple_wallet_service.push_updates(card_id=card.id)
    elif google_wallet_service.is_configured() and card.google_object_id:
        google_wallet_service.sync_card(card)


def deliver_program_change(program: LoyaltyProgram, *, wallet: str) -> None:
    """The program's look, texts or rewards changed: every pass of it shows them."""
    if wallet == "apple":
        apple_wallet_service.push_updates(program_id=program.id)
    elif google_wallet_service.is_configured() and program.google_class_id:
        google_wallet_service.sync_program(program)


def _deliver(message: outbox.Message, wallet: str) -> None:
    if message.card_id is not None:
        card = db.session.get(LoyaltyCard, message.card_id)
        if card is not None:
            deliver_card_change(card, wallet=wallet)
    elif message.program_id is not None:
        program = db.session.get(LoyaltyProgram, message.program_id)
        if program is not None:
            deliver_program_change(program, wallet=wallet)


@outbox.handler(APPLE_UPDATE, on=[outbox.CARD_CHANGED, outbox.PROGRAM_CHANGED])
def _update_apple(message: outbox.Message) -> None:
    _deliver(message, "apple")


@outbox.handler(GOOGLE_UPDATE, on=[outbox.CARD_CHANGED, outbox.PROGRAM_CHANGED])
def _update_google(message: outbox.Message) -> None:
    _deliver(message, "google")


@outbox.handler(GOOGLE_OBJECT_CREATE)
def _create_google_object(message: outbox.Message) -> None:
    card = db.session.get(LoyaltyCard, message.card_id)
    if card is not None and google_wallet_service.is_configured():
        google_wallet_service.sync_card(card, create=True)
