"""A throwaway PostgreSQL server for tests (and for trying things by hand).

    with temporary_cluster() as cluster:
        cluster.url  # postgresql+psycopg://postgres@127.0.0.1:PORT/loyalty_test

It runs `initdb` + `pg_ctl start` on a fresh data directory in /tmp and a free loopback port,
creates the database, and on exit stops the server and deletes the directory. PostgreSQL refuses
to run as root, so as root every server command goes through `su postgres`; as any other user
it runs directly. Command line: `python scripts/pg_test_cluster.py` starts a cluster, prints its
URL and keeps it running until Ctrl-C.

`fast=True` (the default) turns off fsync and friends: right for tests, wrong for benchmarks.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator

FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class ClusterError(RuntimeError):
    pass


def find_pg_bin() -> str:
    """The directory holding initdb/pg_ctl/postgres: $PG_BIN, then PATH, then Debian's
    /usr/lib/postgresql/<newest version>/bin (not on PATH after `apt-get install postgresql`)."""
    if os.environ.get("PG_BIN"):
        return os.environ["PG_BIN"]
    on_path = shutil.which("pg_ctl") and shutil.which("initdb")
    if on_path:
        return os.path.dirname(os.path.realpath(shutil.which("pg_ctl")))
    candidates = glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
    if not candidates:
        raise ClusterError(
            "PostgreSQL server binaries not found (no initdb/pg_ctl on PATH or in "
            "/usr/lib/postgresql/*/bin). Run scripts/install-system-deps.sh (make test does)."
        )

    def version(path: str) -> tuple[int, ...]:
        numbers = re.findall(r"\d+", path.split("/")[-3])
        return tuple(int(n) for n in numbers)

    return os.path.dirname(max(candidates, key=version))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    def __init__(self, database: str = "loyalty_test", fast: bool = True, max_connections=200):
        self.database = database
        self.fast = fast
        self.max_connections = max_connections
        self.bin = find_pg_bin()
        self.as_root = os.geteuid() == 0
        self.base_dir: str | None = None
        self.port: int | None = None
        self.running = False

    @property
    def data_dir(self) -> str:
        return os.path.join(self.base_dir, "data")

    @property
    def socket_dir(self) -> str:
        return os.path.join(self.base_dir, "sock")

    @property
    def log_file(self) -> str:
        return os.path.join(self.base_dir, "server.log")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"

    @property
    def libpq_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess:
        if self.as_root:
            argv = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(argv)]
        result = subprocess.run(
            argv, cwd=self.base_dir, stdin=subprocess.DEVNULL, capture_output=True, text=True
        )
        if result.returncode != 0:
            log = ""
            if os.path.exists(self.log_file):
                with open(self.log_file, errors="replace") as f:
                    log = f.read()[-4000:]
            raise ClusterError(
                f"{shlex.join(argv)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{log}"
            )
        return result

    def start(self) -> PostgresCluster:
        # /tmp rather than $TMPDIR: the postgres user must be able to reach the directory.
        self.base_dir = tempfile.mkdtemp(prefix="loyalty-pg-", dir="/tmp")
        atexit.register(self.stop)
        os.makedirs(self.socket_dir)
        if self.as_root:
            try:
                pg_user = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise ClusterError(
                    "running as root but there is no 'postgres' user; install the postgresql "
                    "package (scripts/install-system-deps.sh)"
                ) from exc
            for path in (self.base_dir, self.socket_dir):
                os.chown(path, pg_user.pw_uid, pg_user.pw_gid)
        self._run(
            [
                os.path.join(self.bin, "initdb"),
                "-D", self.data_dir,
                "-A", "trust",
                "-U", "postgres",
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        settings = ["listen_addresses=127.0.0.1", f"max_connections={self.max_connections}"]
        if self.fast:
            settings += FAST_SETTINGS
        last_error = None
        for _attempt in range(3):  # the free port may be taken between probe and bind
            self.port = free_port()
            options = f"-p {self.port} -k {self.socket_dir} " + " ".join(
                f"-c {s}" for s in settings
            )
            try:
                self._run(
                    [
                        os.path.join(self.bin, "pg_ctl"),
                        "-D", self.data_dir,
                        "-l", self.log_file,
                        "-o", options,
                        "-w", "-t", "60",
                        "start",
                    ]
                )
                break
            except ClusterError as exc:
                last_error = exc
        else:
            raise last_error
        self.running = True
        self._create_database()
        return self

    def _create_database(self) -> None:
        import psycopg

        admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')

    def stop(self) -> None:
        """Stop the server (fast, no checkpoint) and delete its files. Safe to call twice."""
        if self.running:
            self.running = False
            with contextlib.suppress(ClusterError):
                self._run(
                    [os.path.join(self.bin, "pg_ctl"), "-D", self.data_dir, "-m", "immediate",
                     "-w", "stop"]
                )
        if self.base_dir and os.path.isdir(self.base_dir):
            shutil.rmtree(self.base_dir, ignore_errors=True)


@contextlib.contextmanager
def temporary_cluster(database: str = "loyalty_test", fast: bool = True) -> Iterator[
    PostgresCluster
]:
    cluster = PostgresCluster(database=database, fast=fast)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def main() -> None:
    import signal

    fast = "--durable" not in sys.argv
    with temporary_cluster(fast=fast) as cluster:
        print(cluster.url, flush=True)
        print(f"(data in {cluster.base_dir}; Ctrl-C stops and deletes it)", file=sys.stderr)
        with contextlib.suppress(KeyboardInterrupt):
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            signal.pause()


if __name__ == "__main__":
    main()
