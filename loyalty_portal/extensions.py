"""Extensions, created once here and bound to the app in create_app()."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
babel = Babel()
login_manager = LoginManager()
mail = Mail()  # MAIL_BACKEND: smtp, console (make run without SMTP), locmem (tests)
csrf = CSRFProtect()  # API blueprints authenticate by header and are exempted where registered
# Storage comes from RATELIMIT_STORAGE_URI (memory:// by default, redis://... in production).
# Only the routes that call `limiter.check()` are counted (see api/apple_web_service.py): checking
# every request in a before_request hook costs the stamp hot path CPU for no limit at all.
limiter = Limiter(key_func=get_remote_address, auto_check=False)
