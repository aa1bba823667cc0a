from datetime import UTC, datetime, timedelta

import pytest

from loyalty_portal import clock as app_clock
from loyalty_portal.services.ledger import Actor
from tests.factories import make_card, make_pin, make_program, make_vendor


class Clock:
    """Moves the application's clock by hand."""

    def __init__(self, start: datetime):
        self.now = start
        app_clock.freeze(start)

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        app_clock.freeze(moment)
        return moment

    def advance(self, **delta) -> datetime:
        return self.set(self.now + timedelta(**delta))


@pytest.fixture
def clock():
    controller = Clock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    yield controller
    app_clock.freeze(None)


@pytest.fixture
def vendor(db):
    return make_vendor(timezone="Europe/Luxembourg")


@pytest.fixture
def staff(vendor):
    return make_pin(vendor, "Anna", "4827")


@pytest.fixture
def actor(staff):
    return Actor(staff_pin_id=staff.id, pin="4827", client_ip="127.0.0.1", user_agent="pytest")


@pytest.fixture
def stamp_program(vendor):
    return make_program(vendor, "stamps", stamps_target=3)


@pytest.fixture
def points_program(db):
    return make_program(make_vendor(), "points", points_per_currency_unit=2)


@pytest.fixture
def card(stamp_program, clock):
    return make_card(stamp_program)
