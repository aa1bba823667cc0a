"""Helpers for the API tests: a shop with its people, PINs, a card and an API key; signing in;
checking the error envelope."""

from dataclasses import dataclass

from loyalty_portal.models import Role
from loyalty_portal.services import api_key_service
from tests.factories import make_card, make_pin, make_program, make_user, make_vendor

V = "/api/v1/vendor/loyalty"
A = "/api/v1/admin/loyalty"
P = "/api/v1/loyalty"


@dataclass
class Shop:
    vendor: object
    program: object
    card: object
    pin: object
    owner: object
    staff: object
    api_key: str

    @property
    def key_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.api_key}"}

    def pin_body(self, **fields) -> dict:
        return {"staff_pin_id": self.pin.id, "pin": "4827", **fields}


def make_shop(program_type: str = "stamps", **settings) -> Shop:
    vendor = make_vendor()
    program = make_program(vendor, program_type, **settings)
    return Shop(
        vendor=vendor,
        program=program,
        card=make_card(program),
        pin=make_pin(vendor, "Anna", "4827"),
        owner=make_user(Role.OWNER, vendor),
        staff=make_user(Role.STAFF, vendor),
        api_key=api_key_service.create_key(vendor.id, "Till 1").secret,
    )


def sign_in(client, user) -> None:
    """Put the user in the client's session, as the login page would."""
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True


def assert_error(response, status: int, error_code: str) -> dict:
    """The response is the JSON error envelope with this status and code; returns its details."""
    body = response.get_json()
    assert response.status_code == status, (response.status_code, body)
    assert set(body) == {"error_code", "message", "details"}, body
    assert body["error_code"] == error_code, body
    assert body["message"]
    return body["details"]
