"""The owner's report of a period: what each staff member did and how many customers came back
(services/staff_statistics.py), for a chosen range or a preset (this week, last month, ...)."""

from datetime import date

from flask import Blueprint, render_template, request
from flask_babel import format_percent
from flask_login import current_user

from ..auth import roles_required
from ..clock import utcnow
from ..errors import ValidationError
from ..models import Role
from ..services import export_service, program_service, staff_statistics

bp = Blueprint("owner_reports", __name__, url_prefix="/vendor/reports")


@bp.before_request
@roles_required(Role.OWNER)
def owners_only():
    """The owner's (a staff terminal gets 403)."""


def _date(name: str, default: date) -> date | None:
    value = request.args.get(name)
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@bp.app_template_filter("format_percent")
def _format_percent(share: float) -> str:
    return format_percent(share)


@bp.get("/")
def period():
    vendor = current_user.vendor
    presets = export_service.preset_ranges(vendor, utcnow().astimezone(vendor.zone).date())
    default_from, default_to = presets["this_week"]
    date_from, date_to = _date("date_from", default_from), _date("date_to", default_to)
    report, error, status = None, None, 200
    if date_from is None or date_to is None:
        error, status = ValidationError(None, field="date"), 422
    else:
        try:
            report = staff_statistics.period_report(vendor.id, date_from, date_to)
        except ValidationError as refused:
            error, status = refused, 422
    return render_template("vendor/reports.html", report=report, error=error, presets=presets,
                           date_from=date_from or default_from, date_to=date_to or default_to,
                           program=program_service.get_program(vendor.id)), status
