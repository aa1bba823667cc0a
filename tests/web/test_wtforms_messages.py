"""WTForms' own messages are shown in every language, Luxembourgish included (WTForms ships no
Luxembourgish catalogue; ours fills in)."""

import pytest

from tests.web.screen_helpers import LANGUAGES, choose_language, text

REQUIRED = {"en": "This field is required.", "fr": "Ce champ est requis.",
            "de": "Dieses Feld wird benötigt.", "lb": "Dëst Feld muss ausgefëllt ginn."}


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_missing_field_is_explained_in_the_language_of_the_page(client, db, locale):
    choose_language(client, locale)
    response = client.post("/password/forgot", data={"email": ""})
    assert response.status_code == 422
    assert REQUIRED[locale] in text(response)


def test_luxembourgish_plurals_of_wtforms(client, db):
    choose_language(client, "lb")
    response = client.post("/password/forgot", data={"email": "x" * 300})
    assert "D'Feld kann net méi laang wéi 254 Zeeche sinn." in text(response)
