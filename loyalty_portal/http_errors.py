"""The one place that turns an error into a response: the JSON envelope under /api/, a
translated message on screens."""

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from .errors import LoyaltyError


def wants_json() -> bool:
    return request.path.startswith("/api/")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(LoyaltyError)
    def handle_loyalty_error(error: LoyaltyError):
        if wants_json():
            from .api.errors import render_json_error

            return render_json_error(error)
        from .web.errors import render_screen_error

        return render_screen_error(error)

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        """Also receives unexpected exceptions as a 500 (unless PROPAGATE_EXCEPTIONS is set)."""
        if wants_json():
            from .api.errors import render_http_error

            return render_http_error(error)
        from .web.errors import render_http_error_page

        return render_http_error_page(error)
