"""Extensions are created here once, unbound, and attached in create_app()."""

from functools import cached_property

from babel import support
from flask_babel import Babel, Domain
from flask_babel import _get_current_context as _babel_context
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine

naming = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=naming))
migrate = Migrate()
login_manager = LoginManager()


class _RequestDomain(Domain):
    """Flask-Babel's domain, with the request's catalogue kept on the request's Babel context
    (where Flask-Babel keeps the request's locale): a page translates a few hundred labels, and
    each lookup otherwise re-derives the locale and its cache key (bench/RESULTS.md). The
    catalogue is the one for the locale object of this request; `flask_babel.refresh()` drops
    that locale, and with it this shortcut."""

    def get_translations(self):
        ctx = _babel_context()
        if ctx is None:
            return support.NullTranslations()
        kept = getattr(ctx, "ecqs_translations", None)
        if kept is not None and kept[0] is getattr(ctx, "babel_locale", None):
            return kept[1]
        translations = super().get_translations()
        ctx.ecqs_translations = (getattr(ctx, "babel_locale", None), translations)
        return translations


class _Babel(Babel):
    @cached_property
    def domain_instance(self):
        return _RequestDomain(domain=self.domain)


babel = _Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, connection_record):
    # SQLite leaves foreign keys unchecked unless asked, per connection.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
