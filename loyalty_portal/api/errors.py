"""JSON error envelope: {"error_code", "message", "details"}."""

from flask import jsonify

from ..errors import LoyaltyError


def render_json_error(error: LoyaltyError):
    response = jsonify(error.to_dict())
    response.status_code = error.status
    if error.retry_after_seconds is not None:
        response.headers["Retry-After"] = str(error.retry_after_seconds)
    return response
