"""Wallets, seen from the rest of the app: the one place that knows which wallets a card can be
added to, the links of their buttons, and who must hear that a card or a program changed.

The card page, the public API and the outbox worker ask only this module; the wallet-specific
work is done by apple_wallet_service (a signed .pkpass, pushes to the devices that hold it) and
google_wallet_service (a LoyaltyClass and LoyaltyObject at Google, the save link).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..errors import GoogleWalletNotConfigured
from ..extensions import db
from ..models import LoyaltyCard, LoyaltyProgram
from . import google_wallet_service
from .card_service import get_card_by_public_token


@dataclass(frozen=True)
class WalletLinks:
    card_url: str
    apple_wallet_url: str | None
    google_wallet_url: str | None


def _apple_offered(program: LoyaltyProgram) -> bool:
    return bool(program.apple_wallet_enabled and current_app.config.get(
        "APPLE_PASS_TYPE_IDENTIFIER"
    ))


def links_for(card: LoyaltyCard) -> WalletLinks:
    """Where a customer finds the card: its web page always, and a wallet's button link when
    the program switched that wallet on and the platform is configured for it."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    token_path = f"{base}/api/v1/loyalty/cards/{card.public_token}/wallet"
    return WalletLinks(
        card_url=f"{base}/card/{card.public_token}",
        apple_wallet_url=f"{token_path}/apple" if _apple_offered(card.program) else None,
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
        _announce_google_sync(card)
    return link.url


def _announce_google_sync(card: LoyaltyCard) -> None:
    """Have the worker sync the card's Google object (created if need be) after this request."""
    from . import outbox

    outbox.enqueue_google_object_sync(card.id)
    db.session.commit()


# Changes fanned out to every wallet -------------------------------------------------------------


def deliver_card_change(card: LoyaltyCard) -> None:
    """Tell every wallet that holds the card that it changed: one push to each Apple device
    registered for it, one patch of its Google object. Raises the wallets' retryable or final
    errors (the outbox decides what to do with them)."""
    if google_wallet_service.is_configured() and card.google_object_id:
        google_wallet_service.sync_card(card)


def deliver_program_change(program: LoyaltyProgram) -> None:
    """The program's look, texts or rewards changed: every pass of it shows them."""
    if google_wallet_service.is_configured() and program.google_class_id:
        google_wallet_service.sync_program(program)
