"""How a refusal looks on a screen: the translated message (an htmx fragment or a flash)."""

from flask import flash, redirect, request

from ..errors import LoyaltyError


def render_screen_error(error: LoyaltyError):
    # Placeholder until the screens issue: flash and go back.
    flash(error.message, "error")
    return redirect(request.referrer or "/")
