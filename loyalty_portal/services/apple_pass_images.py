"""The pass's icon and logo: the vendor's logo when it is a file of the app (a logo address
under /static/), otherwise drawn with Pillow from the program's colours and initials.

Apple's sizes (points; @2x and @3x double and triple them): the icon is 29 x 29 and shows in
notifications and the lock screen; the logo may be up to 160 x 50 at the top left of the pass.
Images are cached: every pass of a program has the same ones.
"""

from functools import lru_cache
from io import BytesIO

from PIL import Image, ImageDraw, ImageFont

ICON_SIZE = 29
LOGO_SIZE = 50  # drawn square, within Apple's 160 x 50
SCALES = (1, 2, 3)


def initials(name: str) -> str:
    """Up to two letters or digits from the first words of `name` ("Café Lumière" -> "CL")."""
    letters = [word[0] for word in name.split() if word and word[0].isalnum()]
    return "".join(letters[:2]).upper() or "★"


@lru_cache(maxsize=256)
def pass_images(background: str, foreground: str, text: str) -> dict[str, bytes]:
    """icon.png, logo.png and their @2x/@3x variants as PNG bytes."""
    images = {}
    for scale in SCALES:
        suffix = "" if scale == 1 else f"@{scale}x"
        images[f"icon{suffix}.png"] = _png(_icon(ICON_SIZE * scale, background, foreground, text))
        images[f"logo{suffix}.png"] = _png(_logo(LOGO_SIZE * scale, foreground, text))
    return images


@lru_cache(maxsize=64)
def logo_file_images(path: str, modified_ns: int, background: str) -> dict[str, bytes]:
    """icon.png and logo.png at 1x/2x/3x from an image file: the logo fitted into 160 x 50, the
    icon fitted into a square of the card colour. Raises OSError for an unreadable image.
    (`modified_ns` is only the cache key: a replaced file is read again.)"""
    with Image.open(path) as source:
        source.load()
        logo = source.convert("RGBA")
    images = {}
    for scale in SCALES:
        suffix = "" if scale == 1 else f"@{scale}x"
        images[f"logo{suffix}.png"] = _png(_fit(logo, 160 * scale, 50 * scale))
        size = ICON_SIZE * scale
        icon = Image.new("RGBA", (size, size), background)
        inner = _fit(logo, int(size * 0.8), int(size * 0.8))
        icon.alpha_composite(inner, ((size - inner.width) // 2, (size - inner.height) // 2))
        images[f"icon{suffix}.png"] = _png(icon.convert("RGB"))
    return images


def _fit(image: Image.Image, width: int, height: int) -> Image.Image:
    """Scaled (up or down) to fill the box in one dimension, keeping its proportions."""
    ratio = min(width / image.width, height / image.height)
    size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _icon(size: int, background: str, foreground: str, text: str) -> Image.Image:
    """A full square in the card colour (iOS rounds the corners itself) with the initials."""
    image = Image.new("RGB", (size, size), background)
    _centred_text(ImageDraw.Draw(image), size, text, foreground, 0.42)
    return image


def _logo(size: int, foreground: str, text: str) -> Image.Image:
    """A ring with the initials on a transparent ground: it sits on the pass's own colour."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    width = max(1, size // 20)
    draw.ellipse((width, width, size - width - 1, size - width - 1), outline=foreground,
                 width=width)
    _centred_text(draw, size, text, foreground, 0.38)
    return image


def _centred_text(draw: ImageDraw.ImageDraw, size: int, text: str, colour: str, ratio: float):
    font = ImageFont.load_default(size=max(8, int(size * ratio)))
    draw.text((size / 2, size / 2), text, fill=colour, font=font, anchor="mm")


def _png(image: Image.Image) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
