"""The platform admin's overview: every vendor's program with its totals, platform totals with a
chart, and a drill-down to one program's statistics."""

from flask import Blueprint, render_template, request

from ..auth import roles_required
from ..models import Role
from ..services import platform_service, program_service, statistics_service
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
    page = max(1, request.args.get("page", 1, type=int))
    programs, total = platform_service.list_programs(
        text=query, sort=sort, page=page, per_page=PROGRAMS_PER_PAGE
    )
    context = {
        "programs": programs, "total": total, "query": query, "sort": sort, "sorts": SORTS,
        "page": page, "pages": max(1, -(-total // PROGRAMS_PER_PAGE)),
    }
    if wants_fragment():
        return render_template("admin/_programs.html", **context)
    return render_template("admin/overview.html", platform=platform_service.platform_statistics(30),
                           **context)


@bp.get("/programs/<int:program_id>")
def program(program_id: int):
    program = program_service.get_program_by_id(program_id)
    statistics = platform_service.program_statistics(program.id, STATISTICS_DAYS)
    return render_template("admin/program.html", program=program, statistics=statistics,
                           weeks=statistics_service.new_cards_per_week(statistics.daily))
