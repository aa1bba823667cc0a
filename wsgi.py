"""Entry point for gunicorn: `gunicorn wsgi:app`."""

from loyalty_portal import create_app

app = create_app()
