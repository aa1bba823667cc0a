"""The enrolment poster: the program's colours and logo, the join link as a QR code (read back
with zxing-cpp from the drawn PNG), in the languages the owner ticks; printable, and downloadable
as a PDF (one A4 page per language) or a PNG."""

import io
import re

import pytest
import zxingcpp
from PIL import Image

from loyalty_portal.services import poster_service, program_service, program_texts
from tests.web.owner_helpers import make_owner_shop
from tests.web.screen_helpers import LANGUAGES, sign_in, text, translated

GOLD, BLACK = "#FFD700", "#000000"


@pytest.fixture
def shop(db, frozen_time):
    shop = make_owner_shop("stamps", stamps_target=8, name="Coffee card",
                           stamps_reward_description="A free coffee",
                           card_background_color=GOLD, card_text_color=BLACK)
    program_texts.update_texts(shop.vendor.id, {
        "fr": {"name": "Carte café", "poster_text": "Bienvenue !"},
        "lb": {"name": "Kaffiskaart"},
    })
    return shop


@pytest.fixture
def owner(client, shop):
    sign_in(client, shop.owner)
    return client


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_poster_page_shows_one_poster_per_ticked_language(owner, shop, language):
    page = text(owner.get(f"/vendor/poster?languages=de&languages={language}",
                          headers={"Accept-Language": "en"}))
    shown = re.findall(r'<article class="poster poster--\d+" lang="(\w+)"', page)
    assert shown == [code for code in LANGUAGES if code in {"de", language}]
    # Each poster speaks its own language, whatever the page's language.
    assert translated(language, "Scan to join — free, no app needed.") in page
    assert translated("de", "Scan to join — free, no app needed.") in page
    assert f"/vendor/poster/qr.svg?language={language}" in page
    assert f"/join/{shop.vendor.slug}?lang={language}" in page
    for code in LANGUAGES:  # every language can be ticked
        assert f'name="languages" id="poster-language-{code}" value="{code}"' in page
    assert page.count(" checked>") == len(shown)


def test_without_a_choice_the_poster_is_in_the_language_of_the_page(owner, shop):
    page = text(owner.get("/vendor/poster", headers={"Accept-Language": "fr"}))
    assert re.findall(r'<article class="poster poster--\d+" lang="(\w+)"', page) == ["fr"]
    assert "Carte café" in page and "Bienvenue !" in page


def test_program_texts_fall_back_to_the_shops_language(owner, shop):
    page = text(owner.get("/vendor/poster?languages=lb&languages=de"))
    assert "Kaffiskaart" in page  # Luxembourgish text of its own
    assert page.count("Coffee card") == 1  # German falls back to the program's own name


def test_the_poster_carries_the_programs_colours_and_logo(owner, shop, client):
    program_service.update_program(shop.vendor.id, logo_url="/static/img/wallet-logo.png")
    page = text(owner.get("/vendor/poster"))
    assert f'href="/theme/{shop.program.id}.css"' in page
    assert '<img class="poster__logo" src="/static/img/wallet-logo.png"' in page
    theme = client.get(f"/theme/{shop.program.id}.css").get_data(as_text=True)
    assert f".poster--{shop.program.id}" in theme and GOLD in theme and BLACK in theme


def test_the_png_is_drawn_in_the_programs_colours_with_a_readable_qr_per_language(
    owner, shop, app
):
    app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:8123"
    program_service.update_program(shop.vendor.id, logo_url="/static/img/wallet-logo.png")
    response = owner.get("/vendor/poster.png?languages=en&languages=fr")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert f'filename="poster-{shop.vendor.slug}.png"' in response.headers["Content-Disposition"]
    image = Image.open(io.BytesIO(response.data)).convert("RGB")
    width, height = poster_service.PAGE_SIZE
    assert image.size == (2 * width, height)
    assert image.getpixel((5, 5)) == _rgb(GOLD)
    # The logo (dark blue on the gold page) at the top, in the middle.
    logo_pixel = image.getpixel((width // 2, poster_service.MARGIN + 100))
    assert logo_pixel != _rgb(GOLD)
    for index, language in enumerate(("en", "fr")):
        half = image.crop((index * width, 0, (index + 1) * width, height))
        codes = [result.text for result in zxingcpp.read_barcodes(half)]
        assert codes == [f"http://127.0.0.1:8123/join/{shop.vendor.slug}?lang={language}"]


def test_the_pdf_has_one_a4_page_per_language(owner, shop):
    response = owner.get("/vendor/poster.pdf?languages=en&languages=de&languages=lb")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", response.data)) == 3
    # A4 at 150 dpi is 595 x 842 points (1/72 inch).
    assert len(re.findall(rb"/MediaBox\s*\[\s*0 0 595\.2 841\.9\d*\s*\]", response.data)) == 3


def test_the_qr_code_on_the_page_is_the_join_link_in_its_language(owner, shop):
    response = owner.get("/vendor/poster/qr.svg?language=lb")
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert f"/join/{shop.vendor.slug}?lang=lb" in svg  # the title, for screen readers
    assert "<path" in svg


def test_unknown_languages_are_ignored(owner, shop):
    page = text(owner.get("/vendor/poster?languages=xx&languages=fr"))
    assert re.findall(r'<article class="poster poster--\d+" lang="(\w+)"', page) == ["fr"]


def test_the_poster_is_the_owners(client, shop):
    for path in ("/vendor/poster", "/vendor/poster.pdf", "/vendor/poster.png"):
        assert client.get(path).status_code == 302  # to the sign-in page
    sign_in(client, shop.staff)
    for path in ("/vendor/poster", "/vendor/poster.pdf", "/vendor/poster.png"):
        assert client.get(path).status_code == 403
