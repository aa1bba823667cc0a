"""All tables, importable from one place (and seen by Alembic's autogenerate)."""

from .api_key import ApiKey
from .apple_device import AppleDevice, AppleDeviceRegistration
from .card import LoyaltyCard
from .customer import Customer
from .outbox import OutboxMessage, OutboxStatus
from .pin_throttle import PinThrottle
from .program import LoyaltyProgram, ProgramType
from .staff_pin import StaffPin
from .transaction import LedgerIsImmutable, LoyaltyTransaction, TransactionType
from .user import Role, User
from .vendor import Vendor

__all__ = [
    "ApiKey",
    "AppleDevice",
    "AppleDeviceRegistration",
    "Customer",
    "LedgerIsImmutable",
    "LoyaltyCard",
    "LoyaltyProgram",
    "LoyaltyTransaction",
    "OutboxMessage",
    "OutboxStatus",
    "PinThrottle",
    "ProgramType",
    "Role",
    "StaffPin",
    "TransactionType",
    "User",
    "Vendor",
]
