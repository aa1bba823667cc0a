"""The enrolment poster: the program's colours, logo and texts with the join link as a QR code,
in each language the owner picks.

One set of words per language (poster_pages) feeds both the printable page and the drawn
downloads: a PNG (the languages side by side) and a PDF (one A4 page per language), drawn with
Pillow and the DejaVu Sans font shipped in static/vendor/dejavu (Pillow's own font has no
accents). Each language's QR code opens the join page in that language (`?lang=fr`).

Like the Apple pass, a logo is drawn when its address is a file of the app (/static/...); a
remote logo is not fetched while drawing (the printable page shows it, the browser fetches it).
"""

import io
import os
from dataclasses import dataclass

import segno
from babel.numbers import get_currency_symbol
from flask import current_app
from flask_babel import force_locale, gettext, ngettext
from PIL import Image, ImageDraw, ImageFont
from werkzeug.security import safe_join

from ..i18n import SUPPORTED_LOCALES
from ..models import LoyaltyProgram
from . import program_texts

# A4 at 150 dots per inch.
PAGE_SIZE = (1240, 1754)
MARGIN = 90
QR_SIZE = 640
LOGO_BOX = (360, 200)
PDF_RESOLUTION = 150.0


@dataclass(frozen=True)
class PosterPage:
    """What one language's poster says."""

    locale: str
    vendor_name: str
    title: str
    text: str
    promise: str
    reward: str
    rewards: list[str]
    call_to_action: str
    join_url: str
    qr_description: str


def chosen_locales(values: list[str] | None, default: str) -> list[str]:
    """The offered languages among `values`, in the order of the language menu; the vendor's
    language when none is picked."""
    picked = set(values or ())
    return [locale for locale in SUPPORTED_LOCALES if locale in picked] or [default]


def join_url(program: LoyaltyProgram, locale: str) -> str:
    """The join page in `locale`, on the address customers reach (PUBLIC_BASE_URL)."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/join/{program.vendor.slug}?lang={locale}"


def poster_pages(program: LoyaltyProgram, locales: list[str]) -> list[PosterPage]:
    """The poster's words in each of `locales` (program texts fall back to the vendor's
    language, see program_texts)."""
    pages = []
    for locale in locales:
        texts = program_texts.localized(program, locale)
        url = join_url(program, locale)
        with force_locale(locale):
            if program.is_stamps:
                promise = ngettext("Collect %(num)s stamp and get:",
                                   "Collect %(num)s stamps and get:", program.stamps_target)
                reward = texts.stamps_reward_description or gettext("a reward")
                rewards = []
            else:
                promise = ngettext(
                    "%(num)s point for every %(currency)s you spend.",
                    "%(num)s points for every %(currency)s you spend.",
                    program.points_per_currency_unit,
                    currency=get_currency_symbol(program.vendor.currency, locale),
                )
                reward = ""
                rewards = [
                    f"{item['name']} — "
                    + ngettext("%(num)s point", "%(num)s points", item["points_cost"])
                    for item in texts.active_rewards()
                ]
            pages.append(PosterPage(
                locale=locale, vendor_name=program.vendor.name, title=texts.name,
                text=texts.poster_text, promise=promise, reward=reward, rewards=rewards,
                call_to_action=gettext("Scan to join — free, no app needed."), join_url=url,
                qr_description=gettext("QR code to join: %(url)s", url=url),
            ))
    return pages


def qr_svg(url: str, title: str) -> bytes:
    """The join link as an SVG QR code (the printable page)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=10, border=2, xmldecl=False,
                                    title=title)
    return out.getvalue()


def poster_png(program: LoyaltyProgram, pages: list[PosterPage]) -> bytes:
    """The posters side by side in one PNG, each an A4 page at 150 dpi."""
    drawn = [_draw(program, page) for page in pages]
    sheet = Image.new("RGB", (PAGE_SIZE[0] * len(drawn), PAGE_SIZE[1]), "white")
    for index, image in enumerate(drawn):
        sheet.paste(image, (index * PAGE_SIZE[0], 0))
    out = io.BytesIO()
    sheet.save(out, format="PNG", optimize=True)
    return out.getvalue()


def poster_pdf(program: LoyaltyProgram, pages: list[PosterPage]) -> bytes:
    """One A4 page per language (Pillow's PDF writer: each page one image at 150 dpi)."""
    drawn = [_draw(program, page) for page in pages]
    out = io.BytesIO()
    drawn[0].save(out, format="PDF", save_all=True, append_images=drawn[1:],
                  resolution=PDF_RESOLUTION, title=program.name, author=program.vendor.name)
    return out.getvalue()


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    path = os.path.join(current_app.static_folder, "vendor", "dejavu", name)
    return ImageFont.truetype(path, size)


def _draw(program: LoyaltyProgram, page: PosterPage) -> Image.Image:
    background, foreground = program.card_background_color, program.card_text_color
    image = Image.new("RGB", PAGE_SIZE, background)
    draw = ImageDraw.Draw(image)
    width = PAGE_SIZE[0] - 2 * MARGIN
    y = MARGIN

    logo = _logo(program)
    if logo is not None:
        image.paste(logo, ((PAGE_SIZE[0] - logo.width) // 2, y), logo)
        y += logo.height + 30

    def lines(text: str, font, gap: int = 14) -> None:
        nonlocal y
        for line in _wrapped(draw, text, font, width):
            line_width = draw.textlength(line, font=font)
            draw.text(((PAGE_SIZE[0] - line_width) / 2, y), line, font=font, fill=foreground)
            y += font.size + gap

    lines(page.vendor_name, _font(40))
    y += 10
    lines(page.title, _font(84, bold=True))
    if page.text:
        y += 10
        lines(page.text, _font(40))
    y += 20
    lines(page.promise, _font(48, bold=True))
    if page.reward:
        lines(page.reward, _font(56, bold=True))
    for reward in page.rewards[:6]:
        lines(reward, _font(36), gap=8)

    # The code, dark on white with its quiet zone, whatever the program's colours.
    qr = _qr_image(page.join_url)
    bottom_text = 2 * (48 + 14) + 40
    qr_top = max(y + 30, PAGE_SIZE[1] - MARGIN - bottom_text - qr.height - 30)
    image.paste(qr, ((PAGE_SIZE[0] - qr.width) // 2, qr_top))
    y = qr_top + qr.height + 30
    lines(page.call_to_action, _font(48, bold=True))
    lines(page.join_url, _font(30))
    return image


def _qr_image(url: str) -> Image.Image:
    qr = segno.make(url, error="m")
    modules = qr.symbol_size(border=4)[0]
    out = io.BytesIO()
    qr.save(out, kind="png", scale=max(1, QR_SIZE // modules), border=4, dark="black",
            light="white")
    out.seek(0)
    return Image.open(out).convert("RGB")


def _wrapped(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    lines, current = [], ""
    for word in (text or "").split():
        candidate = f"{current} {word}".strip()
        if current and draw.textlength(candidate, font=font) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _logo(program: LoyaltyProgram) -> Image.Image | None:
    """The logo scaled into LOGO_BOX, when it is a readable image file of the app."""
    logo_url = program.logo_url or ""
    if not logo_url.startswith("/static/"):
        return None
    path = safe_join(current_app.static_folder, logo_url[len("/static/"):].split("?")[0])
    if path is None or not os.path.isfile(path):
        return None
    try:
        with Image.open(path) as source:
            logo = source.convert("RGBA")
    except OSError:
        return None
    logo.thumbnail(LOGO_BOX)
    return logo
