"""Apple's pass web service ("Wallet Passes Web Service" reference), at the pass's webServiceURL
plus the /v1 the device appends: device registration, which passes changed, the latest pass, and
the devices' log. Statuses are Apple's: 201 new registration, 200 known one, 204 nothing changed,
304 not modified, 401 wrong or missing `Authorization: ApplePass <token>`.
"""

from flask import Response, current_app, request

from ..extensions import limiter
from ..services import apple_wallet_service
from ..services.apple_wallet_service import PassFile
from .blueprint import Blueprint
from .schemas import apple as s
from .schemas.common import error_responses

blp = Blueprint(
    "apple_web_service",
    __name__,
    url_prefix=apple_wallet_service.WEB_SERVICE_PREFIX + "/v1",
    description="Apple's pass web service, called by Wallet on the customer's device"
    " (Authorization: ApplePass <the pass's authenticationToken>).",
)

# Apple's bodies are a push token or a few log lines: anything bigger is refused unread (413).
MAX_BODY_BYTES = 64 * 1024
REGISTRATION = "/devices/<device_library_identifier>/registrations/<pass_type_identifier>"


@blp.before_request
def limit_body_size():
    request.max_content_length = MAX_BODY_BYTES


def _authorization() -> str | None:
    return request.headers.get("Authorization")


@blp.route(REGISTRATION + "/<serial_number>", methods=["POST"])
@blp.arguments(s.AppleRegistrationSchema)
@blp.response(201, description="Registered.")
@blp.alt_response(200, description="This device was already registered for this pass.")
@error_responses(blp, 400, 401, 404, 409, 413, 422)
def register(body, device_library_identifier, pass_type_identifier, serial_number):
    """Register a device to receive push notifications for a pass."""
    created = apple_wallet_service.register_device(
        device_library_identifier,
        pass_type_identifier,
        serial_number,
        body["push_token"],
        _authorization(),
    )
    return Response(status=201 if created else 200)


@blp.route(REGISTRATION + "/<serial_number>", methods=["DELETE"])
@blp.response(200, description="Unregistered (also when it was not registered).")
@error_responses(blp, 401, 404, 409)
def unregister(device_library_identifier, pass_type_identifier, serial_number):
    """Unregister a device from a pass's push notifications."""
    apple_wallet_service.unregister_device(
        device_library_identifier, pass_type_identifier, serial_number, _authorization()
    )
    return Response(status=200)


@blp.route(REGISTRATION, methods=["GET"])
@blp.arguments(s.AppleUpdatedSinceQuerySchema, location="query")
@blp.response(200, s.AppleSerialNumbersSchema)
@blp.alt_response(204, description="None of the device's passes changed since the tag.")
@error_responses(blp, 409, 422)
def serial_numbers(query, device_library_identifier, pass_type_identifier):
    """The serial numbers of the device's passes that changed since `passesUpdatedSince`."""
    updated = apple_wallet_service.passes_updated_since(
        device_library_identifier, pass_type_identifier, query.get("passes_updated_since")
    )
    if updated is None:
        return Response(status=204)
    return updated


@blp.route("/passes/<pass_type_identifier>/<serial_number>", methods=["GET"])
@blp.response(
    200,
    content_type=apple_wallet_service.CONTENT_TYPE,
    description="The latest version of the pass (a signed .pkpass).",
    headers={"Last-Modified": {"schema": {"type": "string"}}},
)
@blp.alt_response(304, description="Not modified since If-Modified-Since.")
@error_responses(blp, 401, 404, 409)
def latest_pass(pass_type_identifier, serial_number):
    """The latest version of a pass; 304 when it has not changed since If-Modified-Since."""
    latest = apple_wallet_service.latest_pass(
        pass_type_identifier, serial_number, _authorization(), request.if_modified_since
    )
    if isinstance(latest, PassFile):
        return pkpass_response(latest)
    return Response(status=304)


@blp.route("/log", methods=["POST"])
@limiter.limit(lambda: current_app.config["APPLE_LOG_RATE_LIMIT"])
@blp.arguments(s.AppleLogSchema)
@blp.response(200, description="Recorded in the application log.")
@error_responses(blp, 400, 413, 422, 429)
def device_log(body):
    """Messages from devices about problems with our passes, written to the application log."""
    limiter.check()  # the limiter does not check requests by itself (extensions.py)
    apple_wallet_service.record_device_logs(body["logs"])
    return Response(status=200)


def pkpass_response(pass_file: PassFile) -> Response:
    """A .pkpass as Safari and Wallet expect it: exactly application/vnd.apple.pkpass, a file
    name, and Last-Modified; caches must ask again (the pass changes with the balance)."""
    response = Response(pass_file.content, mimetype=pass_file.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{pass_file.filename}"'
    response.last_modified = pass_file.last_modified
    response.cache_control.no_cache = True
    response.cache_control.private = True
    return response
