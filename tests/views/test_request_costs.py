"""What a page costs per request, made cheaper without changing what it shows (bench/RESULTS.md):
templates translate through one function, per-request memos of grid labels, the main menu
remembered a few seconds per session, the session cookie's serializer built once, and on
PostgreSQL a request that only read ends with COMMIT so that psycopg keeps its prepared
statements."""

from __future__ import annotations

import re
import threading

import pytest
from flask_babel import refresh
from itsdangerous import BadSignature
from jinja2 import Environment
from sqlalchemy import event, func, select, text

from ecqs.admin_views import base as admin_base
from ecqs.admin_views import cells, list_rows
from ecqs.extensions import CookieSessionInterface, db, template_gettext
from ecqs.models import Organization
from ecqs.services import read_only_end, short_cache
from tests.conftest import make_org
from tests.instruments.fixtures import make_instrument, make_metrology

CASES = [
    ("{{ _('查询') }}", {}),
    ("{{ _('共 %(n)s 条', n=5) }}", {}),
    ("{{ _('共 %(n)s 条', n=name) }}", {"name": "<b>&</b>"}),
    ("{{ _('完成 100%%') }}", {}),
    ("{{ _('<i>%(x)s</i>', x=name) }}", {"name": "<script>"}),
    ("{% trans n=3 %}共 {{ n }} 条{% endtrans %}", {}),
    ("{% trans name=name %}你好 {{ name }}{% endtrans %}", {"name": "<x>"}),
]


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize(("source", "variables"), CASES)
def test_template_gettext_renders_as_jinjas_newstyle_gettext(app, autoescape, source, variables):
    """Same output as Jinja's own newstyle gettext over the same catalogue, escaping included."""
    from ecqs.extensions import babel

    with app.test_request_context("/"):
        reference = Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)  # noqa: S701 (both modes compared)
        reference.install_gettext_callables(
            gettext=lambda s: babel.domain_instance.get_translations().ugettext(s),
            ngettext=lambda s, p, n: babel.domain_instance.get_translations().ungettext(s, p, n),
            newstyle=True,
        )
        ours = Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)  # noqa: S701
        ours.install_gettext_callables(gettext=lambda s: s, ngettext=lambda s, p, n: s, newstyle=True)
        ours.globals.update(_=template_gettext, gettext=template_gettext)
        expected = reference.from_string(source).render(**variables)
        assert ours.from_string(source).render(**variables) == expected
        # Twice: the second answer comes from the catalogue's memo.
        assert ours.from_string(source).render(**variables) == expected


def test_template_gettext_follows_the_language(client, login_as):
    login_as("admin")
    assert "添加筛选器" in client.get("/admin/organizations/").get_data(as_text=True)
    client.post("/lang/en", data={"next": "/admin/organizations/"})
    refresh()
    page = client.get("/admin/organizations/").get_data(as_text=True)
    refresh()
    assert "Add Filter" in page and "添加筛选器" not in page


def test_request_memo_lives_one_request(app):
    builds = []

    def build():
        builds.append(1)
        return len(builds)

    with app.test_request_context("/"):
        assert list_rows.request_memo("x", "k", build) == 1
        assert list_rows.request_memo("x", "k", build) == 1  # kept: built once
        assert list_rows.request_memo("x", "other", build) == 2
    with app.test_request_context("/"):
        assert list_rows.request_memo("x", "k", build) == 3  # a new request builds again
    # Outside a request: built every time, nothing kept.
    assert list_rows.request_memo("x", "k", build) == 4
    assert list_rows.request_memo("x", "k", build) == 5


def test_grid_badges_follow_the_language_within_one_app_context(client, login_as):
    """The badge memo lives on the request, not on g (which a test's app context keeps across
    requests): a language switch shows the other language's state label."""
    login_as("admin")
    make_org(name="待审核企业", status="pending")

    def badges():
        page = client.get("/admin/organizations/?search=待审核企业").get_data(as_text=True)
        return re.findall(r'data-status="pending">([^<]*)<', page)

    chinese = badges()
    client.post("/lang/en", data={"next": "/"})
    refresh()
    english = badges()
    refresh()
    assert chinese and english and chinese != english
    assert all(label.isascii() for label in english)


def test_state_badge_memo_is_per_workflow(app):
    """One badge formatter serving two views with different state tables gives each its labels."""

    class Flow:
        field, colours = "status", None

        def __init__(self, label):
            self.states = {"pending": label}

    class View:
        def __init__(self, label):
            self.workflow = Flow(label)

    badge = cells.state_badge()
    row = type("Row", (), {"status": "pending"})()
    with app.test_request_context("/"):
        first = badge(View("甲"), None, row, "status")
        second = badge(View("乙"), None, row, "status")
    assert ">甲<" in first and ">乙<" in second


