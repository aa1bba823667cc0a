from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db
from .types import UTCDateTime


class Vendor(db.Model):
    """A shop that runs a loyalty program; its time zone decides what "today" means."""

    __tablename__ = "vendors"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Luxembourg")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    default_locale: Mapped[str] = mapped_column(String(5), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by the platform admin: terminals, API keys, the counter and enrolment stop; nothing is
    # deleted and the owner can still sign in to read and export.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last day (in the shop's zone) whose activity alert the outbox worker has sent.
    activity_alerts_sent_for: Mapped[date | None] = mapped_column(Date)

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def __repr__(self) -> str:
        return f"<Vendor {self.slug}>"
