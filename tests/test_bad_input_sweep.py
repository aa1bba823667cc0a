"""The bad-input sweep: every screen (app.url_map) and every operation of the OpenAPI document gets
NUL bytes, invalid UTF-8 and lone surrogates, deeply nested JSON, integers far beyond 2**31 and
values ending in a newline, in its path, query string, form fields, JSON body and headers, signed
in as the role the route is for. No answer may be 5xx, and every answer under /api/ is the JSON
error envelope. Runs on SQLite and PostgreSQL (the database that used to answer 500)."""

import json
import re
from collections import Counter

import pytest

from loyalty_portal.models import Role
from loyalty_portal.services import stamp_service
from loyalty_portal.services.ledger import Actor
from tests.api.helpers import make_shop, sign_in
from tests.factories import make_user

BAD_TEXT = {
    "nul": "nul%00byte",
    "invalid_utf8": "x%ED%A0%80y",  # a lone surrogate, UTF-8 encoded: not valid UTF-8
    "newline": "4321%0A",  # a PIN, an id or a colour ("#ffffff\n") ending in a newline
}
BAD_NUMBERS = {
    "int32_plus_one": str(2**31),
    "int64_plus_one": str(2**63),
    "thousands_of_digits": "9" * 5000,
}
BAD_JSON_VALUES = {
    "nul": "a\x00b",
    "lone_surrogate": "\ud800",
    "newline": "#ffffff\n",
    "pin_newline": "4321\n",
    "int32_plus_one": 2**31,
    "int64_plus_one": 2**63,
    "huge": 10**30,
    "negative_huge": -(2**63) - 1,
}
DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 5_000 + "1" + "}" * 5_000
# Every name a screen reads from a query string or a form (forms' fields, raw request.args/form).
FIELD_NAMES = (
    "q", "page", "per_page", "before", "index", "amount", "amount_cents", "reward_id", "sort",
    "staff_pin_id", "pin", "idempotency_key", "next", "active", "name", "email", "phone",
    "locale", "consent", "password", "remember", "reason", "delta", "from", "to", "days",
    "program_type", "description", "stamps_target", "stamps_reward_description",
    "points_per_currency_unit", "cooldown_minutes", "max_daily_stamps", "require_staff_pin",
    "pin_max_failed_attempts", "pin_lockout_minutes", "card_background_color",
    "card_text_color", "logo_url", "is_active", "rewards-0-reward_id", "rewards-0-name",
    "rewards-0-points_cost", "rewards-0-active", "limit", "before_id", "include_inactive", "lang",
)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _role_for(path: str) -> str:
    for prefix, role in (
        ("/api/v1/vendor/", "owner"), ("/api/v1/admin/", "admin"), ("/vendor", "owner"),
        ("/admin", "admin"), ("/cashier", "staff"),
    ):
        if path.startswith(prefix):
            return role
    return "anonymous"


class Sweep:
    def __init__(self, app, shop, clients):
        self.app, self.shop, self.clients = app, shop, clients
        self.statuses: Counter = Counter()
        self.failures: list[str] = []

    def send(self, method, path, *, query="", role=None, **kwargs):
        client = self.clients[role or _role_for(path)]
        response = client.open(path, method=method, query_string=query, **kwargs)
        self.statuses[response.status_code] += 1
        what = f"{method} {path}?{query[:60]} {str(kwargs)[:120]} -> {response.status_code}"
        if response.status_code >= 500:
            self.failures.append(what)
        if path.startswith("/api/") and not path.startswith("/api/v1/docs"):
            body = response.get_json(silent=True)
            if response.status_code >= 400 and (
                not isinstance(body, dict) or set(body) != {"error_code", "message", "details"}
            ):
                self.failures.append("not the JSON envelope: " + what)
        return response

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


