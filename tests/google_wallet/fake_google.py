"""A local stand-in for Google: the OAuth token endpoint and the Wallet API (walletobjects v1),
spoken over real HTTP so the app's google-auth session is exercised end to end.

- POST /token takes the service account's signed JWT assertion (RFC 7523), checks its signature
  against the test key's public half, its audience, issuer and scope, and hands out a bearer
  token.
- /walletobjects/v1/{loyaltyClass,loyaltyObject}[/{id}] insert (POST), get (GET) and patch
  (PATCH) as Google does: 401 without a valid bearer token, 403 for another issuer's ids, 409 on
  inserting an existing id, 404 on patching a missing one, 400 with Google's wording for a payload
  the discovery document refuses (unknown field names among others).
- GET /walletobjects/v1/issuer/{id} answers for the configured issuer only.
- `fail_next()` makes the next matching calls answer 429, 500... with a Google error body.

Every API call is recorded in `calls` (method, resource, id, body, status) for the tests.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt, jwt
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.google_wallet.discovery import problems

SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
# The audience Google's token endpoint demands in the assertion, whatever address it is posted to
# (google-auth always signs for it; the key file's token_uri only says where to post).
TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
API_PREFIX = "/walletobjects/v1/"
RESOURCES = {"loyaltyClass": "LoyaltyClass", "loyaltyObject": "LoyaltyObject"}
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


# The service account and the app's settings ----------------------------------------------------

ISSUER_ID = "3388000000012345678"
SERVICE_ACCOUNT_EMAIL = "loyalty-wallet@loyalty-portal-test.iam.gserviceaccount.com"


@dataclass(frozen=True)
class ServiceAccountKey:
    private_key_pem: str
    public_key_pem: str
    key_id: str = "test-key-1"

    def json_for(self, token_uri: str) -> dict:
        return {
            "type": "service_account",
            "project_id": "loyalty-portal-test",
            "private_key_id": self.key_id,
            "private_key": self.private_key_pem,
            "client_email": SERVICE_ACCOUNT_EMAIL,
            "client_id": "100000000000000000001",
            "token_uri": token_uri,
        }


def make_service_account_key() -> ServiceAccountKey:
    """A fresh RSA key standing for a Google service account's (2048 bits, as Google's)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ServiceAccountKey(
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        public_key_pem=key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    )


def google_settings(fake, key_file) -> dict:
    return {
        "GOOGLE_WALLET_ISSUER_ID": ISSUER_ID,
        "GOOGLE_WALLET_SERVICE_ACCOUNT_FILE": str(key_file),
        "GOOGLE_WALLET_API_BASE_URL": fake.api_base_url,
        "GOOGLE_WALLET_ID_PREFIX": "test",
        "GOOGLE_WALLET_TIMEOUT_SECONDS": 5,
        "PUBLIC_BASE_URL": "https://loyalty.example.com",
    }


SAVE_PREFIX = "https://pay.google.com/gp/v/save/"


def verified_claims(url: str, public_key_pem: str) -> tuple[dict, dict]:
    """The save link's JWT header and claims, after checking its RS256 signature with the
    service account's public key (save links carry no `exp`, so google.auth.jwt.decode, which
    insists on one, is not used)."""
    assert url.startswith(SAVE_PREFIX)
    token = url[len(SAVE_PREFIX):]
    header_b64, claims_b64, signature_b64 = token.split(".")
    verifier = crypt.RSAVerifier.from_string(public_key_pem)
    assert verifier.verify(f"{header_b64}.{claims_b64}".encode(), _unb64(signature_b64))
    return json.loads(_unb64(header_b64)), json.loads(_unb64(claims_b64))


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


# The stand-in -------------------------------------------------------------------------------------


@dataclass
class Call:
    method: str
    resource: str
    resource_id: str | None
    body: dict[str, Any] | None
    status: int


@dataclass
class _Failure:
    method: str
    resource: str
    status: int
    message: str
    times: int


