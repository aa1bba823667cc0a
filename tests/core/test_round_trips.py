"""The stamp's database round trips, counted on the wire (PostgreSQL).

A round trip is where the client waits for the server: in PostgreSQL's protocol, each simple
Query message and each Sync (which ends a batch of extended-protocol messages, pipelined or
not) is answered before the client goes on. A proxy between the app and the test's PostgreSQL
counts them; the hot path's budget (docs/performance.md) is checked against the count, so a
change that adds a round trip to every stamp fails here, not only in `make bench`.
"""

import contextlib
import socket
import struct
import threading

import pytest
from sqlalchemy.engine import make_url

from loyalty_portal.extensions import db as flask_db
from loyalty_portal.services import stamp_service
from loyalty_portal.services.ledger import Actor
from tests.factories import make_card, make_pin, make_program, make_vendor

pytestmark = pytest.mark.postgres_only

# Sent by the client before any typed message: SSLRequest, GSSENCRequest, StartupMessage.
_UNTYPED_REQUESTS = {80877103, 80877104}
_WAITS_FOR_ANSWER = {ord("Q"), ord("S")}  # simple Query; Sync


class RoundTripCounter:
    """A TCP proxy in front of PostgreSQL that counts the client's Query and Sync messages."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.round_trips = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pump_server, args=(server, client), daemon=True).start()
            threading.Thread(target=self._pump_client, args=(client, server), daemon=True).start()

    @staticmethod
    def _pump_server(server: socket.socket, client: socket.socket) -> None:
        # Either pump closes both sockets when its side hangs up, so the other's recv may fail.
        with contextlib.suppress(OSError):
            while data := server.recv(65536):
                client.sendall(data)
        client.close()

    def _pump_client(self, client: socket.socket, server: socket.socket) -> None:
        with contextlib.suppress(OSError):
            self._count_and_forward(client, server)
        server.close()

    def _count_and_forward(self, client: socket.socket, server: socket.socket) -> None:
        pending, started = b"", False
        while data := client.recv(65536):
            server.sendall(data)
            pending += data
            while True:  # whole messages only
                if not started:
                    if len(pending) < 8:
                        break
                    length, code = struct.unpack("!II", pending[:8])
                    if len(pending) < length:
                        break
                    pending, started = pending[length:], code not in _UNTYPED_REQUESTS
                    continue
                if len(pending) < 5:
                    break
                kind, length = pending[0], struct.unpack("!I", pending[1:5])[0]
                if len(pending) < 1 + length:
                    break
                if kind in _WAITS_FOR_ANSWER:
                    with self._lock:
                        self.round_trips += 1
                pending = pending[1 + length :]

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def counted(app_with, db_url):
    """An app whose database connections go through a RoundTripCounter."""
    url = make_url(db_url)
    counter = RoundTripCounter(url.host, url.port)
    proxied = url.set(host="127.0.0.1", port=counter.port)
    app = app_with(SQLALCHEMY_DATABASE_URI=proxied.render_as_string(hide_password=False))
    yield app, counter
    with app.app_context():
        flask_db.engine.dispose()
    counter.close()


def round_trips_of(app, counter, operation, warm_up: int = 8) -> int:
    """Round trips of `operation(n)` once warmed up (connection open, statements prepared by
    psycopg, which prepares a statement on its fifth use). `operation` must not touch the test's
    own ORM objects: loading an expired one would count too."""
    with app.app_context():
        for n in range(warm_up):
            operation(n)
        before = counter.round_trips
        operation(warm_up)
        return counter.round_trips - before


def test_a_stamp_takes_four_round_trips(db, counted):
    app, counter = counted
    vendor = make_vendor()
    program = make_program(vendor, "stamps", require_staff_pin=False)
    vendor_id, cards = vendor.id, [make_card(program).id for _ in range(9)]
    db.session.commit()

    def stamp(n):
        stamp_service.add_stamp(vendor_id, cards[n], actor=Actor())

    # BEGIN; program read; card lock with today's stamps; the write with its COMMIT.
    assert round_trips_of(app, counter, stamp) == 4


def test_a_pin_confirmed_stamp_takes_five_round_trips(db, counted):
    app, counter = counted
    vendor = make_vendor()
    program = make_program(vendor, "stamps", require_staff_pin=True)
    staff = make_pin(vendor, "Ana", "4827")
    vendor_id, cards = vendor.id, [make_card(program).id for _ in range(9)]
    actor = Actor(staff_pin_id=staff.id, pin="4827", terminal="user:1")
    db.session.commit()

    def stamp(n):
        stamp_service.add_stamp(vendor_id, cards[n], actor=actor)

    # Before bcrypt: BEGIN; the program read and the PIN's counters locked, together; their
    # reservation written, committed and the change's transaction begun, together. After: the
    # card lock, today's stamps and the counters, together; the give-back, the write and the
    # COMMIT, together.
    assert round_trips_of(app, counter, stamp) == 5
