"""The services' get-or-404: find one row or raise the refusal that names what was not found.

Flask-SQLAlchemy's `db.one_or_404` would answer a bare 404; ours keep their own error code
(LOYALTY_CARD_NOT_FOUND, STAFF_PIN_NOT_FOUND, ...) and go through the one error handler.
"""

from typing import Any

from ..errors import LoyaltyError
from ..extensions import db


def one_or_raise(statement, not_found: LoyaltyError) -> Any:
    """The first row the select finds (its first column), or `not_found` raised."""
    found = db.session.scalar(statement)
    if found is None:
        raise not_found
    return found


def get_or_raise(model, primary_key: int, not_found: LoyaltyError) -> Any:
    """The row of `model` with this primary key, or `not_found` raised."""
    found = db.session.get(model, primary_key)
    if found is None:
        raise not_found
    return found
