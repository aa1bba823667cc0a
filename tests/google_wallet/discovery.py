"""Validate Wallet API payloads against Google's own published schemas.

The walletobjects v1 discovery document ships with google-api-python-client (a dev dependency);
this reads the copy installed in the virtualenv, so a payload is checked against exactly what
Google publishes. Like Google, it refuses unknown field names; it also checks types, int32
ranges, enum values (deprecated lower-case aliases refused) and the fields Google's descriptions
call "Required." on the top-level resource. JSON null is accepted anywhere: it clears a field.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import googleapiclient

DOCUMENT_PATH = (
    Path(googleapiclient.__file__).parent
    / "discovery_cache"
    / "documents"
    / "walletobjects.v1.json"
)
INT32 = (-(2**31), 2**31 - 1)


class PayloadInvalid(AssertionError):
    def __init__(self, schema: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"{schema}: " + "; ".join(problems))


@functools.cache
def document() -> dict[str, Any]:
    return json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))


def schema(name: str) -> dict[str, Any]:
    return document()["schemas"][name]


def required_fields(name: str) -> list[str]:
    """The properties whose description starts with "Required." (the document's own marker)."""
    return sorted(
        key
        for key, prop in schema(name).get("properties", {}).items()
        if prop.get("description", "").startswith("Required.")
    )


def problems(name: str, value: Any, *, partial: bool = False) -> list[str]:
    """What is wrong with `value` as a `name` resource; `partial` for a patch or a reference
    (then the required fields may be missing)."""
    found: list[str] = []
    if not partial and isinstance(value, dict):
        found += [f"{name}.{key}: required" for key in required_fields(name) if value.get(key)
                  in (None, "")]
    _check({"$ref": name}, value, name, found)
    return found


def validate(name: str, value: Any, *, partial: bool = False) -> None:
    found = problems(name, value, partial=partial)
    if found:
        raise PayloadInvalid(name, found)


def _check(spec: dict[str, Any], value: Any, path: str, found: list[str]) -> None:
    if value is None:
        return
    if "$ref" in spec:
        spec = schema(spec["$ref"])
    kind = spec.get("type")
    if kind == "object" or "properties" in spec:
        if not isinstance(value, dict):
            found.append(f"{path}: expected an object")
            return
        properties = spec.get("properties", {})
        extra = spec.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                _check(properties[key], item, f"{path}.{key}", found)
            elif extra:
                _check(extra, item, f"{path}.{key}", found)
            else:
                found.append(f'Unknown name "{key}" at \'{path}\': Cannot find field.')
    elif kind == "array":
        if not isinstance(value, list):
            found.append(f"{path}: expected an array")
            return
        for index, item in enumerate(value):
            _check(spec.get("items", {}), item, f"{path}[{index}]", found)
    elif kind == "string":
        _check_string(spec, value, path, found)
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            found.append(f"{path}: expected an integer")
        elif spec.get("format") == "int32" and not INT32[0] <= value <= INT32[1]:
            found.append(f"{path}: {value} is outside int32")
    elif kind == "number":
        if not isinstance(value, int | float) or isinstance(value, bool):
            found.append(f"{path}: expected a number")
    elif kind == "boolean" and not isinstance(value, bool):
        found.append(f"{path}: expected true or false")


def _check_string(spec: dict[str, Any], value: Any, path: str, found: list[str]) -> None:
    if spec.get("format") in ("int64", "uint64"):
        # JSON carries 64-bit integers as strings; Google also takes a plain number.
        if isinstance(value, int) and not isinstance(value, bool):
            return
        if not (isinstance(value, str) and value.lstrip("-").isdigit()):
            found.append(f"{path}: expected a 64-bit integer")
        return
    if not isinstance(value, str):
        found.append(f"{path}: expected a string")
        return
    if "enum" in spec:
        allowed = [
            option
            for option, deprecated in zip(
                spec["enum"], spec.get("enumDeprecated", [False] * len(spec["enum"])), strict=True
            )
            if not deprecated
        ]
        if value not in allowed:
            found.append(f"{path}: {value!r} is not one of {', '.join(allowed)}")
