"""Schemathesis generates requests from the served OpenAPI document and checks that no request
gets a 5xx and that every response matches what the document declares (status, headers, body)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from loyalty_portal.models import Role
from tests.api.helpers import make_shop
from tests.factories import make_user

pytestmark = pytest.mark.fuzz
# Examples per operation come from the hypothesis profile tests/api/conftest.py loads for the
# database of the pass (fewer on PostgreSQL, whose requests are slower).

schema = schemathesis.pytest.from_fixture("api_schema")
CREDENTIALS: dict[str, str] = {}


@pytest.fixture
def api_schema(app, db, frozen_time):
    """The served document, with a shop to find and credentials for every route family."""
    shop = make_shop("stamps")
    make_shop("points")
    admin = make_user(Role.ADMIN)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(admin.id)
    admin_cookie = client.get_cookie("session").value
    db.session.commit()
    CREDENTIALS.update(api_key=shop.api_key, admin_cookie=admin_cookie)
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    loaded.auth()(PortalAuth)
    # Input the schema accepts may still be refused by the program's rules and the card's state
    # (PIN required 400, wrong PIN 403, locked 423, cooldown 429, a purchase too small for a
    # point 422...): every such status is declared on the operation.
    # A body over a route's size limit (Apple's web service takes at most 64 KiB) is refused
    # unread with 413, which the document declares on those routes.
    loaded.config.checks.negative_data_rejection.expected_statuses = [
        "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx",
    ]
    loaded.config.checks.positive_data_acceptance.expected_statuses = [
        "2xx",
        "400",
        "401",
        "403",
        "404",
        "409",
        "422",
        "423",
        "429",
    ]
    return loaded


class PortalAuth:
    """Admin routes get the admin's session cookie, vendor routes the shop's API key."""

    def get(self, case, context):
        return CREDENTIALS

    def set(self, case, data, context):
        if case.path.startswith("/api/v1/admin/"):
            case.cookies = {**(case.cookies or {}), "session": data["admin_cookie"]}
        elif case.path.startswith("/api/v1/vendor/"):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data['api_key']}"}


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_the_api_matches_its_openapi_document(case):
    case.call_and_validate()
