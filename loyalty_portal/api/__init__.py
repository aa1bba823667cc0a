"""JSON blueprints under /api/v1, their OpenAPI document and docs page."""

import flask_smorest
from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api

from ..extensions import csrf
from ..input_guard import MAX_ID, GuardedFlaskParser, IdConverter

# Every body `blp.arguments` parses goes through the edge's JSON loader (input_guard.py). Set
# before the blueprint modules are imported: their decorators take the parser at import time.
flask_smorest.Blueprint.ARGUMENTS_PARSER = GuardedFlaskParser()


class LoyaltyApi(Api):
    """flask-smorest, with errors rendered by the app's one dispatcher (http_errors.py) in the
    {"error_code", "message", "details"} envelope, which the document declares."""

    def _register_error_handlers(self):
        pass


class EdgeResponsesPlugin(BasePlugin):
    """Declares on every operation the refusals that come from the edge rather than from the
    route: 400 (MALFORMED_INPUT, a body that is not JSON), 404 where the path has a parameter
    (an id out of range never reaches the route), 413 where a body is accepted."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            statuses = [400]
            if "{" in (path or ""):
                statuses.append(404)
            if "requestBody" in operation:
                statuses.append(413)
            for status in statuses:
                if status not in responses and str(status) not in responses:
                    responses[status] = "ERROR"


def register_api(app: Flask) -> None:
    """Register the JSON API blueprints, the OpenAPI document and the JSON error envelope."""
    from . import admin, apple_web_service, onboarding, public, session, vendor
    from .auth import SECURITY_SCHEMES
    from .schemas.common import ErrorSchema

    app.config.update(
        API_TITLE="Loyalty Portal API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/static/vendor/swagger-ui/",
    )
    LoyaltyApi.ERROR_SCHEMA = ErrorSchema
    api = LoyaltyApi(
        app,
        spec_kwargs={
            "components": {"securitySchemes": SECURITY_SCHEMES},
            "extra_plugins": [EdgeResponsesPlugin()],
        },
    )
    api.spec.components.response(
        "ERROR",
        {
            "description": "Error",
            "content": {"application/json": {"schema": ErrorSchema}},
        },
    )
    api.register_converter(
        IdConverter, lambda _: {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    )
    for blueprint in (session.blp, admin.blp, onboarding.admin_blp, vendor.blp,
                      onboarding.vendor_blp, public.blp, apple_web_service.blp):
        # Key-authenticated calls carry no ambient credential; session calls are checked in
        # api/auth.py, which demands the X-CSRFToken header for unsafe methods.
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
