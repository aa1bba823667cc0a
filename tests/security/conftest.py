"""Fixtures for the security tests: apps with other settings, a real Redis server, and the app
served by gunicorn with several worker processes.

`redis_url` starts Debian's redis-server (scripts/install-system-deps.sh installs it; make test
does) on a free loopback port, once per session, without persistence. `serve_with_workers` starts
`gunicorn -w N wsgi:app` on this test's database with production-like settings and logs the pid of
the worker that answered each request, so a test can show its requests were spread over workers.
"""

import importlib.util
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_SECRET = "s3cure-" + "x" * 40
STRONG_PEPPER = "p3pper-" + "y" * 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(check, timeout: float, what: str, process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        try:
            if check():
                return
        except (OSError, httpx.TransportError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within {timeout} s")




@pytest.fixture(scope="session")
def redis_url():
    """redis://127.0.0.1:PORT/0 of a redis-server started for this session."""
    with _load_redis_test_server().temporary_redis() as url:
        yield url


def _load_redis_test_server():
    spec = importlib.util.spec_from_file_location(
        "redis_test_server", ROOT / "scripts" / "redis_test_server.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Served:
    """The app under gunicorn: its base URL and the worker pids its access log recorded."""

    def __init__(self, url: str, access_log: Path):
        self.url = url
        self.access_log = access_log

    def worker_pids(self, path_part: str = "") -> set[str]:
        lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
        return {line.split()[0] for line in lines if path_part in line}


def _every_worker_answers(served: "Served", workers: int) -> bool:
    with ThreadPoolExecutor(max_workers=workers * 2) as pool:
        list(pool.map(lambda _: httpx.get(f"{served.url}/login", timeout=10), range(workers * 2)))
    return len(served.worker_pids("GET /login")) >= workers


@pytest.fixture
def serve_with_workers(db_url, tmp_path):
    """Start gunicorn with `workers` worker processes on this test's database; stopped after."""
    processes = []

    def start(workers: int = 3, **settings) -> Served:
        port = free_port()
        access_log = tmp_path / f"access-{port}.log"
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "SECRET_KEY": STRONG_SECRET,
            "PIN_PEPPER": STRONG_PEPPER,
            "WEB_CONCURRENCY": str(workers),
            "PIN_BCRYPT_ROUNDS": "4",
            "PASSWORD_BCRYPT_ROUNDS": "4",
            **{name: str(value) for name, value in settings.items()},
        }
        env.pop("FLASK_DEBUG", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
             "--access-logfile", str(access_log), "--access-logformat", "%(p)s %(s)s %(m)s %(U)s",
             "--log-level", "warning", "wsgi:app"],
            cwd=ROOT,
            env=env,
        )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        _wait_for(lambda: httpx.get(f"{url}/login", timeout=2).status_code == 200, 60, "gunicorn",
                  process)
        served = Served(url, access_log)
        # Every worker boots on its own; on a loaded machine the first may answer everything for a
        # while. Only once each has answered a page can a test's burst reach several of them.
        _wait_for(lambda: _every_worker_answers(served, workers), 60, "gunicorn workers", process)
        return served

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=30)
