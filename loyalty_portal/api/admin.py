"""/api/v1/admin/loyalty: the platform admin's view across vendors (signed-in admins only)."""

from ..services import outbox, platform_service, statistics_service
from .auth import Access, requires
from .blueprint import Blueprint
from .schemas import admin as s
from .schemas import common

blp = Blueprint(
    "admin_loyalty",
    __name__,
    url_prefix="/api/v1/admin/loyalty",
    description="Programs across vendors and platform statistics (admins).",
)


@blp.route("/programs", methods=["GET"])
@requires(Access.ADMIN)
@blp.arguments(s.AdminProgramQuerySchema, location="query")
@blp.response(200, s.ProgramSummaryPageSchema)
def list_programs(query):
    """Every vendor's program with its card totals; filter, sort (`-` for descending), page."""
    page, per_page = query["page"], query["per_page"]
    items, total = platform_service.list_programs(
        text=query["q"],
        program_type=query.get("program_type"),
        is_active=query.get("is_active"),
        sort=query["sort"],
        page=page,
        per_page=per_page,
    )
    return {"items": items, "total": total, "page": page, "per_page": per_page}


@blp.route("/programs/<id:program_id>/statistics", methods=["GET"])
@requires(Access.ADMIN)
@blp.arguments(common.DaysQuerySchema, location="query")
@blp.response(200, common.ProgramStatisticsSchema)
@common.error_responses(blp, 404)
def program_statistics(query, program_id):
    """One program's totals and per-day activity."""
    return statistics_service.program_statistics(program_id, query["days"])


@blp.route("/statistics", methods=["GET"])
@requires(Access.ADMIN)
@blp.arguments(common.DaysQuerySchema, location="query")
@blp.response(200, s.PlatformStatisticsSchema)
def platform_statistics(query):
    """Vendors, programs, cards, active cards (30 days), stamps and points issued and redeemed,
    and per-day activity over the last `days` days (UTC days)."""
    return statistics_service.platform_statistics(query["days"])


@blp.route("/outbox/messages", methods=["GET"])
@requires(Access.ADMIN)
@blp.arguments(s.OutboxQuerySchema, location="query")
@blp.response(200, s.OutboxMessagePageSchema)
def list_outbox_messages(query):
    """Outbox messages the worker could not deliver yet (`failing`), gave up on (`dead`), or all
    that wait (`pending`), newest change first, with the queue's counts."""
    page, per_page = query["page"], query["per_page"]
    items, total = outbox.list_messages(query["status"], page=page, per_page=per_page)
    return {
        "items": items,
        "total": total,
        "page": page,
        "per_page": per_page,
        "counts": outbox.counts(),
    }


@blp.route("/outbox/messages/<id:message_id>/retry", methods=["POST"])
@requires(Access.ADMIN)
@blp.response(200, s.OutboxMessageSchema)
@common.error_responses(blp, 404, 409)
def retry_outbox_message(message_id):
    """Deliver a dead or failing message again now, with a fresh maximum age. A dead message
    whose subject has a newer waiting one is folded into it (the answer is that one)."""
    return outbox.retry_message(message_id)
