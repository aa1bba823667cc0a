"""`make run` as the README promises: it installs only what running needs (the test toolchain
comes with `make test`), serves on PORT with PUBLIC_BASE_URL following it, and says on every start
where the demo sign-in details are. Read from `make -n -B` (what make would run, nothing run)."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _planned(*arguments: str) -> str:
    return subprocess.run(["make", "-n", "-B", *arguments], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout


def test_make_run_serves_on_port_and_the_qr_codes_follow():
    plan = _planned("run", "PORT=8123")
    assert "PUBLIC_BASE_URL=http://127.0.0.1:8123" in plan
    assert "run --host 127.0.0.1 --port 8123" in plan


def test_an_explicit_public_address_wins():
    plan = _planned("run", "PORT=8123", "PUBLIC_BASE_URL=https://loyalty.example")
    assert "PUBLIC_BASE_URL=https://loyalty.example" in plan


def test_make_run_installs_what_running_needs_and_make_test_the_toolchain():
    run = _planned("run")
    assert "pip install -e ." in run and ".[dev]" not in run
    assert "pip install -e '.[dev]'" in _planned("test")


def test_every_start_says_where_the_demo_sign_in_details_are():
    plan = _planned("run")
    # Printed after `loyalty demo --if-empty`, so also when the demo data already exist.
    assert plan.index("loyalty demo --if-empty") < plan.index("Demo sign-in details:")
    assert "docs/user-journeys.md" in plan
    assert "loyalty-demo" in (ROOT / "docs" / "user-journeys.md").read_text()
