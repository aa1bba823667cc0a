"""The app as `make bench` serves it for the staff-PIN measurement: each response carries the
time its own bcrypt check took, in X-Bench-Bcrypt-Ms, so the bench can subtract the very check a
request ran, not only one timed beside it (on this shared machine one check varies by several
milliseconds from the next). Used by the bench only; `wsgi:app` is unchanged.
"""

import time

import bcrypt

from wsgi import app as _app

_checkpw = bcrypt.checkpw
_last_check_ms = 0.0  # sync workers: one request at a time per process


def _timed_checkpw(password: bytes, hashed: bytes) -> bool:
    global _last_check_ms
    started = time.perf_counter()
    try:
        return _checkpw(password, hashed)
    finally:
        _last_check_ms = (time.perf_counter() - started) * 1000


bcrypt.checkpw = _timed_checkpw  # pin_service calls bcrypt.checkpw through the module


def app(environ, start_response):
    global _last_check_ms
    _last_check_ms = 0.0

    def start_with_timing(status, headers, exc_info=None):
        return start_response(
            status, [*headers, ("X-Bench-Bcrypt-Ms", f"{_last_check_ms:.3f}")], exc_info
        )

    return _app(environ, start_with_timing)
