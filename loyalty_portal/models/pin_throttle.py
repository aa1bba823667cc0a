from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class PinThrottle(db.Model):
    """Wrong-PIN counter of one terminal (a login or an API key) at a vendor: for one staff
    member's PIN there (`staff_pin_id` set), or for every PIN entered there (`staff_pin_id`
    NULL). `key` names the pair, so a counter's row is created once and then locked and updated
    in place (see services/pin_service.py and the policy in services/pin_policy.py)."""

    __tablename__ = "pin_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    terminal: Mapped[str] = mapped_column(String(64))
    staff_pin_id: Mapped[int | None] = mapped_column(ForeignKey("staff_pins.id"), index=True)
    failures: Mapped[int] = mapped_column(default=0)
    lock_level: Mapped[int] = mapped_column(default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Attempts being checked right now (reserved before bcrypt), and when the last one started.
    in_flight: Mapped[int] = mapped_column(default=0)
    in_flight_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
