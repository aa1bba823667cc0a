"""The vendor's calendar day, in one place: the daily stamp limit, the statistics' days and the
CSV export's date range all count days in the vendor's time zone, across daylight-saving changes.

Timestamps are stored in UTC. Python converts with zoneinfo; in SQL, PostgreSQL converts with
its own time-zone rules and SQLite calls `loyalty_local_date`, a Python function registered on
each connection (database.py), so both databases agree on every day, a DST day included.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, cast, func
from sqlalchemy.sql.elements import ColumnElement

from ..extensions import db


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """UTC start and end (exclusive) of a calendar day in `timezone` (23 or 25 hours long on a
    daylight-saving change)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar day in `timezone` of an aware moment."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def local_day_bounds(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """Start and end (UTC) of the vendor's calendar day containing `now`."""
    return day_bounds(local_date(now, timezone), timezone)


def local_date_sql(column, timezone: str) -> ColumnElement:
    """SQL for the calendar day in `timezone` of a UTC timestamp column (a date on PostgreSQL,
    ISO text on SQLite)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(timezone, column), Date)
    return func.loyalty_local_date(column, timezone)


def sqlite_local_date(stored: str | None, timezone: str) -> str | None:
    """SQLite's `loyalty_local_date(timestamp, zone)`: timestamps are stored as naive UTC text."""
    if stored is None:
        return None
    moment = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    return local_date(moment, timezone).isoformat()