def _menu(page: str) -> str:
    start = page.index('<ul class="nav navbar-nav mr-auto">')
    return page[start : page.index("</ul>", page.index("</ul>", start) + 1)]


def test_main_menu_remembered_per_session_and_language(app, client, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "GRID_CACHE_SECONDS", 30)
    short_cache.clear()
    asked = {"n": 0}
    original = admin_base.RoleView.is_accessible

    def counting(self):
        asked["n"] += 1
        return original(self)

    monkeypatch.setattr(admin_base.RoleView, "is_accessible", counting)
    try:
        login_as("enterprise")
        first = client.get("/admin/notifications/").get_data(as_text=True)
        asked_first = asked["n"]
        second = client.get("/admin/notifications/").get_data(as_text=True)
        # The second page asks only its own door, not every grid of the menu; same menu.
        assert asked_first > 20
        assert asked["n"] - asked_first <= 2
        assert _menu(first) == _menu(second)
        assert "单位/机构管理" not in _menu(first)
        # A change of language is a menu of its own.
        client.post("/lang/en", data={"next": "/"})
        refresh()
        english = client.get("/admin/notifications/").get_data(as_text=True)
        refresh()
        assert _menu(english) != _menu(first)
    finally:
        short_cache.clear()


def test_main_menu_of_each_user_is_their_own(app, monkeypatch):
    from tests.conftest import make_user
    from tests.views.fixtures import log_in

    monkeypatch.setitem(app.config, "GRID_CACHE_SECONDS", 30)
    short_cache.clear()
    try:
        enterprise, admin = make_user("enterprise"), make_user("admin")
        menus = {}
        for user in (enterprise, admin, enterprise):
            page = log_in(app, user).get("/admin/notifications/").get_data(as_text=True)
            menus.setdefault(user.role, []).append(_menu(page))
        assert "单位/机构管理" in menus["admin"][0]
        assert all("单位/机构管理" not in menu for menu in menus["enterprise"])
    finally:
        short_cache.clear()


def test_cookie_session_serializer_built_once_per_key(app):
    interface = CookieSessionInterface()
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    cookie = first.dumps({"lang": "en"})
    old_key = app.secret_key
    try:
        app.secret_key = "another-key"
        renewed = interface.get_signing_serializer(app)
        assert renewed is not first
        with pytest.raises(BadSignature):
            renewed.loads(cookie)
    finally:
        app.secret_key = old_key
    assert interface.get_signing_serializer(app).loads(first.dumps({"a": 1})) == {"a": 1}


# ---- PostgreSQL: a request that only read ends with COMMIT --------------------------------------


@pytest.fixture
def postgres_only():
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the COMMIT of a read-only request is for psycopg's prepared statements")


