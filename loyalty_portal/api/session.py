"""/api/v1/auth/session: sign in and out of the portal's session from scripts and the docs page.

The browser screens have their own login page; this gives JSON clients the same session and the
CSRF token its unsafe requests need.
"""

from flask import request
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from ..errors import InvalidCredentials
from ..services import vendor_service
from .auth import Access, requires
from .blueprint import Blueprint
from .schemas import common
from .schemas import session as s

blp = Blueprint(
    "api_session",
    __name__,
    url_prefix="/api/v1/auth",
    description="The portal session for JSON clients.",
)


def _session_body(user):
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": str(user.role),
        "vendor_id": user.vendor_id,
        "csrf_token": generate_csrf(),
    }


@blp.route("/session", methods=["POST"])
@blp.arguments(s.LoginSchema)
@blp.response(200, s.SessionSchema)
@common.error_responses(blp, 400, 401, 429)
def sign_in(body):
    """Sign in with e-mail and password; the response carries the CSRF token for this session."""
    user = vendor_service.authenticate(body["email"], body["password"], request.remote_addr)
    if user is None:
        raise InvalidCredentials()
    login_user(user)
    return _session_body(user)


@blp.route("/session", methods=["GET"])
@requires(Access.SESSION)
@blp.response(200, s.SessionSchema)
def who_am_i():
    """The signed-in user, and a CSRF token for the session."""
    return _session_body(current_user)


@blp.route("/session", methods=["DELETE"])
@requires(Access.SESSION)
@blp.response(204)
@common.error_responses(blp, 400)
def sign_out():
    """Sign out."""
    logout_user()
