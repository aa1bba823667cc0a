"""HTML blueprints (server-rendered, htmx)."""

from flask import Flask


def register_web(app: Flask) -> None:
    """Register the screens' blueprints and their error handlers."""