class FakeGoogleWallet:
    def __init__(self, issuer_id: str, service_account_email: str, public_key_pem: str):
        self.issuer_id = issuer_id
        self.service_account_email = service_account_email
        self.public_key_pem = public_key_pem
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.reset()

    # ------------------------------------------------------------------ control

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base_url(self) -> str:
        return self.origin + API_PREFIX.rstrip("/")

    @property
    def token_uri(self) -> str:
        return self.origin + "/token"

    def start(self) -> FakeGoogleWallet:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def reset(self) -> None:
        with self._lock:
            self.classes: dict[str, dict] = {}
            self.objects: dict[str, dict] = {}
            self.calls: list[Call] = []
            self.tokens: set[str] = set()
            self.token_requests = 0
            self.refused_assertions: list[str] = []
            self._failures: list[_Failure] = []

    def fail_next(
        self, method: str, resource: str, status: int, message: str | None = None, times: int = 1
    ) -> None:
        """The next `times` calls of `method` on `resource` (loyaltyClass, loyaltyObject,
        issuer) answer `status` with a Google error body."""
        with self._lock:
            self._failures.append(
                _Failure(method, resource, status, message or f"Simulated {status}", times)
            )

    def expire_tokens(self) -> None:
        """Every token handed out so far stops working (as when an hour has passed)."""
        with self._lock:
            self.tokens.clear()

    def api_calls(self, method: str | None = None, resource: str | None = None) -> list[Call]:
        return [
            c for c in self.calls
            if (method is None or c.method == method)
            and (resource is None or c.resource == resource)
        ]

    # ------------------------------------------------------------------ HTTP

    @Request.application
    def _wsgi(self, request: Request) -> Response:
        if request.path == "/token" and request.method == "POST":
            return self._token(request)
        if request.path.startswith(API_PREFIX):
            return self._api(request)
        return _error(404, f"No route for {request.method} {request.path}")

    def _token(self, request: Request) -> Response:
        with self._lock:
            self.token_requests += 1
        if request.form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return _oauth_error("unsupported_grant_type")
        assertion = request.form.get("assertion", "")
        try:
            claims = jwt.decode(assertion, certs=self.public_key_pem, audience=TOKEN_AUDIENCE)
        except ValueError as error:
            self.refused_assertions.append(str(error))
            return _oauth_error("invalid_grant", str(error))
        if claims.get("iss") != self.service_account_email:
            return _oauth_error("invalid_grant", "Invalid JWT: unknown issuer")
        if SCOPE not in (claims.get("scope") or "").split():
            return _oauth_error("invalid_scope", "The wallet_object.issuer scope is missing")
        token = f"ya29.fake-{next(self._counter)}"
        with self._lock:
            self.tokens.add(token)
        return _json({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _api(self, request: Request) -> Response:
        parts = [unquote(p) for p in request.path[len(API_PREFIX):].split("/") if p]
        resource = parts[0] if parts else ""
        resource_id = parts[1] if len(parts) > 1 else None
        body = request.get_json(silent=True) if request.data else None
        response = self._answer(request, resource, resource_id, body)
        with self._lock:
            self.calls.append(Call(request.method, resource, resource_id, body,
                                   response.status_code))
        return response

    def _answer(self, request, resource, resource_id, body) -> Response:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
        if token not in self.tokens:
            return _error(401, "Request had invalid authentication credentials. Expected OAuth "
                               "2 access token, login cookie or other valid authentication "
                               "credential.")
        with self._lock:
            for failure in self._failures:
                if failure.method == request.method and failure.resource == resource:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                    return _error(failure.status, failure.message)
        if resource == "issuer" and request.method == "GET":
            if resource_id != self.issuer_id:
                return _error(403, f"The caller does not have permission for issuer {resource_id}")
            return _json({"issuerId": self.issuer_id, "name": "Loyalty Portal test issuer"})
        if resource not in RESOURCES:
            return _error(404, f"Unknown resource {resource!r}")
        store = self.classes if resource == "loyaltyClass" else self.objects
        method = request.method
        if method == "GET" and resource_id:
            if resource_id not in store:
                return _error(404, f"Resource {resource_id} not found")
            return _json(store[resource_id])
        if method == "POST" and resource_id is None:
            return self._insert(resource, store, body)
        if method == "PATCH" and resource_id:
            return self._patch(resource, store, resource_id, body)
        return _error(404, f"No method {method} on {resource}")

    def _refusal(self, resource: str, body: Any, *, partial: bool) -> Response | None:
        if not isinstance(body, dict):
            return _error(400, "Invalid JSON payload received.")
        found = problems(RESOURCES[resource], body, partial=partial)
        if found:
            return _error(400, "Invalid JSON payload received. " + " ".join(found))
        resource_id = body.get("id") or ""
        if not resource_id.startswith(self.issuer_id + "."):
            return _error(403, f"Issuer of {resource_id!r} is not {self.issuer_id}")
        if resource == "loyaltyObject" and body.get("classId") and not str(
            body["classId"]
        ).startswith(self.issuer_id + "."):
            return _error(403, "Class belongs to another issuer")
        return None

    def _insert(self, resource, store, body) -> Response:
        refusal = self._refusal(resource, body, partial=False)
        if refusal:
            return refusal
        with self._lock:
            if body["id"] in store:
                return _error(409, f"Resource {body['id']} already exists")
            stored = {k: v for k, v in body.items() if v is not None}
            stored["version"] = "1"
            store[body["id"]] = stored
        return _json(stored)

    def _patch(self, resource, store, resource_id, body) -> Response:
        refusal = self._refusal(resource, {**(body or {}), "id": resource_id}, partial=True)
        if refusal:
            return refusal
        with self._lock:
            if resource_id not in store:
                return _error(404, f"Resource {resource_id} not found")
            stored = store[resource_id]
            for key, value in body.items():
                if value is None:
                    stored.pop(key, None)
                else:
                    stored[key] = value
            stored["version"] = str(int(stored.get("version", "1")) + 1)
        return _json(stored)


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _error(status: int, message: str) -> Response:
    return _json(
        {"error": {"code": status, "message": message,
                   "status": STATUS_NAMES.get(status, "UNKNOWN")}},
        status,
    )


def _oauth_error(code: str, description: str = "") -> Response:
    return _json({"error": code, "error_description": description}, 400)
