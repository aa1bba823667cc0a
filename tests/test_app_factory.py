"""create_app(): where the database comes from.

Settings are read from the environment when the process starts (loyalty_portal.config), so the
environment cases run in a fresh interpreter, as gunicorn or `flask` would.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from loyalty_portal import _normalise_database_url, create_app

ROOT = Path(__file__).resolve().parent.parent

PRINT_CONFIG = (
    "import json; from loyalty_portal import create_app; app = create_app();"
    "print(json.dumps({'uri': app.config['SQLALCHEMY_DATABASE_URI'],"
    " 'instance': app.instance_path}))"
)


def _config_in_fresh_process(**env_overrides: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["FLASK_DEBUG"] = "1"  # the development defaults (production settings are refused)
    env.update({k: v for k, v in env_overrides.items() if v is not None})
    result = subprocess.run(
        [sys.executable, "-c", PRINT_CONFIG],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_database_url_the_app_uses_sqlite_under_instance():
    config = _config_in_fresh_process()

    expected = Path(config["instance"]) / "loyalty.sqlite3"
    assert config["uri"] == f"sqlite:///{expected}"
    assert Path(config["instance"]).resolve() == (ROOT / "instance").resolve()


def test_database_url_from_the_environment_is_used_and_normalised():
    config = _config_in_fresh_process(DATABASE_URL="postgres://shop:secret@db.example:5432/loyalty")

    assert config["uri"] == "postgresql+psycopg://shop:secret@db.example:5432/loyalty"


def test_an_explicit_test_config_wins_over_the_default(tmp_path):
    url = f"sqlite:///{tmp_path / 'other.sqlite3'}"

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})

    assert app.config["SQLALCHEMY_DATABASE_URI"] == url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@host/db", "postgresql+psycopg://u:p@host/db"),
        (
            "postgresql://u@host:6543/db?sslmode=require",
            "postgresql+psycopg://u@host:6543/db?sslmode=require",
        ),
        ("postgresql+psycopg://u@host/db", "postgresql+psycopg://u@host/db"),
        ("sqlite:////var/lib/loyalty.sqlite3", "sqlite:////var/lib/loyalty.sqlite3"),
    ],
)
def test_postgres_urls_are_normalised_to_psycopg3(given, expected):
    assert _normalise_database_url(given) == expected


def test_create_app_normalises_a_configured_postgres_url():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgres://u@host/db", "TESTING": True})

    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@host/db"


def test_trusted_proxy_gives_the_client_address(db_url):
    from flask import request

    from loyalty_portal import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "TRUSTED_PROXY_COUNT": 1, "TESTING": True})
    app.add_url_rule("/_whoami", "whoami", lambda: request.remote_addr)
    client = app.test_client()
    assert client.get("/_whoami", headers={"X-Forwarded-For": "203.0.113.7"}).text == "203.0.113.7"
    plain = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "TESTING": True})
    plain.add_url_rule("/_whoami", "whoami", lambda: request.remote_addr)
    response = plain.test_client().get("/_whoami", headers={"X-Forwarded-For": "203.0.113.7"})
    assert response.text == "127.0.0.1"
