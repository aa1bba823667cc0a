"""Google Wallet figure for `make bench` (run by benchmarks/run.py on its PostgreSQL): the delay
from a stamp's commit to the PATCH of its LoyaltyObject arriving at Google, through the outbox and
`flask loyalty worker` (target: p95 under 2 s). Google is the tests' local stand-in
(tests/google_wallet/fake_google.py: OAuth token endpoint and walletobjects v1 over real HTTP).
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PATCHED_STAMPS = 60
STAMP_INTERVAL_SECONDS = 0.1
CARDS_OFFSET = 52_000  # cards no other run of the bench stamps (Apple's use 50 000 + 60)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _timed_google():
    """The fake Google, noting when each PATCH of an object arrives (path -> monotonic time)."""
    from tests.google_wallet.fake_google import (
        ISSUER_ID,
        SERVICE_ACCOUNT_EMAIL,
        FakeGoogleWallet,
        make_service_account_key,
    )

    class TimedGoogle(FakeGoogleWallet):
        def _wsgi(self, environ, start_response):
            response = super()._wsgi(environ, start_response)
            if environ["REQUEST_METHOD"] == "PATCH":
                self.patched.setdefault(environ["PATH_INFO"].rsplit("/", 1)[-1], time.monotonic())
            return response

    key = make_service_account_key()
    google = TimedGoogle(ISSUER_ID, SERVICE_ACCOUNT_EMAIL, key.public_key_pem)
    google.patched = {}
    return google.start(), key


def run(url: str, app_for) -> dict:
    from sqlalchemy import select, text

    from loyalty_portal.extensions import db
    from loyalty_portal.models import LoyaltyCard
    from loyalty_portal.services import google_wallet_service, stamp_service
    from loyalty_portal.services.ledger import Actor
    from tests.google_wallet.fake_google import google_settings

    google, key = _timed_google()
    key_file = Path(tempfile.mkdtemp(prefix="bench-google-")) / "service-account.json"
    key_file.write_text(json.dumps(key.json_for(google.token_uri)))
    settings = google_settings(google, key_file)
    app = app_for(url, **settings)
    root = Path(__file__).resolve().parent.parent
    with app.app_context():
        program_id, vendor_id, first_card = db.session.execute(
            text("SELECT p.id, p.vendor_id, min(c.id) FROM loyalty_programs p JOIN loyalty_cards"
                 " c ON c.program_id = p.id WHERE NOT p.require_staff_pin"
                 " AND p.program_type = 'stamps' GROUP BY p.id ORDER BY p.id LIMIT 1")
        ).one()  # fmt: skip
        db.session.execute(
            text("UPDATE loyalty_programs SET google_wallet_enabled = true WHERE id = :p"),
            {"p": program_id},
        )
        db.session.commit()
        first = first_card + CARDS_OFFSET
        cards = db.session.scalars(
            select(LoyaltyCard).where(LoyaltyCard.id.between(first, first + PATCHED_STAMPS - 1))
        ).all()
        for card in cards:  # each customer saved the card to Google Wallet
            google_wallet_service.sync_card(card, create=True)
        objects = {card.id: google_wallet_service.object_id_for(card) for card in cards}
        db.session.execute(text("DELETE FROM outbox_messages"))  # earlier phases' backlog
        db.session.commit()
        google.patched.clear()
        env = dict(os.environ, DATABASE_URL=url, **{k: str(v) for k, v in settings.items()})
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "loyalty", "worker"],
            cwd=root, env=env,
        )  # fmt: skip
        committed = {}
        try:
            time.sleep(3)  # the worker has started
            for card_id, object_id in objects.items():
                stamp_service.add_stamp(vendor_id, card_id, actor=Actor(client_ip="127.0.0.1"))
                committed[object_id] = time.monotonic()
                time.sleep(STAMP_INTERVAL_SECONDS)
            deadline = time.monotonic() + 60
            while len(google.patched.keys() & committed.keys()) < len(committed):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
            google.stop()
            db.engine.dispose()
    delays = [
        (google.patched[object_id] - at) * 1000
        for object_id, at in committed.items()
        if object_id in google.patched
    ]
    return {
        "stamps": len(committed),
        "patches": len(delays),
        "p50_ms": percentile(delays, 0.5) if delays else float("nan"),
        "p95_ms": percentile(delays, 0.95) if delays else float("nan"),
    }
