from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db
from .types import UTCDateTime


class AppleDeviceRegistration(db.Model):
    """An iPhone that holds a card's pass and wants push updates (Apple's pass web service)."""

    __tablename__ = "apple_device_registrations"
    __table_args__ = (UniqueConstraint("device_library_identifier", "card_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_library_identifier: Mapped[str] = mapped_column(String(128), index=True)
    push_token: Mapped[str] = mapped_column(String(200))
    card_id: Mapped[int] = mapped_column(ForeignKey("loyalty_cards.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
