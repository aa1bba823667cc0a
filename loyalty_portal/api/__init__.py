"""JSON blueprints under /api/v1."""

from flask import Flask


def register_api(app: Flask) -> None:
    """Register the JSON API blueprints, the OpenAPI document and the JSON error envelope."""
