"""A local stand-in for APNs: Hypercorn serving HTTP/2 over TLS on 127.0.0.1, demanding a client
certificate issued under the test root (as APNs demands the Pass Type ID certificate). It records
every request and answers from a script (default 200), so tests can play 500, 429, 410...

It runs on its own event loop in a thread and stops through Hypercorn's shutdown trigger.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from hypercorn.asyncio import serve
from hypercorn.config import Config


@dataclass
class ReceivedPush:
    path: str
    headers: dict[str, str]
    body: bytes
    http_version: str
    client_certificate_subject: str | None
    received_at: float


class ApnsServer:
    def __init__(self, root_certificate, root_key, trusted_ca_files: list[str], directory: Path):
        self.received: list[ReceivedPush] = []
        self._script: deque[tuple[int, dict | None]] = deque()
        self._port = _free_port()
        self.url = f"https://localhost:{self._port}"
        certfile, keyfile = _server_certificate(root_certificate, root_key, directory)
        bundle = directory / "apns-client-cas.pem"
        bundle.write_text("".join(Path(path).read_text() for path in trusted_ca_files))
        config = Config()
        config.bind = [f"127.0.0.1:{self._port}"]
        config.certfile, config.keyfile = str(certfile), str(keyfile)
        config.ca_certs = str(bundle)
        config.verify_mode = ssl.CERT_REQUIRED
        config.alpn_protocols = ["h2"]
        config.accesslog = config.errorlog = None
        self._config = config
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.arrived = threading.Condition()

    def answer(self, status: int, reason: str | None = None, times: int = 1) -> None:
        """Script the next `times` answers."""
        for _ in range(times):
            self._script.append((status, {"reason": reason} if reason else None))

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedPush]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
        return list(self.received)

    # ------------------------------------------------------------------ the server

    async def _app(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, payload = self._script.popleft() if self._script else (200, None)
        push = ReceivedPush(
            path=scope["path"],
            headers={k.decode(): v.decode() for k, v in scope["headers"]},
            body=body,
            http_version=scope["http_version"],
            client_certificate_subject=_client_subject(scope),
            received_at=time.monotonic(),
        )
        with self.arrived:
            self.received.append(push)
            self.arrived.notify_all()
        content = json.dumps(payload).encode() if payload else b""
        headers = [(b"apns-id", b"00000000-0000-0000-0000-000000000000")]
        if content:
            headers.append((b"content-type", b"application/json"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def _run(self):
        asyncio.set_event_loop(self._loop)
        self._stop = asyncio.Event()
        self._loop.run_until_complete(
            serve(self._app, self._config, shutdown_trigger=self._stop.wait)
        )

    def start(self) -> ApnsServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self._port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the local APNs server did not start")

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)


def _client_subject(scope) -> str | None:
    """The client certificate's subject when the server exposes it (Hypercorn's TLS extension)."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    if not chain:
        return None
    certificate = x509.load_pem_x509_certificate(chain[0].encode() if isinstance(chain[0], str)
                                                 else chain[0])
    return certificate.subject.rfc4514_string()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_certificate(root_certificate, root_key, directory: Path) -> tuple[Path, Path]:
    """A TLS server certificate for localhost/127.0.0.1, issued by the test root."""
    import ipaddress

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(root_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    certfile, keyfile = directory / "apns-server.pem", directory / "apns-server-key.pem"
    certfile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certfile, keyfile
