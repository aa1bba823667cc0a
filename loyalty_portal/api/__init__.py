"""JSON blueprints under /api/v1, their OpenAPI document and docs page."""

from flask import Flask
from flask_smorest import Api
from werkzeug.routing import IntegerConverter

from ..extensions import csrf


class LoyaltyApi(Api):
    """flask-smorest, with errors rendered by the app's one dispatcher (http_errors.py) in the
    {"error_code", "message", "details"} envelope, which the document declares."""

    def _register_error_handlers(self):
        pass


MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """A database id in a URL: 1 to 2**31-1, so an oversized number is a 404 rather than an
    integer overflow in the database."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=MAX_ID)


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
        },
    )
    api.spec.components.response(
        "ERROR",
        {
            "description": "Error",
            "content": {"application/json": {"schema": "ErrorSchema"}},
        },
    )
    app.url_map.converters["id"] = IdConverter
    api.register_converter(
        IdConverter, lambda _: {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    )
    for blueprint in (session.blp, admin.blp, onboarding.admin_blp, vendor.blp,
                      onboarding.vendor_blp, public.blp, apple_web_service.blp):
        # Key-authenticated calls carry no ambient credential; session calls are checked in
        # api/auth.py, which demands the X-CSRFToken header for unsafe methods.
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
