"""Customer pages, no account needed: join a program, see one's card, recover a lost link."""

from flask import Blueprint, render_template

bp = Blueprint("public", __name__)


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html")
