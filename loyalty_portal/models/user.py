import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .types import UTCDateTime
from .vendor import Vendor


class Role(enum.StrEnum):
    ADMIN = "admin"
    OWNER = "owner"
    STAFF = "staff"  # a counter terminal login: stamps and redeems, never changes settings


class User(UserMixin, db.Model):
    """Someone who signs in to the portal: a platform admin, a vendor owner or a staff terminal."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'admin' AND vendor_id IS NULL) OR (role <> 'admin' AND vendor_id IS NOT NULL)",
            name="vendor_matches_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    is_active_user: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    vendor: Mapped[Vendor | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.is_active_user
