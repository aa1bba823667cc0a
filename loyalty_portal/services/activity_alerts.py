"""The owner's daily alert: a staff member or a card far above its usual activity yesterday.

"Usual" is the average per day over the BASELINE_DAYS before the day looked at (days in the
vendor's time zone). A staff member is unusual from STAFF_MINIMUM operations and three times their
average; a card from CARD_MINIMUM operations and three times its average. `flask loyalty
send-activity-alerts`, run once a day (cron, a systemd timer), e-mails each shop's owners when
something stands out, in each owner's language; nothing is sent on a quiet day."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

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
        unusual = unusual_activity(vendor, day)
        if not unusual:
            continue
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
    db.session.commit()
    return sent
