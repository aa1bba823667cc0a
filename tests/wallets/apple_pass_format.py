"""Apple's documented pass format, written down as checks (Apple publishes no machine-readable
schema). Sources: Apple's "Pass" / "PassFields" / "Barcodes" / "Locations" reference pages and
"Creating the Source for a Pass" (Wallet Developer Guide). `pass_problems()` returns what breaks
the format, as sentences; an empty list means valid."""

import re

PASS_STYLES = ("boardingPass", "coupon", "eventTicket", "generic", "storeCard")
REQUIRED_KEYS = {
    "description": str,
    "formatVersion": int,
    "organizationName": str,
    "passTypeIdentifier": str,
    "serialNumber": str,
    "teamIdentifier": str,
}
# Every top-level key the reference documents (unknown keys are refused by Wallet's validator).
DOCUMENTED_KEYS = set(REQUIRED_KEYS) | set(PASS_STYLES) | {
    "appLaunchURL", "associatedStoreIdentifiers", "userInfo", "expirationDate", "voided",
    "beacons", "locations", "maxDistance", "relevantDate", "relevantDates", "barcode", "barcodes",
    "backgroundColor", "foregroundColor", "groupingIdentifier", "labelColor", "stripColor",
    "logoText", "suppressStripShine", "authenticationToken", "webServiceURL", "nfc",
    "sharingProhibited", "semantics", "preferredStyleSchemes",
}
FIELD_LISTS = ("headerFields", "primaryFields", "secondaryFields", "auxiliaryFields",
               "backFields")
FIELD_KEYS = {
    "attributedValue", "changeMessage", "dataDetectorTypes", "key", "label", "textAlignment",
    "value", "currencyCode", "dateStyle", "ignoresTimeZone", "isRelative", "timeStyle",
    "numberStyle", "row", "semantics",
}
TEXT_ALIGNMENTS = {"PKTextAlignmentLeft", "PKTextAlignmentCenter", "PKTextAlignmentRight",
                   "PKTextAlignmentNatural"}
BARCODE_FORMATS = {"PKBarcodeFormatQR", "PKBarcodeFormatPDF417", "PKBarcodeFormatAztec",
                   "PKBarcodeFormatCode128"}
RGB = re.compile(r"rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)")
# Store cards: at most one primary field, three header fields, four secondary and auxiliary
# fields together.
STORE_CARD_LIMITS = {"primaryFields": 1, "headerFields": 3}
STORE_CARD_SECONDARY_AND_AUXILIARY = 4


def pass_problems(content: dict) -> list[str]:
    problems = []
    for key, kind in REQUIRED_KEYS.items():
        if not isinstance(content.get(key), kind) or content.get(key) in ("", None):
            problems.append(f"{key} is required and must be a {kind.__name__}")
    if content.get("formatVersion") != 1:
        problems.append("formatVersion must be 1")
    problems += [f"unknown top-level key {key}" for key in set(content) - DOCUMENTED_KEYS]
    styles = [style for style in PASS_STYLES if style in content]
    if len(styles) != 1:
        problems.append(f"exactly one pass style is required, found {styles}")
    for style in styles:
        problems += _style_problems(style, content[style])
    for key in ("backgroundColor", "foregroundColor", "labelColor", "stripColor"):
        if key in content:
            match = RGB.fullmatch(content[key])
            if not match or any(int(part) > 255 for part in match.groups()):
                problems.append(f"{key} must be rgb(r, g, b), not {content[key]!r}")
    problems += _barcode_problems(content.get("barcodes"))
    if ("webServiceURL" in content) != ("authenticationToken" in content):
        problems.append("webServiceURL and authenticationToken go together")
    token = content.get("authenticationToken")
    if token is not None and (not isinstance(token, str) or len(token) < 16):
        problems.append("authenticationToken must be a string of at least 16 characters")
    url = content.get("webServiceURL")
    if url is not None and (url.endswith("/v1") or not url.startswith(("https://", "http://"))):
        problems.append("webServiceURL must be the base address, without /v1")
    locations = content.get("locations", [])
    if len(locations) > 10:
        problems.append("at most 10 locations")
    for location in locations:
        for key in ("latitude", "longitude"):
            if not isinstance(location.get(key), int | float):
                problems.append(f"a location needs a numeric {key}")
    for key in ("voided", "sharingProhibited", "suppressStripShine"):
        if key in content and not isinstance(content[key], bool):
            problems.append(f"{key} must be a boolean")
    return problems


