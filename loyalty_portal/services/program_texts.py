"""A program's texts in the customer's language: name, description, the stamp reward, the poster's
line and the rewards' names, per language (en, fr, de, lb).

A text missing in the asked language falls back to the vendor's language, then to the program's
own columns (what the owner typed on the settings page). `localized(program, locale)` gives the
program as a customer in `locale` sees it: the join page, the card page and the poster use it, and
so can wallet passes.
"""

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from ..errors import ValidationError
from ..extensions import db
from ..i18n import SUPPORTED_LOCALES
from ..models import LoyaltyProgram
from . import program_service

# Each text with its longest length (the columns' own limits).
TEXT_FIELDS = {"name": 120, "description": 2000, "stamps_reward_description": 200,
               "poster_text": 200}


def _text(program: LoyaltyProgram, locale: str, field: str) -> str:
    translations = program.translations or {}
    for language in (locale, program.vendor.default_locale):
        value = (translations.get(language) or {}).get(field)
        if value:
            return value
    return getattr(program, field, "") or ""


def _reward_name(program: LoyaltyProgram, locale: str, reward: dict[str, Any]) -> str:
    translations = program.translations or {}
    for language in (locale, program.vendor.default_locale):
        value = ((translations.get(language) or {}).get("rewards") or {}).get(reward["id"])
        if value:
            return value
    return reward["name"]


@dataclass(frozen=True)
class LocalizedProgram:
    """The program with its texts in one language; everything else is the program's own."""

    program: LoyaltyProgram
    locale: str

    def __getattr__(self, name: str):
        return getattr(self.program, name)

    @property
    def name(self) -> str:
        return _text(self.program, self.locale, "name")

    @property
    def description(self) -> str:
        return _text(self.program, self.locale, "description")

    @property
    def stamps_reward_description(self) -> str:
        return _text(self.program, self.locale, "stamps_reward_description")

    @property
    def poster_text(self) -> str:
        return _text(self.program, self.locale, "poster_text")

    def active_rewards(self) -> list[dict[str, Any]]:
        return [{**reward, "name": _reward_name(self.program, self.locale, reward)}
                for reward in self.program.active_rewards()]

    def find_reward(self, reward_id: str) -> dict[str, Any] | None:
        return next((r for r in self.active_rewards() if r["id"] == reward_id), None)


def localized(program: LoyaltyProgram, locale: str | None) -> LocalizedProgram:
    return LocalizedProgram(program, locale if locale in SUPPORTED_LOCALES else
                            program.vendor.default_locale)


def update_texts(vendor_id: int, texts: dict[str, dict[str, Any]]) -> LoyaltyProgram:
    """Replace the program's texts per language: `{locale: {field: text, "rewards": {id: name}}}`
    for the languages given (others keep theirs). Empty texts are dropped (they fall back).
    Raises LoyaltyProgramNotFound, ValidationError (field `<locale>.<field>`)."""
    program = program_service.get_program(vendor_id)
    known_rewards = {reward["id"] for reward in program.points_rewards or []}
    translations = dict(program.translations or {})
    for locale, values in texts.items():
        if locale not in SUPPORTED_LOCALES or not isinstance(values, dict):
            raise ValidationError(_l("Choose one of the offered languages."), field=locale)
        clean: dict[str, Any] = {}
        for field, value in values.items():
            if field == "rewards":
                names = {}
                for reward_id, name in (value or {}).items():
                    name = (name or "").strip()
                    if reward_id not in known_rewards or len(name) > 200:
                        raise ValidationError(_l("Each reward needs a name."),
                                              field=f"{locale}.rewards.{reward_id}")
                    if name:
                        names[reward_id] = name
                if names:
                    clean["rewards"] = names
                continue
            if field not in TEXT_FIELDS:
                raise ValidationError(_l("Unknown setting."), field=f"{locale}.{field}")
            value = (value or "").strip()
            if len(value) > TEXT_FIELDS[field]:
                raise ValidationError(
                    _l("Must be %(low)s to %(high)s characters.", low=0, high=TEXT_FIELDS[field]),
                    field=f"{locale}.{field}")
            if value:
                clean[field] = value
        if clean:
            translations[locale] = clean
        else:
            translations.pop(locale, None)
    program.translations = translations
    db.session.commit()
    return program
