"""The cashier screen: find a card, then stamp, add points or redeem, confirmed by a staff PIN."""

from flask import Blueprint, render_template

from ..auth import roles_required
from ..models import Role

bp = Blueprint("cashier", __name__, url_prefix="/cashier")


@bp.get("/")
@roles_required(Role.STAFF, Role.OWNER)
def index():
    return render_template("cashier/index.html")