def _style_problems(style: str, fields_by_list: dict) -> list[str]:
    problems = []
    if not isinstance(fields_by_list, dict):
        return [f"{style} must be a dictionary"]
    for name in set(fields_by_list) - set(FIELD_LISTS) - {"transitType"}:
        problems.append(f"unknown key {name} in {style}")
    keys = []
    for name in FIELD_LISTS:
        for field in fields_by_list.get(name, []):
            problems += _field_problems(name, field)
            keys.append(field.get("key"))
    duplicates = {key for key in keys if keys.count(key) > 1}
    if duplicates:
        problems.append(f"field keys must be unique, repeated: {sorted(duplicates)}")
    if style == "storeCard":
        for name, limit in STORE_CARD_LIMITS.items():
            if len(fields_by_list.get(name, [])) > limit:
                problems.append(f"a storeCard has at most {limit} {name}")
        together = len(fields_by_list.get("secondaryFields", [])) + len(
            fields_by_list.get("auxiliaryFields", [])
        )
        if together > STORE_CARD_SECONDARY_AND_AUXILIARY:
            problems.append("a storeCard has at most 4 secondary and auxiliary fields together")
    return problems


def _field_problems(list_name: str, field: dict) -> list[str]:
    problems = []
    if not isinstance(field.get("key"), str) or not field.get("key"):
        problems.append(f"a field in {list_name} has no key")
    value = field.get("value")
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        problems.append(f"field {field.get('key')} needs a string or number value")
    problems += [f"field {field.get('key')}: unknown key {key}" for key in set(field) - FIELD_KEYS]
    message = field.get("changeMessage")
    if message is not None and "%@" not in message:
        problems.append(f"field {field.get('key')}: changeMessage must contain %@")
    if "textAlignment" in field and field["textAlignment"] not in TEXT_ALIGNMENTS:
        problems.append(f"field {field.get('key')}: bad textAlignment")
    return problems


def _barcode_problems(barcodes) -> list[str]:
    if barcodes is None:
        return []
    if not isinstance(barcodes, list):
        return ["barcodes must be a list"]
    problems = []
    for barcode in barcodes:
        if barcode.get("format") not in BARCODE_FORMATS:
            problems.append(f"unknown barcode format {barcode.get('format')!r}")
        for key in ("message", "messageEncoding"):
            if not isinstance(barcode.get(key), str):
                problems.append(f"a barcode needs {key}")
        if "altText" in barcode and not isinstance(barcode["altText"], str):
            problems.append("altText must be a string")
        try:
            barcode.get("message", "").encode(barcode.get("messageEncoding", "iso-8859-1"))
        except (UnicodeEncodeError, LookupError):
            problems.append("the barcode message does not fit its messageEncoding")
    return problems


STRINGS_LINE = re.compile(r'"((?:[^"\\]|\\.)*)"\s*=\s*"((?:[^"\\]|\\.)*)";')


def parse_pass_strings(data: bytes) -> dict[str, str]:
    """A pass.strings file (UTF-16 with a byte order mark, `"key" = "value";` per line)."""
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff"), "pass.strings must be UTF-16 with a BOM"
    entries = {}
    for line in data.decode("utf-16").splitlines():
        if not line.strip():
            continue
        match = STRINGS_LINE.fullmatch(line.strip())
        assert match, f"not a strings line: {line!r}"
        entries[match.group(1).replace('\\"', '"')] = match.group(2).replace('\\"', '"')
    return entries
