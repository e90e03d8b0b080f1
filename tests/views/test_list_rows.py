"""Grid rows built in Python (ecqs/admin_views/list_rows.py) and the few seconds' memory of filter
options and planner estimates (ecqs/services/short_cache.py): the same page as before, for every
grid and role of the audit world, and nothing remembered across scopes."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest

from ecqs.admin_views import list_rows
from ecqs.extensions import db
from ecqs.services import grid_counts, short_cache, workdays
from tests.conftest import make_org, recorded_statements
from tests.instruments.fixtures import make_instrument
from tests.views.fixtures import build_world, log_in, model_views

ROW_BLOCKS = re.compile(
    r"{%-?\s*block\s+(list_row|list_row_actions|list_row_actions_column|list_header|list_row_actions_header)\b"
)
EXTENDS = re.compile(r"{%-?\s*extends\s+['\"]([^'\"]+)['\"]")


def _table_body(html: str) -> str:
    start = html.index("</thead>")
    body = html[start : html.index("</table>", start)]
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", body)).strip()


# What differs between two requests of the same page: the CSP nonce and the signed CSRF token.
PER_REQUEST = re.compile(r'(nonce="|name="csrf_token" value="|name="csrf-token" content=")[^"]*"')


def _page(html: str) -> str:
    """The page with the per-request values masked and the whitespace between tags ignored."""
    html = PER_REQUEST.sub(r'\1…"', html)
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()


@pytest.fixture
def spy(monkeypatch):
    """Counts the rows the Python path built (not handed back to the template)."""
    built = {"rows": 0}
    original = list_rows.rows_html

    def counting(view, context, data, *args, **kwargs):
        html = original(view, context, data, *args, **kwargs)
        built["rows"] += len(data) if html is not None else 0
        return html

    monkeypatch.setattr(list_rows, "rows_html", counting)
    return built


def test_rows_built_in_python_match_the_template_on_every_grid(app, spy):
    world = build_world()
    clients = {role: log_in(app, user) for role, user in world.users.items()}
    problems, compared = [], 0
    for view in model_views(app):
        if not getattr(view, "fast_list_rows", False):
            continue
        for role in sorted(view.roles):
            client = clients[role]
            before = spy["rows"]
            fast = client.get(f"{view.url}/")
            if fast.status_code != 200 or spy["rows"] == before:
                continue  # no rows here, or rows the template builds (unknown buttons)
            view.fast_list_rows = False  # this instance only: the template's rows
            try:
                slow = client.get(f"{view.url}/")
            finally:
                del view.fast_list_rows
            compared += 1
            fast_html, slow_html = fast.get_data(as_text=True), slow.get_data(as_text=True)
            if _table_body(fast_html) != _table_body(slow_html):
                problems.append(f"{role} {view.endpoint}: rows differ from the template's")
            elif _page(fast_html) != _page(slow_html):  # the header, the pager
                problems.append(f"{role} {view.endpoint}: the page differs from the template's")
    assert not problems, "\n".join(problems)
    assert compared >= 15, compared  # the world really has rows in many grids


def test_delete_form_built_on_use_gives_the_same_page(app, monkeypatch):
    """A grid page builds Flask-Admin's delete form only when its rows show a trash icon
    (admin_views/base.py FormOnUse): every grid and role gives the same page as with the form
    built up front, and the pages without trash icons never build it."""
    from ecqs.admin_views import base as admin_base

    world = build_world()
    clients = {role: log_in(app, user) for role, user in world.users.items()}
    built = []
    original = list_rows.FormOnUse.built

    def counting(self):
        built.append(self._form is None)
        return original(self)

    monkeypatch.setattr(list_rows.FormOnUse, "built", counting)
    problems, with_trash, without_trash = [], 0, 0
    for view in model_views(app):
        for role in sorted(view.roles):
            built.clear()
            lazy = clients[role].get(f"{view.url}/")
            if lazy.status_code != 200:
                continue
            page = lazy.get_data(as_text=True)
            trash = "fa-trash" in page
            with_trash += trash
            without_trash += not trash
            if not trash and any(built):
                problems.append(f"{role} {view.endpoint}: the delete form was built for nothing")
            view.delete_form = lambda view=view: admin_base.ModelView.delete_form(view)  # up front
            try:
                eager = clients[role].get(f"{view.url}/").get_data(as_text=True)
            finally:
                del view.delete_form
            if _page(page) != _page(eager):
                problems.append(f"{role} {view.endpoint}: the page differs")
    assert not problems, "\n".join(problems)
    assert with_trash and without_trash, (with_trash, without_trash)


def test_remembered_actions_and_row_buttons_are_flask_admins(app):
    """RoleView keeps the bulk actions' texts (per language) and the row buttons (per switch)
    across pages: for every grid and role, in both languages, they are what Flask-Admin's own
    methods give, and a switch turned off takes its button away."""
    from flask import g, session
    from flask_admin.actions import ActionsMixin
    from flask_admin.model import BaseModelView
    from flask_babel import refresh

    from ecqs.admin_views import base as admin_base

    world = build_world()
    compared = 0
    for lang in ("zh_Hans_CN", "en", "zh_Hans_CN"):
        for view in model_views(app):
            if not isinstance(view, admin_base.RoleView):
                continue
            for role in sorted(view.roles):
                with app.test_request_context("/"):
                    session["lang"] = lang
                    refresh()
                    g._login_user = world.users[role]
                    for _ in range(2):  # the second from the memo
                        assert view.get_actions_list() == ActionsMixin.get_actions_list(view), (lang, role)
                        ours = [a.inner for a in admin_base.RoleView.get_list_row_actions(view)]
                        theirs = BaseModelView.get_list_row_actions(view)
                        assert [(type(a), str(a.title or "")) for a in ours] == [
                            (type(a), str(a.title or "")) for a in theirs
                        ], (role, view.endpoint)
                    compared += 1
    assert compared >= 90, compared
    view = next(v for v in model_views(app) if v.endpoint == "instrument_items")
    with app.test_request_context("/"):
        g._login_user = world.users["admin"]
        assert any(type(a.inner).__name__ == "EditRowAction" for a in view.get_list_row_actions())
        view.can_edit = False  # this instance only
        try:
            assert not any(type(a.inner).__name__ == "EditRowAction" for a in view.get_list_row_actions())
        finally:
            del view.can_edit


def test_grids_whose_templates_change_the_row_blocks_keep_the_template(app):
    """A list template (or one it extends, up to admin/ecqs_list.html) that overrides a row
    block would be bypassed by the Python rows: such a grid must say fast_list_rows = False."""
    loader = app.jinja_env.loader
    problems = []
    for view in model_views(app):
        name, overrides = view.list_template, False
        while name and name != "admin/ecqs_list.html":
            source = loader.get_source(app.jinja_env, name)[0]
            overrides = overrides or bool(ROW_BLOCKS.search(source))
            parent = EXTENDS.search(source)
            name = parent.group(1) if parent else None
        if overrides and getattr(view, "fast_list_rows", False):
            problems.append(f"{view.endpoint} ({view.list_template}) overrides a row block")
    assert not problems, "\n".join(problems)
    # The check really looks: the unit's 执业公示申报单 grid adds 打印/上传 to its row buttons.
    assert any(not getattr(v, "fast_list_rows", True) for v in model_views(app))


def test_a_refused_row_action_has_no_button_in_python_rows(app, client, login_as, instrument_kinds):
    """The ledger's 编辑 button is refused on a scrapped instrument (edit_refusal): the Python row
    leaves it out there and keeps it on the others."""
    user = login_as("enterprise")
    live = make_instrument(user.organization, serial_no="ROW-LIVE")
    scrapped = make_instrument(user.organization, serial_no="ROW-GONE")
    scrapped.status = "scrapped"
    db.session.commit()
    page = client.get("/admin/instruments/").get_data(as_text=True)
    assert f"/admin/instruments/edit/?id={live.id}&amp;" in page
    assert f"/admin/instruments/edit/?id={scrapped.id}&amp;" not in page
    assert f"/admin/instruments/details/?id={scrapped.id}&amp;" in page
    assert f"copy_from={scrapped.id}" in page


def test_a_later_page_sorted_and_searched_matches_the_template(app, client, login_as, instrument_kinds):
    """Page links (the pager), sort links (the header) and the action form of a third page,
    sorted and searched, in Python: the same page as Flask-Admin's template builds."""
    user = login_as("enterprise")
    # Cells the Python path keeps once a page per value or record (delivery mode, state badge,
    # division, catalogue kind) vary from row to row here.
    divisions, modes = ("610113", "610102"), ("send", "onsite")
    for n in range(45):
        instrument = make_instrument(
            user.organization,
            serial_no=f"PAGE-{n:03d}",
            usage_division_code=divisions[n % 2],
            delivery_mode=modes[n % 3 % 2],
            valid_until=workdays.today() + timedelta(days=(n % 4 - 1) * 20),
        )
        if n % 5 == 0:
            instrument.status = "scrapped"
    db.session.commit()
    url = "/admin/instruments/?page=2&sort=1&desc=1&search=PAGE"
    view = next(v for v in model_views(app) if v.endpoint == "instruments")
    fast = client.get(url).get_data(as_text=True)
    view.fast_list_rows = False
    try:
        slow = client.get(url).get_data(as_text=True)
    finally:
        del view.fast_list_rows
    assert len(set(re.findall(r"PAGE-\d+", fast))) == 5  # the third page: 45 = 20 + 20 + 5
    assert "现场检定" in fast and "送检" in fast and 'data-status="scrapped"' in fast
    assert "/admin/instruments/?page=1&amp;sort=1&amp;desc=1&amp;search=PAGE" in fast  # the second
    assert _page(fast) == _page(slow)


