"""JSON error envelope: {"error_code", "message", "details"} for every error under /api/.

LoyaltyErrors carry their own code and status. HTTP errors (unknown route, wrong method, malformed
or invalid input reported by webargs, rate limits, CSRF) get a stable code per status. An
unexpected exception becomes a 500 with an error id that is also logged with the traceback; the
response never contains the traceback itself.
"""

import uuid

from flask import current_app, jsonify
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..errors import LoyaltyError

HTTP_ERRORS = {
    400: ("BAD_REQUEST", _l("The request is malformed.")),
    401: ("AUTHENTICATION_REQUIRED", _l("Sign in or send an API key (Authorization: Bearer ...).")),
    403: ("PERMISSION_DENIED", _l("Your role does not allow this operation.")),
    404: ("NOT_FOUND", _l("Not found.")),
    405: ("METHOD_NOT_ALLOWED", _l("This method is not allowed here.")),
    409: ("CONFLICT", _l("The request conflicts with the current state.")),
    413: ("PAYLOAD_TOO_LARGE", _l("The request body is too large.")),
    415: ("UNSUPPORTED_MEDIA_TYPE", _l("Send the body as application/json.")),
    422: ("VALIDATION_ERROR", _l("Some fields are missing or not valid.")),
    429: ("RATE_LIMITED", _l("Too many requests. Please wait and try again.")),
    500: (
        "INTERNAL_ERROR",
        _l("Something went wrong on our side. Quote the error id if you report it."),
    ),
}
CSRF_ERROR = (
    "CSRF_TOKEN_INVALID",
    _l("Send the X-CSRFToken header with session-authenticated changes."),
)


def _envelope(error_code: str, message, details: dict, status: int, headers=None):
    response = jsonify({"error_code": error_code, "message": str(message), "details": details})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="loyalty-portal"'
    return response


def render_json_error(error: LoyaltyError):
    headers = {}
    if error.retry_after_seconds is not None:
        headers["Retry-After"] = str(error.retry_after_seconds)
    return _envelope(error.error_code, error.message, error.details, error.status, headers)


def _validation_details(messages: dict) -> dict:
    """webargs reports {location: {field: [reasons]}}; say where and which fields."""
    location, fields = next(iter(messages.items()), ("json", {}))
    if not isinstance(fields, dict):
        fields = {"_schema": fields}
    return {"location": location, "fields": fields}


def render_http_error(error: HTTPException):
    status = error.code or 500
    if isinstance(error, CSRFError):
        return _envelope(*CSRF_ERROR, {}, status)
    error_code, message = HTTP_ERRORS.get(
        status, (error.name.upper().replace(" ", "_"), error.name)
    )
    details: dict = {}
    data = getattr(error, "data", None) or {}
    if "messages" in data:  # webargs: a body, query or header that failed its schema
        details = _validation_details(data["messages"])
    if status == 500:
        error_id = uuid.uuid4().hex
        original = getattr(error, "original_exception", None) or error
        current_app.logger.error(
            "Unexpected error %s",
            error_id,
            exc_info=(type(original), original, original.__traceback__),
        )
        details = {"error_id": error_id}
    headers = dict(data.get("headers") or {})
    response = _envelope(error_code, message, details, status, headers)
    if status == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response
