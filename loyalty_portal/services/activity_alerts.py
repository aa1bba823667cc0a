"""The owner's daily alert: a staff member or a card far above its usual activity yesterday.

"Usual" is the average per day over the BASELINE_DAYS before the day looked at (days in the
vendor's time zone). A staff member is unusual from STAFF_MINIMUM operations and three times their
average; a card from CARD_MINIMUM operations and three times its average.

The outbox worker (`flask loyalty worker`, which `make run` starts) looks every few minutes:
once it is past ACTIVITY_ALERT_HOUR in a shop's time zone, it e-mails the shop's owners about
yesterday, in each owner's language, if something stood out (nothing on a quiet day). Each shop's
day is claimed with one conditional UPDATE, so several workers, or a restarted one, never send a
day twice. `flask loyalty send-activity-alerts [--day]` sends a chosen day by hand."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, or_, select, update

from ..extensions import db
from ..models import LoyaltyCard, LoyaltyProgram, LoyaltyTransaction, Role, StaffPin, User, Vendor
from . import email_service
from .export_service import local_range_bounds

BASELINE_DAYS = 28
FACTOR = 3
STAFF_MINIMUM = 20
CARD_MINIMUM = 4
T = LoyaltyTransaction


@dataclass(frozen=True)
class Unusual:
    kind: str  # "staff" or "card"
    label: str  # the staff member's name or the card number
    count: int
    usual_per_day: float


def _counts(vendor_id: int, column, start, end) -> dict:
    return dict(db.session.execute(
        select(column, func.count(T.id))
        .join(LoyaltyProgram, LoyaltyProgram.id == T.program_id)
        .where(LoyaltyProgram.vendor_id == vendor_id, T.created_at >= start, T.created_at < end,
               column.is_not(None))
        .group_by(column)
    ).all())


def unusual_activity(vendor: Vendor, day: date) -> list[Unusual]:
    """Staff members and cards whose operations on `day` stand out against their usual days."""
    day_start, day_end = local_range_bounds(vendor, day, day)
    base_start, _ = local_range_bounds(vendor, day - timedelta(days=BASELINE_DAYS), day)
    found = []
    for kind, column, minimum in (("staff", T.staff_pin_id, STAFF_MINIMUM),
                                  ("card", T.card_id, CARD_MINIMUM)):
        today = _counts(vendor.id, column, day_start, day_end)
        before = _counts(vendor.id, column, base_start, day_start)
        for key, count in today.items():
            usual = before.get(key, 0) / BASELINE_DAYS
            if count >= minimum and count >= FACTOR * max(usual, 1):
                found.append((kind, key, count, usual))
    names = dict(db.session.execute(select(StaffPin.id, StaffPin.name).where(
        StaffPin.id.in_([k for kind, k, _, _ in found if kind == "staff"])
    )).all())
    numbers = dict(db.session.execute(select(LoyaltyCard.id, LoyaltyCard.card_number).where(
        LoyaltyCard.id.in_([k for kind, k, _, _ in found if kind == "card"])
    )).all())
    return [Unusual(kind, names.get(key) if kind == "staff" else numbers.get(key), count,
                    round(usual, 1))
            for kind, key, count, usual in found]


def send_activity_alerts(day: date) -> int:
    """E-mail the owners of each open shop where something stood out on `day`; the number of
    e-mails queued (sent after the commit)."""
    sent = 0
    for vendor in db.session.scalars(select(Vendor).where(Vendor.suspended_at.is_(None))):
        sent += _alert_owners(vendor, day)
    db.session.commit()
    return sent


def send_due_alerts(now: datetime) -> int:
    """The worker's round: yesterday's alert for each open shop where it is past
    ACTIVITY_ALERT_HOUR, once per shop and day (claimed before anything is queued, in the same
    transaction). The number of e-mails queued."""
    hour = current_app.config["ACTIVITY_ALERT_HOUR"]
    sent = 0
    shops = db.session.execute(
        select(Vendor.id, Vendor.timezone).where(Vendor.suspended_at.is_(None)).order_by(Vendor.id)
    ).all()
    db.session.commit()
    for vendor_id, timezone in shops:
        local = now.astimezone(ZoneInfo(timezone))
        if local.hour < hour:
            continue
        day = local.date() - timedelta(days=1)
        claimed = db.session.execute(
            update(Vendor)
            .where(Vendor.id == vendor_id,
                   or_(Vendor.activity_alerts_sent_for.is_(None),
                       Vendor.activity_alerts_sent_for < day))
            .values(activity_alerts_sent_for=day)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed:
            sent += _alert_owners(db.session.get(Vendor, vendor_id), day)
        db.session.commit()
    return sent


def _alert_owners(vendor: Vendor, day: date) -> int:
    """Queue the alert about `day` for each owner of `vendor` (not committed)."""
    sent = 0
    unusual = unusual_activity(vendor, day)
    if unusual:
        owners = db.session.scalars(select(User).where(
            User.vendor_id == vendor.id, User.role == Role.OWNER, User.is_active_user.is_(True),
            User.password_set_at.is_not(None)))
        lines = "\n".join(f"{u.kind}|{u.label}|{u.count}|{u.usual_per_day}" for u in unusual)
        for owner in owners:
            email_service.enqueue(email_service.Email(
                "activity_alert", owner.email, owner.locale or vendor.default_locale,
                {"shop": vendor.name, "name": owner.name, "day": day.isoformat(), "lines": lines,
                 "link": email_service.public_url("/vendor/reports/?date_from="
                                                  f"{day.isoformat()}&date_to={day.isoformat()}")},
            ))
            sent += 1
    return sent