@pytest.mark.parametrize("order", ["", "&sort=1&desc=1"])
def test_a_big_grid_counts_every_row_whatever_the_page_and_order(client, login_as, instrument_kinds, order):
    """The ledger's total (simple pager, grid_counts) counts the whole filtered ledger, not the
    page: in the default order from the page's own query, sorted from a query of its own."""
    user = login_as("enterprise")
    for n in range(45):
        make_instrument(user.organization, serial_no=f"CNT-{n:03d}")
    make_instrument(make_org(), serial_no="CNT-OTHER")  # another enterprise's: not counted
    db.session.commit()
    for page in (0, 2):
        html_page = client.get(f"/admin/instruments/?page={page}{order}").get_data(as_text=True)
        assert 'data-total-kind="exact">共 45 条' in html_page
        searched = client.get(f"/admin/instruments/?page={page}{order}&search=CNT-01").get_data(as_text=True)
        assert 'data-total-kind="exact">共 10 条' in searched


@pytest.mark.parametrize("return_url", ['/admin/instruments/?search=a&b=<2>"', None])
def test_the_action_forms_written_out_fields_are_wtforms_own(app, return_url):
    """admin/actions.html writes the action form's hidden fields out: the same markup as
    rendering them through WTForms (with and without a return URL, escaped alike)."""
    view = next(v for v in model_views(app) if v.endpoint == "instruments")
    with app.test_request_context("/admin/instruments/"):
        form = view.action_form()
        wtforms = [str(form.url(value=return_url) if return_url else form.url()), str(form.action())]
        page = app.jinja_env.from_string(
            "{% import 'admin/actions.html' as a with context %}{{ a.form([('delete', 'x')], '/u') }}"
        ).render(action_form=form, return_url=return_url)
    written = re.findall(r'<input id="(?:url|action)"[^>]*>', page)
    assert written == wtforms


