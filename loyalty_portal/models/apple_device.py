from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .types import UTCDateTime


class AppleDevice(db.Model):
    """An iPhone or Apple Watch known to Apple's pass web service, by the identifier its Wallet
    sends. A device has one push token, replaced on every registration; a device left holding no
    pass is deleted."""

    __tablename__ = "apple_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_library_identifier: Mapped[str] = mapped_column(String(128), unique=True)
    push_token: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AppleDeviceRegistration(db.Model):
    """A device that holds one card's pass (of one pass type) and wants push updates for it."""

    __tablename__ = "apple_device_registrations"
    __table_args__ = (UniqueConstraint("device_id", "card_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("apple_devices.id", ondelete="CASCADE"))
    card_id: Mapped[int] = mapped_column(ForeignKey("loyalty_cards.id"), index=True)
    pass_type_identifier: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    device: Mapped[AppleDevice] = relationship()

    @property
    def device_library_identifier(self) -> str:
        return self.device.device_library_identifier
