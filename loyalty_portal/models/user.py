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
    # None while an invitation is open: the user cannot sign in until they choose a password.
    password_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    vendor: Mapped[Vendor | None] = relationship()

    @property
    def is_active(self) -> bool:
        """Signing in needs an active user with a password; a suspended vendor's counter
        terminals are shut out too (its owners still sign in to read and export)."""
        if not self.is_active_user or self.password_set_at is None:
            return False
        return not (self.role == Role.STAFF and self.vendor is not None
                    and self.vendor.is_suspended)

    @property
    def is_invitation_pending(self) -> bool:
        return self.password_set_at is None
