from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db
from .types import UTCDateTime


class Customer(db.Model):
    """A vendor's customer. Kept per vendor so one shop never sees another's customers.

    Erasure (GDPR) blanks the personal fields and sets `erased_at`; the row stays so the card and
    its ledger remain intact and verifiable.
    """

    __tablename__ = "customers"
    __table_args__ = (
        Index("uq_customers_vendor_email", "vendor_id", "email", unique=True),
        Index("uq_customers_vendor_phone", "vendor_id", "phone", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"))
    name: Mapped[str] = mapped_column(String(200))
    # Stored normalised (lower-case e-mail, E.164-like phone) so lookups are exact matches.
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str | None] = mapped_column(String(5))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_text_version: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
