"""Every string a person reads is translated: the catalogues are compared with what Babel extracts
from templates/ and loyalty_portal/ right now, so a new string without a translation fails here."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ("fr", "de", "lb")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _extracted() -> dict:
    """msgid (or (singular, plural)) -> where it was found."""
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = {}
    # babel.cfg selects loyalty_portal/**.py and templates/**.html, as `make translations` does.
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map=method_map, options_map=options_map, keywords=KEYWORDS,
    ):
        if isinstance(message, tuple):
            message = tuple(part for part in message if part)
            message = message[0] if len(message) == 1 else message
        found[message] = f"{filename}:{lineno}"
    return found


@pytest.fixture(scope="module")
def extracted():
    messages = _extracted()
    assert len(messages) > 100  # the extraction itself works
    return messages


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_has_a_translation(extracted, locale):
    with open(ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po, locale=locale)
    missing = []
    for message_id, where in extracted.items():
        message = catalog.get(message_id[0] if isinstance(message_id, tuple) else message_id)
        strings = message.string if message is not None else None
        if isinstance(strings, str):
            strings = (strings,)
        if message is None or message.fuzzy or not strings or not all(strings):
            missing.append(f"{where}: {message_id!r}")
    assert not missing, (
        f"{len(missing)} strings untranslated in {locale} (run make translations):\n"
        + "\n".join(missing)
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders(locale):
    with open(ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po, locale=locale)
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            used = set(PLACEHOLDER.findall(string))
            # A singular form may leave out %(num)s ("one stamp"); nothing else may go missing.
            assert used <= expected and expected - used <= {"num"}, (message.id, string)
