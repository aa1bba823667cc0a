"""A throwaway Redis server for the tests and `make bench`.

    with temporary_redis() as url:
        url  # redis://127.0.0.1:PORT/0

It starts Debian's redis-server (scripts/install-system-deps.sh installs it) on a free loopback
port, without persistence, in a fresh directory, and on exit stops it and deletes the directory.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator


@contextlib.contextmanager
def temporary_redis(timeout: float = 10) -> Iterator[str]:
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    directory = tempfile.mkdtemp(prefix="redis-")
    try:
        process = subprocess.Popen(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", directory, "--daemonize", "no",
             "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
    except FileNotFoundError:
        shutil.rmtree(directory, ignore_errors=True)
        raise RuntimeError(
            "no redis-server: run scripts/install-system-deps.sh redis-server"
        ) from None
    try:
        _wait_until_it_answers(port, process, timeout)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_until_it_answers(port: int, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not start within {timeout} s")
        time.sleep(0.05)
