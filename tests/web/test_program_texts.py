"""Program texts per language: the owner writes them once per language; the join page, the card
page and the poster show the customer's language, falling back to the shop's language and then to
the program's own texts."""

import pytest

from loyalty_portal.errors import ValidationError
from loyalty_portal.models import Role
from loyalty_portal.services import program_texts
from tests.factories import make_card, make_program, make_user, make_vendor
from tests.web.screen_helpers import LANGUAGES, choose_language, sign_in, text, translated

FRENCH = {"fr.name": "Carte café", "fr.description": "Le 11e café est offert",
          "fr.stamps_reward_description": "Un café offert", "fr.poster_text": "Bienvenue !"}


@pytest.fixture
def program(db, frozen_time):
    vendor = make_vendor("cafe", name="Café", default_locale="de")
    return make_program(vendor, name="Coffee card", stamps_reward_description="A free coffee",
                        description="The 11th coffee is free")


@pytest.fixture
def owner(client, program):
    sign_in(client, make_user(Role.OWNER, program.vendor))
    return client


@pytest.mark.parametrize("locale", LANGUAGES)
def test_the_owner_saves_texts_per_language(owner, program, locale):
    choose_language(owner, locale)
    page = text(owner.get("/vendor/program/texts"))
    assert translated(locale, "Texts in each language") in page
    assert 'lang="lb"' in page

    response = owner.post("/vendor/program/texts", data=FRENCH | {"de.name": "Kaffeekarte"})
    assert response.status_code == 303
    assert program.translations == {
        "fr": {"name": "Carte café", "description": "Le 11e café est offert",
               "stamps_reward_description": "Un café offert", "poster_text": "Bienvenue !"},
        "de": {"name": "Kaffeekarte"},
    }
    assert translated(locale, "The texts are saved.") in text(owner.get("/vendor/program/texts"))


def test_a_too_long_text_is_refused_with_a_link_to_the_field(owner, program):
    response = owner.post("/vendor/program/texts", data={"fr.name": "x" * 121})
    assert response.status_code == 422
    body = text(response)
    assert 'href="#fr-name"' in body and 'id="fr-name"' in body
    assert 'aria-invalid="true"' in body
    assert program.translations is None


def test_texts_fall_back_to_the_shops_language_then_to_the_program(program):
    program_texts.update_texts(program.vendor_id, {"de": {"name": "Kaffeekarte"},
                                                   "fr": {"description": "Le 11e est offert"}})
    french = program_texts.localized(program, "fr")
    assert (french.name, french.description) == ("Kaffeekarte", "Le 11e est offert")
    assert french.stamps_reward_description == "A free coffee"
    assert program_texts.localized(program, "xx").name == "Kaffeekarte"
    assert french.stamps_target == program.stamps_target  # the rest is the program's own


def test_reward_names_per_language(db, frozen_time):
    program = make_program(make_vendor(), "points")
    program_texts.update_texts(program.vendor_id, {"lb": {"rewards": {"coffee": "Kaffi"}}})
    names = [r["name"] for r in program_texts.localized(program, "lb").active_rewards()]
    assert names == ["Kaffi", "Cake"]
    with pytest.raises(ValidationError):
        program_texts.update_texts(program.vendor_id, {"lb": {"rewards": {"nope": "X"}}})
    with pytest.raises(ValidationError):
        program_texts.update_texts(program.vendor_id, {"pt": {"name": "X"}})


def test_join_card_and_poster_speak_the_customers_language(owner, client, program):
    owner.post("/vendor/program/texts", data=FRENCH)
    card = make_card(program)
    poster = text(owner.get("/vendor/poster?lang=fr"))
    assert "Carte café" in poster and "Bienvenue !" in poster and "Un café offert" in poster
    assert "Coffee card" not in text(owner.get("/vendor/poster?lang=fr")).split("<main", 1)[1]

    visitor = client.application.test_client()
    choose_language(visitor, "fr")
    assert "Carte café" in text(visitor.get("/join/cafe"))
    assert "Le 11e café est offert" in text(visitor.get("/join/cafe"))
    assert "Carte café" in text(visitor.get(f"/card/{card.public_token}"))
    choose_language(visitor, "en")
    assert "Coffee card" in text(visitor.get(f"/card/{card.public_token}"))
