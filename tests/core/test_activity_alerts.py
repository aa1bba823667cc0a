"""The owner's daily alert e-mail: a staff member or a card far above its usual activity."""

import threading
from datetime import UTC, datetime, timedelta

from loyalty_portal.clock import utcnow
from loyalty_portal.models import Role
from loyalty_portal.services import activity_alerts, program_service, stamp_service
from loyalty_portal.services.ledger import Actor
from loyalty_portal.worker import Worker
from tests.factories import make_card, make_pin, make_program, make_user


def test_a_busy_staff_member_and_card_are_reported_to_the_owners(db, frozen_time, smtp_server,
                                                                 runner):
    program = make_program(name="Coffee card")
    program_service.update_program(program.vendor_id, cooldown_minutes=0, max_daily_stamps=100)
    make_user(Role.OWNER, program.vendor, "owner@shop.test").locale = "fr"
    anna = make_pin(program.vendor, "Anna", "4827")
    cards = [make_card(program) for _ in range(4)]
    for n in range(20):  # Monday: 20 stamps by Anna, 5 on each card
        stamp_service.add_stamp(program.vendor_id, cards[n % 4].id,
                                actor=Actor(staff_pin_id=anna.id, pin="4827"))
    monday = frozen_time.now.date()

    unusual = activity_alerts.unusual_activity(program.vendor, monday)
    assert {(u.kind, u.label, u.count) for u in unusual} == {("staff", "Anna", 20)} | {
        ("card", card.card_number, 5) for card in cards}
    assert activity_alerts.unusual_activity(program.vendor, monday - timedelta(days=1)) == []

    frozen_time.advance(days=1)
    result = runner.invoke(args=["loyalty", "send-activity-alerts"])
    assert result.exit_code == 0 and "1 alert e-mail(s) for 2026-03-02" in result.output
    [message] = smtp_server.messages_to("owner@shop.test")
    assert message["Content-Language"] == "fr"
    text, html = smtp_server.bodies(message)
    assert "Anna" in text and "20" in text and cards[0].card_number in text
    assert "/vendor/reports/?date_from=2026-03-02&date_to=2026-03-02" in text


def test_a_usual_day_sends_nothing(db, frozen_time, smtp_server):
    program = make_program()
    make_user(Role.OWNER, program.vendor)
    anna = make_pin(program.vendor, "Anna", "4827")
    stamp_service.add_stamp(program.vendor_id, make_card(program).id,
                            actor=Actor(staff_pin_id=anna.id, pin="4827"))
    assert activity_alerts.send_activity_alerts(frozen_time.now.date()) == 0
    assert smtp_server.messages == []


def _busy_monday(frozen_time):
    """Monday 2 March 2026: Anna stamps 20 times, far above her (empty) usual."""
    program = make_program(name="Coffee card")
    program_service.update_program(program.vendor_id, cooldown_minutes=0, max_daily_stamps=100)
    make_user(Role.OWNER, program.vendor, "owner@shop.test")
    anna = make_pin(program.vendor, "Anna", "4827")
    cards = [make_card(program) for _ in range(4)]
    for n in range(20):
        stamp_service.add_stamp(program.vendor_id, cards[n % 4].id,
                                actor=Actor(staff_pin_id=anna.id, pin="4827"))
    return program


def test_yesterdays_alert_is_sent_once_after_the_hour_of_the_shops_day(db, frozen_time,
                                                                        smtp_server):
    _busy_monday(frozen_time)
    # Tuesday 05:30 UTC is 06:30 in Luxembourg: before ACTIVITY_ALERT_HOUR (7).
    frozen_time.set(datetime(2026, 3, 3, 5, 30, tzinfo=UTC))
    assert activity_alerts.send_due_alerts(utcnow()) == 0
    frozen_time.set(datetime(2026, 3, 3, 6, 5, tzinfo=UTC))  # 07:05 in Luxembourg
    assert activity_alerts.send_due_alerts(utcnow()) == 1
    assert activity_alerts.send_due_alerts(utcnow()) == 0  # Monday is done
    [message] = smtp_server.messages_to("owner@shop.test")
    assert "Anna" in smtp_server.bodies(message)[0]
    # Wednesday: Tuesday was quiet, nothing is sent.
    frozen_time.set(datetime(2026, 3, 4, 6, 5, tzinfo=UTC))
    assert activity_alerts.send_due_alerts(utcnow()) == 0
    assert len(smtp_server.messages) == 1


def test_the_outbox_worker_sends_the_due_alert_and_delivers_it(app, db, frozen_time, smtp_server):
    _busy_monday(frozen_time)
    frozen_time.set(datetime(2026, 3, 3, 6, 5, tzinfo=UTC))
    worker = Worker(app, poll_seconds=0.01)
    stopper = threading.Timer(2.0, worker.stop)
    stopper.start()
    worker.run()  # its first round looks for due alerts, the next ones deliver the e-mail
    stopper.join()
    assert [m["To"] for m in smtp_server.messages] == ["owner@shop.test"]
