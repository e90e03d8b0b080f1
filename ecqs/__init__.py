"""Application factory."""

from __future__ import annotations

import logging
import secrets

from babel import Locale
from babel.numbers import format_compact_decimal
from flask import Flask, abort, g, has_request_context, redirect, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

# Importing `domains` registers every state table and row scope; `rate_limits` registers the
# ecqsdb:// storage scheme of Flask-Limiter. Both must happen before the first request.
from ecqs import config as config_module
from ecqs import domains  # noqa: F401
from ecqs.accounts import auth, registration
from ecqs.admin_views import init_admin
from ecqs.admin_views.instruments import _raise_upload_limit
from ecqs.cli import register_cli
from ecqs.errors import register_error_pages
from ecqs.extensions import (
    CookieSessionInterface,
    babel,
    csrf,
    db,
    limiter,
    login_manager,
    migrate,
    template_gettext,
)
from ecqs.instruments import public as instrument_public
from ecqs.licences import documents as licence_documents
from ecqs.models import LINK_STATUS_LABELS, ROLE_LABELS
from ecqs.public import home_page
from ecqs.qualifications import documents as certificate_documents
from ecqs.registry import public as registry_public
from ecqs.services import jobs, pool_ping, rate_limits, read_only_end, tasks, user_sessions  # noqa: F401  (rate_limits: ecqsdb:// scheme; tasks: the queue's tasks and schedules)
from ecqs.services.audit import EVENT_LABELS
from ecqs.services.workdays import CN as cn

# Every blueprint of the app, registered by create_app and nowhere else.
BLUEPRINTS = (
    auth.bp,  # /login, /logout, password and SMS factor
    registration.bp,  # /register: self-service registration, enterprise link requests
    instrument_public.bp,  # /public/instruments: the public instrument query
    licence_documents.bp,  # /verify: the public licence verification page (QR codes)
    certificate_documents.bp,  # /verify/certificate: the public qualification certificate check
    registry_public.bp,  # the registry's public pages (unit password recovery, account appeal)
)


def select_locale():
    if not has_request_context():
        return "zh_Hans_CN"
    lang = session.get("lang")
    if lang in {"zh_Hans_CN", "en"}:
        return lang
    return "zh_Hans_CN"


# Parsed once: Flask-Babel parses the selector's answer on every request (Locale.parse returns a
# Locale as it is).
_LOCALES = {code: Locale.parse(code) for code in ("zh_Hans_CN", "en")}


def _request_locale() -> Locale:
    return _LOCALES[select_locale()]


def create_app(config: dict | None = None) -> Flask:
    """Build the app. `config` overrides settings read from the environment (tests use it)."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(config_module.from_environment())
    if config:
        app.config.update(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if proxies := int(app.config.get("ECQS_TRUSTED_PROXIES") or 0):
        # Behind nginx & co.: the client's address (rate limits, audit) and scheme come from them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    app.session_interface = CookieSessionInterface()
    db.init_app(app)
    with app.app_context():
        pool_ping.install(db.engine, app.config.get("DB_PING_IDLE_SECONDS", 10.0))
    read_only_end.init_app(app)
    migrate.init_app(app, db, directory=str(config_module.BASE_DIR / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    babel.init_app(app, locale_selector=_request_locale)
    # Templates translate through the app's one domain directly (not Flask-Babel's per-call
    # domain lookup): same catalogue, a tenth of the calls per {{ _('…') }}.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: babel.domain_instance.get_translations().ugettext(s),
        ngettext=lambda s, p, n: babel.domain_instance.get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: babel.domain_instance.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: babel.domain_instance.get_translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext)
    # The instrument imports accept a larger body than any other request; this hook raises the
    # limit for them and must run before CSRF protection, which reads the form first.
    app.before_request(_raise_upload_limit)
    csrf.init_app(app)
    limiter.init_app(app)
    user_sessions.init_app(app)
    jobs.init_app(app)

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    init_admin(app)
    register_cli(app)
    register_error_pages(app)
    _security(app)
    _filters(app)

    @login_manager.unauthorized_handler
    def _unauthorized():
        return redirect(url_for("auth.login", next=request.full_path))

    app.add_url_rule("/", "root", home_page)  # the public front page (ecqs/public.py)

    @app.context_processor
    def _globals():
        return {
            "csp_nonce": g.get("csp_nonce", ""),
            "role_labels": ROLE_LABELS,
            "current_lang": select_locale(),
        }

    return app


def _security(app: Flask) -> None:
    @app.before_request
    def _nonce():
        g.csp_nonce = secrets.token_urlsafe(16)

    @app.before_request
    def _refuse_nul_bytes():
        # No legitimate text contains NUL; PostgreSQL would refuse it with a server error.
        if "\x00" in request.path or any(
            "\x00" in value for source in (request.args, request.form) for value in source.values()
        ):
            abort(400)

    @app.after_request
    def _headers(response):
        nonce = g.get("csp_nonce", "")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            f"style-src 'self' 'nonce-{nonce}' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if current_user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


_FIXED_URLS: dict = {}


def fixed_url(endpoint: str, **values) -> str:
    """url_for for a link that depends on nothing in the request but the application's root
    (static files, the portal's own links): built once per worker; a page has a dozen and each
    costs about as much as a translated label ten times over. Absolute endpoints only."""
    if endpoint.startswith("."):
        raise ValueError(f"fixed_url needs an absolute endpoint, not {endpoint!r}")
    key = (endpoint, request.script_root if has_request_context() else None, tuple(sorted(values.items())))
    url = _FIXED_URLS.get(key)
    if url is None:
        if len(_FIXED_URLS) > 1000:  # literal links in templates: a few dozen; bounded anyway
            _FIXED_URLS.clear()
        url = _FIXED_URLS[key] = url_for(endpoint, **values)
    return url


def admin_static_url(**values) -> str:
    """`admin_static.url(filename=…)` of Flask-Admin's templates (admin/static.html): a static
    file of the back office (the one Admin, endpoint "admin"), through fixed_url."""
    return fixed_url("admin.static", **values)


def _filters(app: Flask) -> None:
    app.add_template_global(fixed_url)
    app.add_template_global(admin_static_url)

    @app.template_filter("localtime")
    def localtime(value):
        return value.astimezone(cn).strftime("%Y-%m-%d %H:%M:%S") if value else ""

    @app.template_filter("event_label")
    def event_label(value):
        return str(EVENT_LABELS[value]) if value in EVENT_LABELS else value

    @app.template_filter("compact_number")
    def compact_number(value):
        """120万 / 1.2M: a big count in the reader's language (Babel's CLDR data)."""
        return format_compact_decimal(int(value), locale=str(get_locale() or "zh_CN"), fraction_digits=1)

    @app.template_filter("link_status")
    def link_status(value):
        return str(LINK_STATUS_LABELS.get(value, value))
