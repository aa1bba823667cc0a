"""The edge (loyalty_portal/input_guard.py): what no view may receive is refused with
MALFORMED_INPUT; ids are bounded; patterns match whole strings; the OpenAPI document validates
and declares what the edge can answer."""

import ast
import json
from pathlib import Path

import marshmallow as ma
import pytest
from openapi_spec_validator import validate as validate_openapi

from loyalty_portal.api.schemas import admin, common, public, session, vendor
from tests.api.helpers import P, V, assert_error, sign_in

PACKAGE = Path(__file__).resolve().parents[2] / "loyalty_portal"


def _json(client, url, body: str, **headers):
    return client.post(url, data=body, content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"name": "Zo\\u0000e", "email": "z@example.com", "consent": true}', "nul_byte"),
        ('{"name": "\\ud800", "email": "z@example.com", "consent": true}', "lone_surrogate"),
        ('{"\\udfff": 1}', "lone_surrogate"),
        ("[" * 50_000 + "]" * 50_000, "too_deep"),
        ('{"a":' * 40 + "1" + "}" * 40, "too_deep"),
        ('{"name": 1' + "0" * 30 + "}", "number_too_large"),
        ('{"name": ' + "9" * 5000 + "}", "number_too_large"),
        ('{"name": NaN}', "not_a_number"),
    ],
)
def test_json_that_would_break_the_database_or_the_parser_is_refused(client, shop, body, reason):
    response = _json(client, f"{P}/programs/{shop.vendor.slug}/enrol", body)
    details = assert_error(response, 400, "MALFORMED_INPUT")
    assert details == {"location": "json", "reason": reason}


def test_malformed_json_is_still_a_plain_bad_request(client, shop):
    assert_error(_json(client, f"{P}/programs/{shop.vendor.slug}/enrol", "{nope"), 400,
                 "BAD_REQUEST")


@pytest.mark.parametrize(
    ("url", "location"),
    [
        (f"{V}/cards/lookup?q=12%00", "query"),
        (f"{P}/cards/abc%00def", "path"),
        ("/card/abc%00def", "path"),
        ("/cashier/find?q=%00", "query"),
    ],
)
def test_nul_bytes_in_paths_and_query_strings_are_refused(client, shop, url, location):
    sign_in(client, shop.staff)
    response = client.get(url, headers=shop.key_headers if url.startswith(V) else {})
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert assert_error(response, 400, "MALFORMED_INPUT")["location"] == location
    else:
        assert "not allowed" in response.get_data(as_text=True)


def test_nul_bytes_in_forms_and_headers_are_refused(client, shop):
    sign_in(client, shop.owner)
    form = client.post("/vendor/api-keys", data={"name": "Till\x00"},
                       headers={"HX-Request": "true"})
    assert form.status_code == 400 and "not allowed" in form.get_data(as_text=True)
    plain = client.post("/vendor/api-keys", data={"name": "Till\x00"})
    assert plain.status_code == 303  # a refused plain form post goes back with the message
    assert shop.api_key and len(client.get(f"{V}/api-keys").get_json()) == 1
    header = client.post(
        f"{V}/cards/{shop.card.id}/stamps",
        json=shop.pin_body(),
        headers={**shop.key_headers, "Idempotency-Key": "key\x00"},
    )
    assert assert_error(header, 400, "MALFORMED_INPUT") == {
        "location": "headers",
        "reason": "nul_byte",
        "name": "Idempotency-Key",
    }


@pytest.mark.parametrize("number", [2**31, 2**63, 10**30])
def test_ids_and_pages_beyond_the_database_integer_are_not_found_or_ignored(
    client, shop, number
):
    sign_in(client, shop.owner)
    assert client.get(f"/vendor/cards/{number}").status_code == 404
    assert client.get(f"/vendor/staff/{number}").status_code == 404
    assert client.get(f"/theme/{number}.css").status_code == 404
    assert_error(client.get(f"{V}/cards/{number}"), 404, "NOT_FOUND")
    page = client.get("/vendor/cards", query_string={"page": str(number), "before": str(number)})
    assert page.status_code == 200  # out of range: the first page
    assert client.get(f"/vendor/cards/{shop.card.id}?before={number}").status_code == 200


@pytest.mark.parametrize("colour", ["#ffffff\n", "#FFFFFF\r\n", " #ffffff"])
def test_a_pattern_matches_the_whole_value(client, shop, colour):
    sign_in(client, shop.owner)
    response = client.patch(f"{V}/program", json={"card_background_color": colour})
    assert response.status_code == 422


@pytest.mark.parametrize("pin", ["4321\n", "４３２１", "12345678\n"])
def test_a_pin_that_cannot_be_typed_is_refused(client, shop, pin):
    sign_in(client, shop.owner)
    response = client.post(f"{V}/pins", json={"name": "Nina", "pin": pin})
    assert response.status_code == 422


def test_every_pattern_in_the_code_is_matched_whole():
    """`re.match`, `.match()` and validate.Regexp stop at a trailing newline before `$`: the code
    uses fullmatch (FullMatch for schemas) everywhere."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("match", "Regexp"):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def _load_schemas():
    for module in (admin, common, public, session, vendor):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, ma.Schema):
                yield value


REQUEST_SCHEMAS = {
    "AddStampSchema", "AdjustBalanceSchema", "ApiKeyCreateSchema", "CardUpdateSchema",
    "EarnPointsSchema", "EnrolSchema", "LoginSchema", "ProgramUpdateSchema",
    "RedeemPointsSchema", "RewardSchema", "StaffPinChangeSchema", "StaffPinCreateSchema",
    "StaffPinFieldsSchema", "StaffPinRenameSchema", "VoidSchema", "IdempotencyHeaderSchema",
}


def test_every_integer_a_request_carries_is_bounded():
    unbounded = []
    for schema in _load_schemas():
        if schema.__name__ not in REQUEST_SCHEMAS and "Query" not in schema.__name__:
            continue
        for name, field in schema._declared_fields.items():
            if isinstance(field, ma.fields.Integer):
                ranges = [v for v in field.validators if isinstance(v, ma.validate.Range)]
                if not ranges or ranges[0].min is None or ranges[0].max is None or max(
                    abs(ranges[0].min), abs(ranges[0].max)
                ) > 2**31 - 1:
                    unbounded.append(f"{schema.__name__}.{name}")
    assert unbounded == []


def test_the_openapi_document_validates(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validate_openapi(spec)  # raises on a dangling $ref or anything else out of OpenAPI 3.0
    references = {
        value
        for value in json.dumps(spec).split('"')
        if value.startswith("#/components/")
    }
    for reference in references:
        _, _, kind, name = reference.split("/")
        assert name in spec["components"][kind], reference
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            assert "400" in responses, (method, path)  # the edge may refuse any request
            if "{" in path:
                assert "404" in responses, (method, path)
            if "requestBody" in operation:
                assert operation["requestBody"]["required"] is True, (method, path)
                assert {"413", "422"} <= set(responses), (method, path)
            if "security" in operation:
                assert {"401", "403"} <= set(responses), (method, path)


def test_405_413_and_500_under_the_api_are_the_json_envelope(app, client, shop):
    assert_error(client.put(f"{V}/program", headers=shop.key_headers), 405, "METHOD_NOT_ALLOWED")
    big = client.post(f"{P}/programs/{shop.vendor.slug}/enrol", data="x" * (2 * 1024 * 1024),
                      content_type="application/json")
    assert_error(big, 413, "PAYLOAD_TOO_LARGE")
