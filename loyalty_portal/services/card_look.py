"""The setup screen's live preview: how a program's card looks with unsaved settings, and
whether its text is readable on its background."""

import contextlib
from dataclasses import dataclass
from typing import Any

from ..errors import ValidationError
from ..models import ProgramType
from .apple_pass_images import initials
from .program_service import _validated, get_program

_LOOK_SETTINGS = (
    "program_type",
    "name",
    "stamps_target",
    "stamps_reward_description",
    "points_per_currency_unit",
    "card_background_color",
    "card_text_color",
    "logo_url",
)
MIN_TEXT_CONTRAST = 4.5  # WCAG AA for normal text


@dataclass(frozen=True)
class CardLook:
    """How a program's card would look with some unsaved settings (the setup screen's preview)."""

    vendor_name: str
    program_type: ProgramType
    name: str
    stamps_target: int
    stamps_reward_description: str
    points_per_currency_unit: int
    card_background_color: str
    card_text_color: str
    logo_url: str | None
    contrast_ratio: float

    @property
    def is_stamps(self) -> bool:
        return self.program_type == ProgramType.STAMPS

    @property
    def readable(self) -> bool:
        return self.contrast_ratio >= MIN_TEXT_CONTRAST

    @property
    def initials(self) -> str:
        """What the Apple pass's drawn logo and icon show."""
        return initials(self.vendor_name)


def _relative_luminance(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two #RRGGBB colours, from 1 to 21."""
    lighter, darker = sorted(
        (_relative_luminance(foreground), _relative_luminance(background)), reverse=True
    )
    return round((lighter + 0.05) / (darker + 0.05), 2)


def preview_card_look(vendor_id: int, **changes: Any) -> CardLook:
    """The vendor's card look with `changes` applied where they are valid; an invalid value
    (a half-typed colour) keeps the saved one. Nothing is saved. Raises LoyaltyProgramNotFound."""
    program = get_program(vendor_id)
    look = {key: getattr(program, key) for key in _LOOK_SETTINGS}
    for key, value in changes.items():
        if key not in _LOOK_SETTINGS:
            continue
        with contextlib.suppress(ValidationError):
            look.update(_validated({key: value}))
    return CardLook(
        vendor_name=program.vendor.name,
        contrast_ratio=contrast_ratio(look["card_text_color"], look["card_background_color"]),
        **look,
    )
