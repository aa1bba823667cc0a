"""Who is signed in, and what their role lets them do (shared by screens and API)."""

from functools import wraps

from flask import abort
from flask_login import current_user

from .extensions import db, login_manager
from .models import Role, User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """A login switched off, or a suspended shop's terminal, is signed out at its next request."""
    user = db.session.get(User, int(user_id)) if user_id.isascii() and user_id.isdigit() else None
    return user if user is not None and user.is_active else None


def roles_required(*roles: Role):
    """Screens: 401 → login page (Flask-Login), wrong role → 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