def test_numbered_urls_build_once_and_fall_back_where_they_must():
    built = []

    def build(n, invert=False):
        built.append(n)
        return f"/grid/?sort={n}&desc={int(invert)}" if n else "/grid/"

    urls = list_rows.NumberedUrls(build, special=(0,))
    assert [urls(3), urls(7), urls(12)] == [
        "/grid/?sort=3&desc=0",
        "/grid/?sort=7&desc=0",
        "/grid/?sort=12&desc=0",
    ]
    assert len(built) == 1  # one url_for for the three links
    assert urls(0) == "/grid/"  # special: built as it is
    assert urls(4, True) == "/grid/?sort=4&desc=1"  # other arguments: built as they are
    assert urls("5") == "/grid/?sort=5&desc=0"  # not a whole number: built
    # A link that holds the stand-in twice (a search for it) is built every time.
    twice = list_rows.NumberedUrls(lambda n: f"/grid/?sort={n}&search={list_rows._NUMBER}")
    assert twice(2) == f"/grid/?sort=2&search={list_rows._NUMBER}"


# ---- short_cache: filter options and planner estimates ---------------------------------------


def _division_options(page: str) -> set[str]:
    """The 使用地点行政区划 filter's option labels, from the page's filter-groups JSON."""
    raw = re.search(r'<div id="filter-groups-data" class="d-none">(.*?)</div>', page, re.S).group(1)
    groups = json.loads(html.unescape(raw))
    return {
        label.strip("　")
        for items in groups.values()
        for item in items
        if item.get("options") and any(len(str(code)) == 6 for code, _label in item["options"])
        for _code, label in item["options"]
    }


