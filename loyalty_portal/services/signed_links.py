"""Signed, expiring tokens for the links sent by e-mail (invitations, password resets, card
links): itsdangerous with the app's SECRET_KEY, one salt per purpose, and the time read from
clock.utcnow() so that expiry follows the same clock as everything else (and tests can move it)."""

from flask import current_app
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from ..clock import utcnow


class _ClockSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(utcnow().timestamp())


def serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"],
                                  salt=f"loyalty-portal.{purpose}", signer=_ClockSigner)
