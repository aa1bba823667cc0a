"""End to end: a device registers for a pass, the cashier stamps through the API, the outbox
worker pushes through a local HTTP/2 APNs, and the device, asking what changed since its tag,
downloads the pass with the new balance."""

import json

from sqlalchemy import func, select

from loyalty_portal.models import AppleDevice, OutboxMessage
from loyalty_portal.services import outbox, program_service
from tests.api.helpers import V
from tests.core.outbox_helpers import drain
from tests.wallets.conftest import unzip
from tests.wallets.test_apple_web_service import (
    PASS_TYPE,
    PUSH_TOKEN,
    W,
    auth,
    listing,
    register,
)


def stamp_at_the_counter(client, shop):
    response = client.post(f"{V}/cards/{shop.card.id}/stamps", json=shop.pin_body(),
                           headers=shop.key_headers)
    assert response.status_code in (200, 201), response.get_json()
    return response


def balance_on_the_pass(client, card) -> str:
    response = client.get(f"{W}/passes/{PASS_TYPE}/{card.apple_serial_number}",
                          headers=auth(card))
    assert response.status_code == 200
    content = json.loads(unzip(response.data)["pass.json"])
    return content["storeCard"]["primaryFields"][0]["value"]


def test_a_stamp_reaches_the_iphone(client, app, apple_shop, apns_server, frozen_time):
    card = apple_shop.card
    assert register(client, card).status_code == 201
    drain(app)
    apns_server.received.clear()
    tag = listing(client).get_json()["lastUpdated"]
    assert listing(client, since=tag).status_code == 204

    frozen_time.advance(minutes=1)
    stamp_at_the_counter(client, apple_shop)
    assert apns_server.received == []  # the cashier's request sends nothing to Apple
    drain(app)
    [push] = apns_server.wait_for(1)
    assert push.path == f"/3/device/{PUSH_TOKEN}"
    assert push.headers["apns-topic"] == PASS_TYPE and push.body == b"{}"

    changed = listing(client, since=tag)
    assert changed.status_code == 200
    assert changed.get_json()["serialNumbers"] == [card.apple_serial_number]
    new_tag = changed.get_json()["lastUpdated"]
    assert listing(client, since=new_tag).status_code == 204
    assert balance_on_the_pass(client, card) == "1 / 10"


def test_a_burst_of_stamps_is_one_push_with_the_final_balance(client, app, apple_shop,
                                                              apns_server, frozen_time):
    register(client, apple_shop.card)
    drain(app)
    apns_server.received.clear()
    for _ in range(3):
        frozen_time.advance(minutes=1)
        stamp_at_the_counter(client, apple_shop)
    drain(app)
    assert len(apns_server.wait_for(1)) == 1
    assert balance_on_the_pass(client, apple_shop.card) == "3 / 10"


def test_apns_errors_are_retried_by_the_outbox_and_dead_tokens_forgotten(
    client, app, db, apple_shop, apns_server, frozen_time
):
    register(client, apple_shop.card)
    drain(app)
    apns_server.received.clear()
    apns_server.answer(500, "InternalServerError")
    apns_server.answer(429, "TooManyRequests")
    stamp_at_the_counter(client, apple_shop)
    drain(app)
    [failing] = [m for m in _messages(db) if m.kind == "apple.pass_update"]
    assert failing.attempts == 1 and failing.last_error and "500" in failing.last_error
    for _ in range(2):
        frozen_time.advance(hours=2)  # past the backoff
        drain(app)
    assert len(apns_server.wait_for(3)) == 3  # 500, 429, then delivered
    assert db.session.scalar(select(func.count(AppleDevice.id))) == 1

    apns_server.answer(410, "Unregistered")
    frozen_time.advance(minutes=20)
    stamp_at_the_counter(client, apple_shop)
    drain(app)
    assert len(apns_server.wait_for(4)) == 4
    assert db.session.scalar(select(func.count(AppleDevice.id))) == 0


def test_a_program_edit_updates_every_pass_of_the_program(client, app, apple_shop,
                                                          apns_server, frozen_time):
    from tests.factories import make_card

    other = make_card(apple_shop.program)
    register(client, apple_shop.card)
    register(client, other, device="second-iphone", token="cd" * 32)
    drain(app)
    apns_server.received.clear()
    tag = listing(client).get_json()["lastUpdated"]
    frozen_time.advance(minutes=1)
    program_service.update_program(apple_shop.vendor.id, card_background_color="#112233")
    drain(app)
    pushes = apns_server.wait_for(2)
    assert sorted(p.path for p in pushes) == [f"/3/device/{PUSH_TOKEN}", f"/3/device/{'cd' * 32}"]
    assert listing(client, since=tag).get_json()["serialNumbers"] == [
        apple_shop.card.apple_serial_number
    ]


def _messages(db):
    db.session.commit()
    rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    db.session.commit()
    return rows


assert outbox  # the registry the handler joined