def _filter_groups(page: str) -> dict:
    raw = re.search(r'<div id="filter-groups-data" class="d-none">(.*?)</div>', page, re.S).group(1)
    return json.loads(html.unescape(raw))


def test_filter_list_remembered_per_language(app, client, login_as, instrument_kinds):
    """The filter list is worked out once per language (RoleView._get_filter_groups): each
    language still gets its own labels, and a page's dynamic options are not kept in it."""
    from flask_babel import refresh

    user = login_as("enterprise")
    make_instrument(user.organization, serial_no="L1", usage_division_code="610113")

    def labels(groups):
        return set(groups) | {item["operation"] for items in groups.values() for item in items}

    first = _filter_groups(client.get("/admin/instruments/").get_data(as_text=True))
    assert "器具项别" in labels(first)
    client.post("/lang/en", data={"next": "/"})
    refresh()  # the test's app context outlives the request (as the folded-page test does)
    english = _filter_groups(client.get("/admin/instruments/").get_data(as_text=True))
    assert not any(re.search(r"[\u4e00-\u9fff]", text) for text in labels(english)), labels(english)
    assert len(english) == len(first)
    client.post("/lang/zh_Hans_CN", data={"next": "/"})
    refresh()
    again = _filter_groups(client.get("/admin/instruments/").get_data(as_text=True))
    assert again == first
    # The remembered list holds no per-request options (the divisions of this ledger).
    view = next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", "") == "instruments")
    for groups in view._ecqs_filter_groups.values():
        for items in groups.values():
            for item in items:
                assert not any(str(code) == "610113" for code, _label in item.get("options") or ())


def test_filter_options_are_remembered_per_scope(app, client, login_as, instrument_kinds, monkeypatch):
    """With the cache on, each enterprise's 使用地点 filter still lists only its own divisions."""
    monkeypatch.setitem(app.config, "GRID_CACHE_SECONDS", 30)
    short_cache.clear()
    try:
        user = login_as("enterprise")
        make_instrument(user.organization, serial_no="D1", usage_division_code="610113")
        other = make_org(name="另一家企业", division_code="110105")
        make_instrument(other, serial_no="D2", usage_division_code="110105")
        own = _division_options(client.get("/admin/instruments/").get_data(as_text=True))
        assert "雁塔区" in own and "朝阳区" not in own
        # The key names the ledger the options were computed for.
        cached = short_cache.lookup("filter_options", ("divisions", "", user.organization_id))
        assert cached and all(not code.startswith("11") for code, _name in cached)
        assert short_cache.lookup("filter_options", ("divisions", "", other.id)) is None
        # Within the cache's seconds a new division shows up only when the cache is cleared.
        make_instrument(user.organization, serial_no="D3", usage_division_code="610102")
        assert "新城区" not in _division_options(client.get("/admin/instruments/").get_data(as_text=True))
        short_cache.clear()
        assert "新城区" in _division_options(client.get("/admin/instruments/").get_data(as_text=True))
    finally:
        short_cache.clear()


