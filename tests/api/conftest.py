"""Fixtures for the API tests: shops, clients signed in with each role, apps with other settings."""

import pytest

from loyalty_portal.models import Role
from tests.api.helpers import Shop, make_shop, sign_in
from tests.factories import make_user


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