def _in_own_context(app, work):
    """Run `work` in a thread: no test app context there, so each request gets its own, as when
    served, and its teardown runs at the request's end."""
    box = {}

    def run():
        try:
            box["value"] = work()
        except BaseException as error:  # re-raised in the test's thread
            box["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _transaction_ends(engine, ends: list):
    def commit(conn):
        ends.append("commit")

    def rollback(conn):
        ends.append("rollback")

    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    return lambda: (event.remove(engine, "commit", commit), event.remove(engine, "rollback", rollback))


def _prepared_after_twelve_requests(app, url: str):
    """Twelve anonymous GETs of `url` on one pooled connection: the pages, the transaction ends
    SQLAlchemy saw, whether each statement ran in autocommit, and the statements psycopg
    prepared on the server."""
    # One pooled connection, so that the twelve requests all run on it (with several, each
    # would see fewer than psycopg's five executions before preparing).
    db.session.remove()
    db.engine.dispose()
    ends: list = []
    autocommit: list = []

    def record(conn, cursor, statement, *args):
        autocommit.append((statement, conn.connection.dbapi_connection.autocommit))

    stop_listening = _transaction_ends(db.engine, ends)
    event.listen(db.engine, "before_cursor_execute", record)
    try:

        def queries():
            client = app.test_client()
            return [client.get(url).get_data(as_text=True) for _ in range(12)]

        pages = _in_own_context(app, queries)
    finally:
        stop_listening()
        event.remove(db.engine, "before_cursor_execute", record)

    def prepared():
        # Every idle pooled connection (one, unless another test's thread left more).
        with app.app_context():
            connections = [db.engine.connect() for _ in range(max(1, db.engine.pool.checkedin()))]
            try:
                return [
                    statement
                    for connection in connections
                    for statement in connection.exec_driver_sql(
                        "SELECT statement FROM pg_prepared_statements"
                    )
                    .scalars()
                    .all()
                ]
            finally:
                for connection in connections:
                    connection.close()

    return pages, ends, autocommit, _in_own_context(app, prepared)


def test_read_only_request_commits_and_keeps_prepared_statements(app, postgres_only):
    make_metrology("610000", name="预备语句检定所")
    db.session.commit()
    url = "/public/instruments/institutions?name=预备语句检定所"
    pages, ends, _autocommit, statements = _prepared_after_twelve_requests(app, url)
    assert all("预备语句检定所" in page for page in pages)
    assert ends.count("commit") >= 12 and "rollback" not in ends
    assert any("FROM organizations" in s for s in statements), statements


def test_public_query_runs_outside_a_transaction_and_keeps_its_prepared_statement(
    app, postgres_only, instrument_kinds
):
    """The public query is one SELECT on a connection of its own in autocommit: no BEGIN, no
    COMMIT or ROLLBACK reach the server, and psycopg keeps its prepared statement."""
    org = make_org(name="预备语句企业")
    make_instrument(org, serial_no="PREP-1")
    db.session.commit()
    url = f"/public/instruments/query?enterprise={org.uscc}&serial=PREP-1"
    pages, _ends, autocommit, statements = _prepared_after_twelve_requests(app, url)
    assert all("PREP-1" in page for page in pages)
    queries = [on for statement, on in autocommit if "instruments.serial_no" in statement]
    assert len(queries) == 12 and all(queries)
    assert any("instruments.serial_no" in s for s in statements), statements


def test_request_that_wrote_still_rolls_back(app, postgres_only):
    """Only reads turn the end into a COMMIT: an UPDATE left uncommitted is rolled back."""
    org = make_org(name="回滚企业")
    db.session.commit()

    def uncommitted_write():
        with app.test_request_context("/"):
            db.session.execute(text("UPDATE organizations SET name = '改名' WHERE id = :id"), {"id": org.id})
            assert read_only_end.end_read_only_transaction() is False
            db.session.remove()
        with app.test_request_context("/"):
            db.session.execute(select(func.count()).select_from(Organization)).scalar()
            assert read_only_end.end_read_only_transaction() is True
            # Another connection's write (the rate limiter's, committed on its own) does not
            # count against the session's reads.
            with db.engine.begin() as other:
                other.execute(text("UPDATE organizations SET name = name WHERE id = :id"), {"id": org.id})
            db.session.execute(select(func.count()).select_from(Organization)).scalar()
            assert read_only_end.end_read_only_transaction() is True
            # A failed request is rolled back as before, reads or not.
            db.session.execute(select(func.count()).select_from(Organization)).scalar()
            assert read_only_end.end_read_only_transaction(RuntimeError("boom")) is False
            db.session.remove()
        with app.app_context():
            return db.session.get(Organization, org.id).name

    assert _in_own_context(app, uncommitted_write) == "回滚企业"


def test_read_only_end_leaves_the_loaded_rows_unexpired(app, postgres_only):
    """The COMMIT of a read-only request does not expire what it loaded (the session closes
    next; expiring every row cost more than the commit), and the session keeps its setting."""
    org = make_org(name="不过期企业")
    db.session.commit()

    def read_then_end():
        with app.test_request_context("/"):
            row = db.session.get(Organization, org.id)
            assert read_only_end.end_read_only_transaction() is True
            expired = bool(db.inspect(row).expired_attributes)
            kept = db.session().expire_on_commit
            db.session.remove()
            return expired, kept

    assert _in_own_context(app, read_then_end) == (False, True)


def test_session_without_statements_is_left_alone(app, postgres_only):
    def untouched():
        with app.test_request_context("/"):
            db.session()  # a session, but no statement on it
            return read_only_end.end_read_only_transaction()

    assert _in_own_context(app, untouched) is False


def test_pending_orm_change_is_not_committed(app, postgres_only):
    org = make_org(name="未提交企业")
    db.session.commit()

    def pending_change():
        with app.app_context():
            row = db.session.get(Organization, org.id)
            row.name = "不应保存"
            assert read_only_end.end_read_only_transaction() is False
        with app.app_context():
            return db.session.get(Organization, org.id).name

    assert _in_own_context(app, pending_change) == "未提交企业"


def test_markup_memo_is_bounded(app, monkeypatch):
    """A template translating computed strings cannot grow the memo past its size."""
    from ecqs import extensions

    with app.test_request_context("/"):
        translations = extensions.babel.domain_instance.get_translations()
        memo = translations.__dict__.setdefault("_ecqs_markup", {})
        monkeypatch.setattr(extensions, "_MARKUP_MEMO_SIZE", len(memo) + 5)
        page = app.jinja_env.from_string(
            "{% for i in range(50) %}{{ _('未登记 ' ~ i) }};{% endfor %}"
        ).render()
        assert len(memo) == extensions._MARKUP_MEMO_SIZE
        # Beyond the memo's size the text is still translated (here: shown as it is).
        assert page.count(";") == 50 and "未登记 49" in page


@pytest.mark.parametrize(
    ("value", "url", "expected"),
    [
        (None, "postgresql+psycopg://h/db", None),
        ("off", "postgresql+psycopg://h/db", {"prepare_threshold": None}),
        ("3", "postgresql+psycopg://h/db", {"prepare_threshold": 3}),
        ("off", "sqlite:///x.db", None),
    ],
)
def test_prepare_threshold_setting(monkeypatch, value, url, expected):
    from ecqs import config

    if value is None:
        monkeypatch.delenv("DB_PREPARE_THRESHOLD", raising=False)
    else:
        monkeypatch.setenv("DB_PREPARE_THRESHOLD", value)
    options = config._engine_options(url)
    assert "pool_pre_ping" not in options  # services/pool_ping.py pings idle connections only
    assert options.get("connect_args") == expected


def test_fixed_url_is_url_for_per_application_root(app):
    from ecqs import fixed_url

    with app.test_request_context("/"):
        assert fixed_url("static", filename="css/ecqs.css") == "/static/css/ecqs.css"
        assert fixed_url("auth.set_language", code="en") == "/lang/en"
        with pytest.raises(ValueError, match="absolute endpoint"):
            fixed_url(".index")
    # Outside a request (an app context alone) it answers as url_for does there.
    with app.app_context(), pytest.raises(RuntimeError, match="SERVER_NAME"):
        fixed_url("static", filename="css/ecqs.css")
    # Mounted under a prefix (SCRIPT_NAME), the same link carries the prefix.
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/ecqs"}):
        assert fixed_url("static", filename="css/ecqs.css") == "/ecqs/static/css/ecqs.css"


def test_admin_pages_link_their_static_files(client, login_as):
    login_as("enterprise")
    page = client.get("/admin/notifications/").get_data(as_text=True)
    assert "/admin/static/bootstrap/bootstrap4/js/bootstrap.min.js?v=4.6.2" in page
    assert "/admin/static/vendor/jquery.min.js?v=3.5.1" in page


def test_request_locale_parsed_once_per_process(app):
    """Flask-Babel gets the chosen language as an already parsed Locale (the same object on every
    request), still following the session's choice."""
    from flask import session
    from flask_babel import get_locale

    seen = []
    for lang in ("en", "zh_Hans_CN", "en", None, "fr"):
        with app.test_request_context("/"):
            if lang:
                session["lang"] = lang
            seen.append(get_locale())
            refresh()  # the test's app context spans the requests: forget this one's locale
    assert [str(locale) for locale in seen] == ["en", "zh_Hans_CN", "en", "zh_Hans_CN", "zh_Hans_CN"]
    assert seen[0] is seen[2] and seen[1] is seen[3] is seen[4]


def test_the_ledger_page_is_one_narrow_query_whatever_its_rows(client, login_as, instrument_kinds):
    """The enterprise's ledger: its rows, their catalogue names and divisions in one statement
    (no lazy load per row: the same statements for 2 and for 20 rows), without the organisation's
    columns (every row is the enterprise's own)."""
    from tests.conftest import recorded_statements

    user = login_as("enterprise")
    counts, made = [], 0
    for total in (2, 20):
        for _ in range(total - made):
            make_instrument(user.organization)
        made = total
        db.session.commit()
        client.get("/admin/instruments/")  # warm: the session's own statements settle
        with recorded_statements() as statements:
            page = client.get("/admin/instruments/").get_data(as_text=True)
        assert page.count('name="rowid"') == total
        counts.append(len(statements))
        # The page's select, which carries the grid's bounded count (the filters' option lists
        # aside): the total needs no statement of its own.
        rows = [s for s in statements if re.search(r"\bFROM instruments\b", s) and "LIMIT" in s]
        assert len(rows) == 1, rows
        assert "ecqs_grid_total" in rows[0]
        assert "organizations" not in rows[0]
        assert "divisions" in rows[0] and "instrument_items" in rows[0]
    assert counts[0] == counts[1], counts
