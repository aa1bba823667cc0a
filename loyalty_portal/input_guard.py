"""The edge: what every request must be before any view, schema or service sees it.

PostgreSQL refuses NUL bytes in text and the UTF-8 encoder refuses lone surrogates, so either
one used to travel down to the database and come back as a 500. Deeply nested JSON exhausted
Python's recursion limit, and integers beyond 64 bits overflowed the database's. One hook,
run before every view (screens and API alike), and the API's JSON parser refuse all of these
with MALFORMED_INPUT (400):
- NUL bytes and lone surrogates anywhere: the path, the query string, form fields, JSON keys and
  values, header values;
- JSON nested deeper than MAX_JSON_DEPTH, integers outside 64 bits, NaN and Infinity.

Tighter bounds belong to the fields themselves: ids are 1..MAX_ID (the `id` path converter and
`bounded_int` for query and form values), schema integers carry ranges, and every pattern is
matched against the whole string (`fullmatch`, see api/schemas/common.FullMatch).
"""

import json
import re
from collections.abc import Callable

from flask import Flask, request
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.routing import IntegerConverter

from .errors import MalformedInput

MAX_ID = 2**31 - 1  # ids are PostgreSQL `integer`
MAX_JSON_DEPTH = 32
MAX_JSON_INTEGER = 2**63 - 1
# Characters no text of ours may hold: NUL, and UTF-16 surrogates (never valid on their own).
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


class IdConverter(IntegerConverter):
    """A database id in a URL: 1 to MAX_ID, so an oversized number is a 404 rather than an
    integer overflow in the database. Registered as `<id:...>` for screens and API alike."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=MAX_ID)


def bounded_int(low: int = 1, high: int = MAX_ID) -> Callable[[str], int]:
    """A `type=` for `request.args.get(...)` and `request.form.get(...)`: a whole number from
    `low` to `high`, anything else is ValueError (so `get` falls back to its default)."""

    def parse(text: str) -> int:
        if not re.fullmatch(r"-?[0-9]{1,12}", text or ""):
            raise ValueError(text)
        value = int(text)
        if not low <= value <= high:
            raise ValueError(text)
        return value

    return parse


def _refuse_forbidden(text: str, location: str) -> None:
    found = _FORBIDDEN.search(text)
    if found is not None:
        reason = "nul_byte" if found.group() == "\x00" else "lone_surrogate"
        raise MalformedInput(location, reason)


def _parse_int(text: str) -> int:
    # Checked before int(): Python refuses to convert more than 4300 digits with a ValueError
    # that the JSON parsers downstream do not expect.
    if len(text) > 20 or abs(int(text)) > MAX_JSON_INTEGER:
        raise MalformedInput("json", "number_too_large")
    return int(text)


def _refuse_constant(name: str):
    raise MalformedInput("json", "not_a_number")


def load_json(data: bytes):
    """A JSON body parsed under the edge's rules. Raises MalformedInput, or JSONDecodeError /
    UnicodeDecodeError for a body that is simply not JSON (400 BAD_REQUEST, as always)."""
    text = data.decode("utf-8")
    try:
        document = json.loads(text, parse_int=_parse_int, parse_constant=_refuse_constant)
    except RecursionError:
        raise MalformedInput("json", "too_deep") from None
    check_json(document)
    return document


class GuardedFlaskParser(FlaskParser):
    """webargs' Flask parser (flask-smorest's `blp.arguments`), with JSON bodies read by
    load_json. It runs inside the view, after the blueprints' own before-request hooks, so a
    blueprint's smaller body limit (Apple's web service) still applies."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        return load_json(req.get_data(cache=True))


def check_json(document) -> None:
    """Walk a parsed document without recursion: depth, strings and integers."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _refuse_forbidden(value, "json")
        elif isinstance(value, bool) or value is None or isinstance(value, float):
            continue
        elif isinstance(value, int):
            if abs(value) > MAX_JSON_INTEGER:
                raise MalformedInput("json", "number_too_large")
        elif depth > MAX_JSON_DEPTH:
            raise MalformedInput("json", "too_deep")
        elif isinstance(value, dict):
            for key, item in value.items():
                _refuse_forbidden(key, "json")
                pending.append((item, depth + 1))
        else:  # list
            pending.extend((item, depth + 1) for item in value)


def check_request() -> None:
    """The before-request hook: refuse what no view may receive. Raises MalformedInput."""
    _refuse_forbidden(request.path, "path")
    for value in (request.view_args or {}).values():
        if isinstance(value, str):
            _refuse_forbidden(value, "path")
    for name, value in request.headers.items():
        if "\x00" in value:
            raise MalformedInput("headers", "nul_byte", name=name)
    for key, value in request.args.items(multi=True):
        _refuse_forbidden(key + value, "query")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            _refuse_forbidden(key + value, "form")
    # JSON bodies are read by the API's parser (GuardedFlaskParser): no screen takes JSON.


def register_input_guard(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter
    # Runs before every blueprint's own hooks (they are registered later, on the blueprints).
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
