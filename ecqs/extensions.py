"""Extensions are created here once, unbound, and attached in create_app()."""

from functools import cached_property

from babel import support
from flask.globals import _cv_app
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel, Domain
from flask_babel import _get_current_context as _babel_context
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from jinja2 import pass_context
from markupsafe import Markup
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
        # Flask-Babel's request context, read straight off the app context's g (the public
        # accessor goes through three proxies per call); created by Flask-Babel when missing.
        app_ctx = _cv_app.get(None)
        ctx = app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None
        if ctx is None:
            ctx = _babel_context()
        if ctx is None:
            return support.NullTranslations()
        kept = getattr(ctx, "ecqs_translations", None)
        if kept is not None and kept[0] is getattr(ctx, "babel_locale", None):
            return kept[1]
        translations = super().get_translations()
        ctx.ecqs_translations = (getattr(ctx, "babel_locale", None), translations)
        return translations


# Translated labels as Markup, per catalogue: a page shows the same few hundred labels on every
# request. Bounded, in case a template translates a computed string.
_MARKUP_MEMO_SIZE = 5000


@pass_context
def template_gettext(context, string, **variables):
    """`{{ _('…') }}` and `{% trans %}` in templates: Jinja's newstyle gettext (the label as
    Markup in autoescaped templates, always %-formatted with the variables escaped), in about a
    fifth of the calls of Jinja's alias → context.call → wrapper → callable chain."""
    translations = babel.domain_instance.get_translations()
    if not context.eval_ctx.autoescape:
        return translations.ugettext(string) % variables
    memo = translations.__dict__.setdefault("_ecqs_markup", {})
    rv = memo.get(string)
    if rv is None:
        rv = Markup(translations.ugettext(string))  # noqa: S704 (as Jinja: the catalogue is trusted)
        if len(memo) < _MARKUP_MEMO_SIZE:
            memo[string] = rv
    # Jinja formats even without variables ("%%" becomes "%"); a label without "%" is unchanged.
    return rv % variables if variables or "%" in rv else rv


class _Babel(Babel):
    @cached_property
    def domain_instance(self):
        return _RequestDomain(domain=self.domain)


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its serializer built once per key set rather than on
    every request (building it is most of the ~290 calls that opening an empty session costs)."""

    def __init__(self):
        self._serializers: dict = {}

    def get_signing_serializer(self, app):
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            if serializer is not None:
                self._serializers = {key: serializer}  # the current key set only
        return serializer


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
