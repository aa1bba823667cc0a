"""Apple Push Notification service, as Wallet uses it: an empty push over HTTP/2 tells a device
that one of its passes changed; the device then asks the web service what changed.

Authentication is the documented one for passes: TLS with the Pass Type ID certificate as the
client certificate, and the pass type identifier as the topic. One HTTP/2 connection per process
is kept open and reused (APNs asks senders to keep connections rather than reconnect per push).
"""

from __future__ import annotations

import enum
import json
import ssl
from dataclasses import dataclass

import httpx

from .apple_certificates import AppleCredentials, pem_certificate_file


class PushResult(enum.Enum):
    DELIVERED = "delivered"
    # The token is dead (410 Unregistered, 400 BadDeviceToken): forget the registration.
    TOKEN_INVALID = "token_invalid"
    # 429, 5xx or no answer: try again later.
    RETRY = "retry"
    # Any other refusal: our request or our certificate is wrong; retrying will not help.
    REFUSED = "refused"


@dataclass(frozen=True)
class PushOutcome:
    push_token: str
    result: PushResult
    status: int | None
    reason: str | None


# APNs answers 400 with one of these reasons when the token itself is bad.
INVALID_TOKEN_REASONS = {"BadDeviceToken", "DeviceTokenNotForTopic", "Unregistered"}


class ApnsClient:
    """Sends Wallet pushes for one pass type over one reused HTTP/2 connection."""

    def __init__(self, credentials: AppleCredentials, timeout_seconds: float = 10.0):
        self.topic = credentials.pass_type_identifier
        self.base_url = credentials.apns_url
        context = ssl.create_default_context(cafile=credentials.apns_ca_file)
        context.load_cert_chain(
            pem_certificate_file(credentials),
            credentials.key_path,
            password=credentials.key_password,
        )
        self._client = httpx.Client(
            http2=True, verify=context, timeout=httpx.Timeout(timeout_seconds)
        )

    def push(self, push_token: str) -> PushOutcome:
        """One background push to the device with this token."""
        try:
            response = self._client.post(
                f"{self.base_url}/3/device/{push_token}",
                headers={
                    "apns-topic": self.topic,
                    "apns-push-type": "background",
                    "apns-priority": "5",
                },
                content=b"{}",
            )
        except httpx.HTTPError as error:
            return PushOutcome(push_token, PushResult.RETRY, None, type(error).__name__)
        return _outcome(push_token, response)

    def close(self) -> None:
        self._client.close()


def _outcome(push_token: str, response: httpx.Response) -> PushOutcome:
    status = response.status_code
    reason = _reason(response)
    if status == 200:
        result = PushResult.DELIVERED
    elif status == 410 or (status == 400 and reason in INVALID_TOKEN_REASONS):
        result = PushResult.TOKEN_INVALID
    elif status == 429 or status >= 500:
        result = PushResult.RETRY
    else:
        result = PushResult.REFUSED
    return PushOutcome(push_token, result, status, reason)


def _reason(response: httpx.Response) -> str | None:
    try:
        return json.loads(response.content or b"{}").get("reason")
    except (ValueError, AttributeError):
        return None