def test_cache_off_computes_every_time(app, client, login_as, instrument_kinds):
    assert app.config["GRID_CACHE_SECONDS"] == 0
    user = login_as("enterprise")
    make_instrument(user.organization, serial_no="E1", usage_division_code="610113")
    assert "雁塔区" in _division_options(client.get("/admin/instruments/").get_data(as_text=True))
    make_instrument(user.organization, serial_no="E2", usage_division_code="610102")
    assert "新城区" in _division_options(client.get("/admin/instruments/").get_data(as_text=True))
    assert short_cache.lookup("filter_options", ("divisions", "", user.organization_id)) is None


def test_planner_estimate_remembered_but_counts_always_fresh(app, monkeypatch, instrument_kinds):
    """The estimate only decides whether to count; a count runs on every page, bounded."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("planner estimates exist on PostgreSQL only (SQLite: bounded count, not cached)")
    from ecqs.models import Instrument

    monkeypatch.setitem(app.config, "GRID_CACHE_SECONDS", 30)
    short_cache.clear()
    calls = {"estimate": 0, "count": 0}
    estimate, count = grid_counts.planner_estimate, grid_counts.bounded_count

    def counting_estimate(query):
        calls["estimate"] += 1
        return estimate(query)

    def counting_count(query, limit):
        calls["count"] += 1
        return count(query, limit)

    monkeypatch.setattr(grid_counts, "planner_estimate", counting_estimate)
    monkeypatch.setattr(grid_counts, "bounded_count", counting_count)
    org = make_org(name="计数企业")
    make_instrument(org, serial_no="C1")
    query = db.session.query(Instrument).filter(Instrument.organization_id == org.id)
    try:
        assert grid_counts.total(query, cache_key=("t", org.id)) == 1
        make_instrument(org, serial_no="C2")
        assert grid_counts.total(lambda: query, cache_key=("t", org.id)) == 2  # fresh count
        assert calls == {"estimate": 1, "count": 2}
        grid_counts.total(query, cache_key=("t", org.id + 1))  # another scope: its own estimate
        assert calls["estimate"] == 2
    finally:
        short_cache.clear()


# ---- the session: one statement per request ----------------------------------------------------


def test_a_logged_in_request_loads_session_and_user_in_one_statement(app, client, login_as):
    login_as("enterprise")
    with recorded_statements() as statements:
        response = client.get("/admin/")
    assert response.status_code == 200
    session_reads = [s for s in statements if "FROM user_sessions" in s]
    assert len(session_reads) == 1, session_reads
    assert "JOIN users" in session_reads[0]
    separate = [s for s in statements if re.search(r"FROM users\s+WHERE users\.id = ", s)]
    assert not separate, separate
    # The organisation's columns that the access rules read come with it (no lazy load), the
    # rest of the organisation only when a page reads it.
    assert "JOIN organizations" in session_reads[0]
    assert "organizations_1.status" in session_reads[0] and "organizations_1.uscc" not in session_reads[0]
    assert not [s for s in statements if re.search(r"FROM organizations\s+WHERE organizations\.id = ", s)]


def _folded_and_plain(client, view, url):
    folded = client.get(url)
    view.folded_templates = False  # this instance only: the app's own environment
    try:
        plain = client.get(url)
    finally:
        del view.folded_templates
    return folded, plain


def compare_every_grid(app, urls_of, pair, what: str) -> tuple[list[str], int, list[str]]:
    """Every grid (`model_views`) of every role of the audit world at `urls_of(view)`, in Chinese
    and then in English: `pair(client, view, url)` gives the page and the one it must equal.
    Returns the differences, the pages compared and the English pages."""
    from flask_babel import refresh

    world = build_world()
    clients = {role: log_in(app, user) for role, user in world.users.items()}
    problems, compared, english = [], 0, []
    for lang in ("zh_Hans_CN", "en"):
        if lang == "en":
            for client in clients.values():
                client.post("/lang/en", data={"next": "/"})
        refresh()
        for view in model_views(app):
            for role in sorted(getattr(view, "roles", ())):
                for url in urls_of(view):
                    page, reference = pair(clients[role], view, url)
                    assert page.status_code == reference.status_code, (role, url)
                    if page.status_code != 200:
                        continue
                    compared += 1
                    text = page.get_data(as_text=True)
                    if _page(text) != _page(reference.get_data(as_text=True)):
                        problems.append(f"{lang} {role} {url}: the {what} page differs")
                    if lang == "en":
                        english.append(text)
        refresh()
    return problems, compared, english


def test_pages_compiled_with_their_literals_folded_match_the_plain_templates(app):
    """Every grid (and its new-record form) of every role, in Chinese and in English: the page
    rendered through the folding environment (ecqs/folded_templates.py) is the plain one."""
    problems, compared, english = compare_every_grid(
        app, lambda view: (f"{view.url}/", f"{view.url}/new/"), _folded_and_plain, "folded"
    )
    assert not problems, "\n".join(problems)
    assert compared >= 60, compared
    assert any("Add Filter" in page for page in english)
    assert not any("添加筛选器" in page for page in english)


def test_a_second_grid_page_asks_no_literal_of_flask_admins_catalogue(
    app, client, login_as, monkeypatch, instrument_kinds
):
    from ecqs.admin_views import base as admin_base

    asked = []
    original = admin_base.admin_gettext

    def counting(string, **variables):
        asked.append(string)
        return original(string, **variables)

    monkeypatch.setattr(admin_base, "admin_gettext", counting)
    monkeypatch.setattr(admin_base, "ADMIN_CONTEXT_FUNCTIONS", (("_gettext", counting),))
    user = login_as("enterprise")
    make_instrument(user.organization, serial_no="FOLD-ADMIN")
    client.get("/admin/instruments/")
    asked.clear()
    page = client.get("/admin/instruments/").get_data(as_text=True)
    assert "FOLD-ADMIN" in page and "添加筛选器" in page and "新增" in page
    literals = {"Add Filter", "Create", "Create New Record", "With selected", "Delete Record", "Export"}
    assert not literals & set(asked), asked
    # What is left is texts with variables or of the view's own actions, a handful.
    assert len(asked) < 15, asked


def test_list_url_remembered_per_root_is_flask_admins(app):
    """The grid's own link without arguments is kept per application root, host and page size
    (RoleView._get_list_url); it is Flask-Admin's link for each, and links with arguments are
    built as before."""
    from flask_admin.model.base import BaseModelView, ViewArgs

    view = next(v for v in model_views(app) if v.endpoint == "instruments")
    cases = [
        ViewArgs(),
        ViewArgs(page_size=50),
        ViewArgs(page=2),
        ViewArgs(sort=1, sort_desc=1),
        ViewArgs(search="电子秤 & 天平"),
        ViewArgs(extra_args={"flt": "x"}),
    ]
    seen = set()
    for root, host in (("", "localhost"), ("/ecqs", "localhost"), ("", "ecqs.example.cn")):
        for _ in range(2):  # the second from the memo
            with app.test_request_context("/admin/instruments/", base_url=f"http://{host}{root}/"):
                for args in cases:
                    url = view._get_list_url(args)
                    assert url == BaseModelView._get_list_url(view, args), (root, host)
                    seen.add(url)
    assert "/ecqs/admin/instruments/?page_size=20" in seen and "/admin/instruments/?page_size=50" in seen
    # So the header's and pager's memos (list_rows, list_page) still take the grid's links.
    assert list_rows.flask_admins_list_url(view)
