"""The platform admin's overview: every vendor's program with its totals, platform totals with a
chart, and a drill-down to one program's statistics."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth import roles_required
from ..input_guard import bounded_int
from ..models import Role
from ..services import outbox, platform_service, program_service, statistics_service
from .errors import is_htmx
from .vendor import wants_fragment

bp = Blueprint("admin", __name__, url_prefix="/admin")

PROGRAMS_PER_PAGE = 50
SORTS = ("name", "vendor", "-total_cards", "-last_activity_at", "-created_at")
STATISTICS_DAYS = 84


@bp.before_request
@roles_required(Role.ADMIN)
def admins_only():
    """Every screen here is the platform admin's; owners and staff get 403."""


@bp.get("/")
def overview():
    query = request.args.get("q", "").strip()[:200]
    sort = request.args.get("sort", "name")
    sort = sort if sort in SORTS else "name"
    page = request.args.get("page", 1, type=bounded_int())
    programs, total = platform_service.list_programs(
        text=query, sort=sort, page=page, per_page=PROGRAMS_PER_PAGE
    )
    context = {
        "programs": programs, "total": total, "query": query, "sort": sort, "sorts": SORTS,
        "page": page, "pages": max(1, -(-total // PROGRAMS_PER_PAGE)),
    }
    if wants_fragment():
        return render_template("admin/_programs.html", **context)
    platform = statistics_service.platform_statistics(30)
    return render_template("admin/overview.html", platform=platform,
                           outbox_counts=outbox.counts(), **context)


@bp.get("/programs/<id:program_id>")
def program(program_id: int):
    program = program_service.get_program_by_id(program_id)
    statistics = statistics_service.program_statistics(program.id, STATISTICS_DAYS)
    return render_template("admin/program.html", program=program, statistics=statistics,
                           weeks=statistics_service.new_cards_per_week(statistics.daily))


OUTBOX_PER_PAGE = 50


@bp.get("/outbox")
def outbox_messages():
    """Messages the worker could not deliver: failing (still retried) or dead, with a retry."""
    which = request.args.get("status", "failing")
    which = which if which in outbox.LISTS else "failing"
    page = request.args.get("page", 1, type=bounded_int())
    messages, total = outbox.list_messages(which, page=page, per_page=OUTBOX_PER_PAGE)
    context = {
        "messages": messages, "total": total, "which": which, "page": page,
        "pages": max(1, -(-total // OUTBOX_PER_PAGE)),
    }
    if wants_fragment():
        return render_template("admin/_outbox_messages.html", **context)
    return render_template("admin/outbox.html", counts=outbox.counts(),
                           handlers=outbox.registrations(), **context)


@bp.post("/outbox/<id:message_id>/retry")
def retry_outbox_message(message_id: int):
    """Try a dead or failing message again now; htmx swaps its row."""
    message = outbox.retry_message(message_id)
    if is_htmx():
        return render_template("admin/_outbox_row.html", message=message, retried=True)
    flash(_("The message will be delivered again shortly."), "success")
    return redirect(url_for(".outbox_messages", status=request.args.get("status", "dead")), 303)
