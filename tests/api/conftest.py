"""Fixtures for the API tests: shops, clients signed in with each role, apps with other settings."""

import pytest
from hypothesis import settings

from loyalty_portal.models import Role
from tests.api.helpers import Shop, make_shop, sign_in
from tests.factories import make_user


def pytest_configure(config):
    """Schemathesis examples per operation (test_openapi_fuzz.py): the SQLite pass explores the
    document; the PostgreSQL pass, whose requests are slower, runs fewer to find what only
    PostgreSQL refuses."""
    settings.register_profile("fuzz-sqlite", max_examples=60)
    settings.register_profile("fuzz-postgres", max_examples=20)
    settings.load_profile(f"fuzz-{config.getoption('--db')}")


@pytest.fixture
def shop(db, frozen_time) -> Shop:
    """A stamp program (PIN required, 3 stamps for the reward) with one card."""
    return make_shop("stamps", stamps_target=3)


@pytest.fixture
def points_shop(db, frozen_time) -> Shop:
    """A points program: 1 point per euro, coffee 10 points, cake 50 points."""
    return make_shop("points", points_per_currency_unit=1)


@pytest.fixture
def owner_client(client, shop):
    sign_in(client, shop.owner)
    return client


@pytest.fixture
def staff_client(client, shop):
    sign_in(client, shop.staff)
    return client


@pytest.fixture
def admin_client(client, db):
    sign_in(client, make_user(Role.ADMIN))
    return client