@pytest.fixture(params=["stamps", "points"])
def sweep(request, app, db, frozen_time):
    """A shop of each kind with a ledger row, clients signed in for each role (the cashier with
    a staff member chosen), and unexpected errors answered as 500s instead of raised."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    shop = make_shop(request.param)
    if request.param == "stamps":
        stamp_service.add_stamp(
            shop.vendor.id,
            shop.card.id,
            actor=Actor(staff_pin_id=shop.pin.id, pin=shop.pin_body()["pin"]),
        )
    admin = make_user(Role.ADMIN)
    clients = {"anonymous": app.test_client()}
    for role, user in (("owner", shop.owner), ("staff", shop.staff), ("admin", admin)):
        clients[role] = app.test_client()
        sign_in(clients[role], user)
    with clients["staff"].session_transaction() as session:
        session["cashier_staff_pin_id"] = shop.pin.id
    db.session.commit()
    return Sweep(app, shop, clients)


def _valid_path_values(shop) -> dict:
    from loyalty_portal.extensions import db
    from loyalty_portal.models import ApiKey, LoyaltyTransaction

    transaction_id = db.session.query(LoyaltyTransaction.id).limit(1).scalar() or 1
    api_key_id = db.session.query(ApiKey.id).filter_by(vendor_id=shop.vendor.id).limit(1).scalar()
    return {
        "card_id": shop.card.id, "program_id": shop.program.id, "staff_pin_id": shop.pin.id,
        "transaction_id": transaction_id, "api_key_id": api_key_id,
        "customer_id": shop.card.customer_id, "vendor_slug": shop.vendor.slug, "message_id": 1,
        "public_token": shop.card.public_token, "code": "fr",
        "action": "earn_points" if shop.program.is_points else "stamp",
    }


# Routes that take away what later requests need (the key, the PIN, the card, the session) go last.
_DESTRUCTIVE = re.compile(r"revoke|deactivate|active|logout|forget|customers|api-keys/")


def _last_if_destructive(item) -> tuple:
    path, method = item[0] if isinstance(item[0], str) else item[0].rule, item[1]
    return (bool(_DESTRUCTIVE.search(path)) or method == "DELETE", path, method)


def _screen_routes(app):
    routes = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not rule.rule.startswith("/api/")
        for method in METHODS
        if method in rule.methods
    ]
    return sorted(routes, key=_last_if_destructive)


def _fill(rule_path: str, values: dict, override: tuple[str, str] | None = None) -> str:
    def value(match):
        name = match.group(1).split(":")[-1]
        if override and override[0] == name:
            return override[1]
        return str(values.get(name, "x1"))  # e.g. an Apple device or pass type id

    return re.sub(r"<([^>]+)>", value, rule_path)


def _text_cases():
    return {**BAD_TEXT, **BAD_NUMBERS}


def sweep_screens(sweep: Sweep) -> None:
    values = _valid_path_values(sweep.shop)
    for rule, method in _screen_routes(sweep.app):
        path = _fill(rule.rule, values)
        for case in _text_cases().values():
            query = "&".join(f"{name}={case}" for name in FIELD_NAMES)
            sweep.send(method, path, query=query)
            if method != "GET":
                form = "&".join(f"{name}={case}" for name in FIELD_NAMES)
                sweep.send(method, path, data=form,
                           content_type="application/x-www-form-urlencoded")
        for argument in rule.arguments:
            for case in _text_cases().values():
                sweep.send(method, _fill(rule.rule, values, (argument, case)))
        sweep.send(method, path, headers={"User-Agent": "agent\x00", "Idempotency-Key": "k\x00"})


def _openapi_operations(sweep: Sweep):
    spec = sweep.clients["anonymous"].get("/api/v1/openapi.json").get_json()
    operations = [
        (path, method.upper(), operation, spec)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method.upper() in METHODS
    ]
    return sorted(operations, key=_last_if_destructive)


def _body_properties(operation, spec) -> dict:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return {}
    name = content["schema"]["$ref"].rsplit("/", 1)[-1]
    return spec["components"]["schemas"][name].get("properties", {})


def sweep_api(sweep: Sweep) -> None:
    values = _valid_path_values(sweep.shop)
    for bad_key in ("lpk_" + "x" * 5000, "lpk_\u00e9", "Basic abc", ""):
        sweep.send("GET", "/api/v1/vendor/loyalty/program", role="anonymous",
                   headers={"Authorization": f"Bearer {bad_key}"})
    # Point-of-sale calls with the vendor's API key rather than the owner's session.
    auth = {"Authorization": f"Bearer {sweep.shop.api_key}"}
    for value in BAD_JSON_VALUES.values():
        for action in ("stamps", "points"):
            body = json.dumps({"staff_pin_id": value, "pin": value, "purchase_amount_cents": value})
            sweep.send("POST", f"/api/v1/vendor/loyalty/cards/{sweep.shop.card.id}/{action}",
                       role="anonymous", headers=auth, data=body, content_type="application/json")
    for path_template, method, operation, spec in _openapi_operations(sweep):
        rule = re.sub(r"{(\w+)}", r"<\1>", path_template)
        path = _fill(rule, values)
        role, headers = None, {}  # the owner's session reaches every vendor route
        for case in _text_cases().values():
            query = "&".join(f"{name}={case}" for name in FIELD_NAMES)
            sweep.send(method, path, query=query, role=role, headers=headers)
        for argument in re.findall(r"<(\w+)>", rule):
            for case in _text_cases().values():
                sweep.send(method, _fill(rule, values, (argument, case)), role=role,
                           headers=headers)
        sweep.send(method, path, role=role, headers={**headers, "Idempotency-Key": "k\x00"})
        properties = _body_properties(operation, spec)
        if not properties and method == "GET":
            continue
        for value in BAD_JSON_VALUES.values():
            body = json.dumps({name: value for name in properties or FIELD_NAMES})
            sweep.send(method, path, data=body, content_type="application/json", role=role,
                       headers=headers)
        for body in (DEEP_ARRAY, DEEP_OBJECT, '{"\\ud800": 1}', '{"a": NaN}', "[1e999]"):
            sweep.send(method, path, data=body, content_type="application/json", role=role,
                       headers=headers)


def test_no_bad_input_gets_a_5xx_anywhere(sweep, capsys):
    sweep_api(sweep)
    sweep_screens(sweep)
    with capsys.disabled():
        print(
            f"\nbad-input sweep ({sweep.shop.program.program_type}): {sweep.requests} requests,"
            f" {sum(n for s, n in sweep.statuses.items() if s >= 500)} answers >= 500,"
            f" statuses {dict(sorted(sweep.statuses.items()))}"
        )
    assert sweep.requests > 1000
    assert not sweep.failures, "\n".join(sweep.failures[:40])
