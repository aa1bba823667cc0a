"""Start-up refuses settings that only fit a laptop, outside debug and testing; `make run`'s
debug mode and the tests still start with the development defaults."""

import os
import subprocess
import sys

import pytest

from loyalty_portal import create_app
from loyalty_portal.config import DEV_PIN_PEPPER, DEV_SECRET_KEY, InsecureConfiguration
from tests.security.conftest import ROOT, STRONG_PEPPER, STRONG_SECRET


@pytest.fixture
def production(tmp_path):
    """Settings a production start-up would accept."""
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "SECRET_KEY": STRONG_SECRET,
        "PIN_PEPPER": STRONG_PEPPER,
        "RATELIMIT_STORAGE_URI": f"sqlite:///{tmp_path / 'rate-limits.sqlite3'}",
        "WEB_CONCURRENCY": 3,
    }


def test_strong_settings_start(production):
    assert create_app(production).config["SECRET_KEY"] == STRONG_SECRET


@pytest.mark.parametrize(
    ("setting", "value", "reason"),
    [
        ("SECRET_KEY", DEV_SECRET_KEY, "SECRET_KEY is the development default"),
        ("PIN_PEPPER", DEV_PIN_PEPPER, "PIN_PEPPER is the development default"),
        ("SECRET_KEY", "s" * 31, "SECRET_KEY is shorter than 32 characters"),
        ("PIN_PEPPER", "p" * 31, "PIN_PEPPER is shorter than 32 characters"),
        ("PIN_PEPPER", "", "PIN_PEPPER is shorter than 32 characters"),
        ("RATELIMIT_STORAGE_URI", "memory://", "keeps each worker's counts apart"),
    ],
)
def test_insecure_settings_refuse_to_start(production, setting, value, reason):
    with pytest.raises(InsecureConfiguration) as refused:
        create_app({**production, setting: value})
    assert reason in str(refused.value)


def test_boundaries_32_characters_and_one_worker_with_memory(production):
    create_app({**production, "SECRET_KEY": "s" * 32, "PIN_PEPPER": "p" * 32})
    create_app({**production, "RATELIMIT_STORAGE_URI": "memory://", "WEB_CONCURRENCY": 1})


def test_every_problem_is_listed_at_once(production):
    with pytest.raises(InsecureConfiguration) as refused:
        create_app({**production, "SECRET_KEY": DEV_SECRET_KEY, "PIN_PEPPER": DEV_PIN_PEPPER,
                    "RATELIMIT_STORAGE_URI": "memory://"})
    assert str(refused.value).count("\n- ") == 3


def test_debug_and_testing_keep_the_development_defaults(tmp_path):
    url = f"sqlite:///{tmp_path / 'dev.sqlite3'}"
    for mode in ({"DEBUG": True}, {"TESTING": True}):
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": DEV_SECRET_KEY,
                          "PIN_PEPPER": DEV_PIN_PEPPER, "RATELIMIT_STORAGE_URI": "memory://",
                          "WEB_CONCURRENCY": 4, **mode})
        assert app.config["SECRET_KEY"] == DEV_SECRET_KEY


def _start(env_overrides: dict) -> subprocess.CompletedProcess:
    """`flask routes` in a fresh process with these environment variables, as `flask` or
    gunicorn would start (settings are read at import)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SECRET_KEY", "PIN_PEPPER", "FLASK_DEBUG", "RATELIMIT_STORAGE_URI",
                        "WEB_CONCURRENCY")}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "routes"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def test_production_start_up_from_the_environment(tmp_path):
    db = f"sqlite:///{tmp_path / 'env.sqlite3'}"
    refused = _start({"DATABASE_URL": db})
    assert refused.returncode != 0
    assert "Refusing to start with insecure production settings" in refused.stderr
    assert "SECRET_KEY is the development default" in refused.stderr
    assert "FLASK_DEBUG=1" in refused.stderr
    started = _start({"DATABASE_URL": db, "SECRET_KEY": STRONG_SECRET,
                      "PIN_PEPPER": STRONG_PEPPER, "WEB_CONCURRENCY": "4"})
    assert started.returncode == 0, started.stderr
    per_process = _start({"DATABASE_URL": db, "SECRET_KEY": STRONG_SECRET,
                          "PIN_PEPPER": STRONG_PEPPER, "WEB_CONCURRENCY": "4",
                          "RATELIMIT_STORAGE_URI": "memory://"})
    assert "WEB_CONCURRENCY=4" in per_process.stderr and per_process.returncode != 0
    development = _start({"DATABASE_URL": db, "FLASK_DEBUG": "1"})
    assert development.returncode == 0, development.stderr


def test_the_default_rate_limit_storage_is_a_file_every_worker_shares(production):
    del production["RATELIMIT_STORAGE_URI"]
    app = create_app(production)
    assert app.config["RATELIMIT_STORAGE_URI"].endswith("/instance/rate-limits.sqlite3")
    assert app.config["RATELIMIT_STORAGE_URI"].startswith("sqlite:///")
