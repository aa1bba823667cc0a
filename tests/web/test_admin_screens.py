"""The admin overview: every program with its totals in a fixed number of queries, platform
totals and charts, a drill-down; only for the platform admin."""

import pytest
from sqlalchemy import event

from loyalty_portal.extensions import db as _db
from loyalty_portal.models import Role
from tests.factories import make_card, make_program, make_user
from tests.web.owner_helpers import get, make_owner_shop
from tests.web.screen_helpers import LANGUAGES, sign_in, translated


@pytest.fixture
def shops(db, frozen_time):
    return (make_owner_shop("stamps", name="Coffee card"),
            make_owner_shop("points", name="Bread points"))


@pytest.fixture
def admin(client, shops):
    sign_in(client, make_user(Role.ADMIN))
    return client


@pytest.mark.parametrize("language", LANGUAGES)
def test_overview_in_each_language(app, admin, shops, language):
    response = get(admin, "/admin/", language)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f'<html lang="{language}">' in page
    assert translated(language, "Platform overview") in page
    assert "Coffee card" in page and "Bread points" in page
    assert page.count('role="img"') == 3


@pytest.mark.parametrize("language", LANGUAGES)
def test_programs_fragment_in_each_language(app, admin, shops, language):
    response = get(admin, "/admin/?q=bread&sort=-total_cards", language, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert "Bread points" in body and "Coffee card" not in body
    assert translated(language, "Rewards given") in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_drill_down_in_each_language(app, admin, shops, language):
    response = get(admin, f"/admin/programs/{shops[0].program.id}", language)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Coffee card" in page and translated(language, "Stamps issued") in page


def test_overview_counts_each_programs_cards_and_stamps(admin, shops):
    body = get(admin, "/admin/?q=coffee", htmx=True).get_data(as_text=True)
    row = body.split("Coffee card")[1]
    assert ">1</td>" in row and "1 stamp" in row


def test_unknown_program_is_not_found(admin, shops):
    assert get(admin, "/admin/programs/999").status_code == 404


def test_overview_takes_the_same_queries_for_more_programs(app, admin, shops, db):
    def count_queries():
        statements = []
        engine = _db.engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert get(admin, "/admin/").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    before = count_queries()
    for _ in range(5):
        program = make_program()
        make_card(program)
        make_card(program)
    assert count_queries() == before


def test_owners_and_staff_are_refused(client, shops):
    for user in (shops[0].owner, shops[0].staff):
        sign_in(client, user)
        assert get(client, "/admin/").status_code == 403
        assert get(client, f"/admin/programs/{shops[0].program.id}").status_code == 403


def test_nobody_signed_in_goes_to_the_login_page(client, shops):
    response = get(client, "/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
