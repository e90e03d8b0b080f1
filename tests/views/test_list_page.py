"""The lean list page (admin/ecqs_model_list.html, ecqs/admin_views/list_page.py): the same page
as Flask-Admin's own admin/model/list.html, for every grid, role and language, with filters,
search, sort and other pages; and the pieces written out of Flask-Admin's macros (admin/base.html's
messages, menu links and icon) the same as the macros."""

from __future__ import annotations

from urllib.parse import quote_plus

import pytest
from flask import flash
from flask_admin.menu import MenuLink
from markupsafe import escape

from ecqs.admin_views import list_page, menu
from tests.views.fixtures import admin_of, model_views
from tests.views.test_list_rows import _page, compare_every_grid


@pytest.fixture
def lean_pages(monkeypatch):
    """Counts the pages rendered through the lean template."""
    used = {"lean": 0}
    original = list_page.prepare

    def counting(view, kwargs):
        original(view, kwargs)
        used["lean"] += kwargs["list_base"] == list_page.LEAN_TEMPLATE

    monkeypatch.setattr(list_page, "prepare", counting)
    return used


def _urls(view) -> list[str]:
    """The grid's first page, a later page sorted, searched and with another page size, and a
    filtered page (the first filter, where the grid has one)."""
    urls = [f"{view.url}/", f"{view.url}/?page=1&sort=0&desc=1&search=a%26b%3D%22%E9%99%95&page_size=50"]
    if view._filters:
        urls.append(f"{view.url}/?flt0_0=1&search=x")
    return urls


def _lean_and_plain(client, view, url):
    lean = client.get(url)
    view.lean_list_page = False  # this instance only: Flask-Admin's list.html
    try:
        plain = client.get(url)
    finally:
        del view.lean_list_page
    return lean, plain


def test_the_lean_list_page_is_flask_admins_on_every_grid_role_and_language(app, lean_pages):
    problems, compared, english = compare_every_grid(app, _urls, _lean_and_plain, "lean")
    assert not problems, "\n".join(problems)
    assert compared >= 150, compared
    assert lean_pages["lean"] >= compared  # every page compared came through the lean template
    # The pages really show what the comparison covers: the menu bar, filters, search, pager.
    assert any("Add Filter" in page and 'name="search" value="a&amp;b=&#34;陕"' in page for page in english)
    assert any('class="page-item active"' in page for page in english)


def test_the_lean_page_without_folding_and_with_a_flash_message(app, client, login_as, lean_pages):
    """The lean page through the app's own environment (no folded labels) and with a message
    queued: Flask-Admin's page."""
    login_as("enterprise")
    view = next(v for v in model_views(app) if v.endpoint == "instruments")
    view.folded_templates = False
    try:
        with client.session_transaction() as session:
            session["_flashes"] = [("error", "<b>坏</b>"), ("", "plain"), ("message", "info")]
        lean = client.get("/admin/instruments/?search=x&sort=2").get_data(as_text=True)
        with client.session_transaction() as session:
            session["_flashes"] = [("error", "<b>坏</b>"), ("", "plain"), ("message", "info")]
        view.lean_list_page = False
        plain = client.get("/admin/instruments/?search=x&sort=2").get_data(as_text=True)
    finally:
        view.__dict__.pop("lean_list_page", None)
        del view.folded_templates
    assert lean_pages["lean"] == 1
    assert "alert-danger" in lean and "&lt;b&gt;坏" in lean
    assert _page(lean) == _page(plain)


def test_page_size_links_from_one_url_match_each_built():
    built = []

    def build(size):
        built.append(size)
        return f"/g/?page=2&search=page_size%3D20&page_size={size}&flt0_1=a%26page_size%3D20"

    urls = list_page.PageSizeUrls(build, (20, 50, 100))
    assert [urls(20), urls(50), urls(100)] == [
        "/g/?page=2&search=page_size%3D20&page_size=20&flt0_1=a%26page_size%3D20",
        "/g/?page=2&search=page_size%3D20&page_size=50&flt0_1=a%26page_size%3D20",
        "/g/?page=2&search=page_size%3D20&page_size=100&flt0_1=a%26page_size%3D20",
    ]
    assert built == [20]
    assert urls(30) == build(30)  # not an option: built
    twice = list_page.PageSizeUrls(lambda s: f"/g/?page_size={s}&x=1&page_size={s}", (20, 50))
    assert twice(50) == "/g/?page_size=50&x=1&page_size=50"  # not found once: built


@pytest.mark.parametrize(
    "return_url",
    ["/admin/instruments/?page_size=20", "/a/?search=陕西 a&b=<2>\"'~!*()&flt0_0=%2F", ""],
)
def test_a_link_with_its_value_quoted_in_is_url_fors(app, return_url):
    view = next(v for v in model_views(app) if v.endpoint == "instruments")
    with app.test_request_context("/admin/instruments/"):
        page = list_page.ListPage(view, {})
        built = escape(view.get_url(".create_view", url=return_url))
        assert page._link_with(".create_view", "url", return_url) == built
        assert page._link_with(".create_view", "url", return_url) == built  # from the memo
    ascii_text = "".join(map(chr, range(128)))
    assert ascii_text.translate(list_page._ASCII_QUOTED) == quote_plus(ascii_text, safe=list_page.QUERY_SAFE)


# ---- admin/base.html: layout.html's macros written out ----------------------------------------


def _base_block(app, name, **context):
    template = app.jinja_env.get_template("admin/base.html")
    ctx = template.new_context(context)
    return "".join(template.blocks[name](ctx))


def _layout_macro(app, call, **context):
    source = "{% import 'admin/layout.html' as layout with context %}" + call
    return app.jinja_env.from_string(source).render(**context)


def test_base_messages_are_layout_messages(app):
    def rendered(queued, render):
        with app.test_request_context("/admin/"):  # a request's messages are read once
            for category, message in queued:
                flash(message, category)
            return render()

    for queued in ([], [("error", "<b>x</b>"), ("", "plain"), ("message", "m"), ("warning", "w")]):
        ours = rendered(queued, lambda: _base_block(app, "messages"))
        theirs = rendered(queued, lambda: _layout_macro(app, "{{ layout.messages() }}"))
        assert _page(ours) == _page(theirs)
        assert ("alert-danger" in ours and "&lt;b&gt;x" in ours) == bool(queued)


class _Icon:
    def __init__(self, icon_type, value):
        self.icon_type, self.value = icon_type, value

    def get_icon_type(self):
        return self.icon_type

    def get_icon_value(self):
        return self.value


@pytest.mark.parametrize(
    "item",
    [
        None,
        _Icon(None, None),
        _Icon("glyph", "g-<x>"),
        _Icon("fa", "fa-x"),
        _Icon("image", "a.png"),
        _Icon("image-url", "/i.png"),
        _Icon("other", "x"),
    ],
)
def test_menu_icon_is_layouts(app, item):
    with app.test_request_context("/admin/"):
        theirs = _layout_macro(app, "{{ layout.menu_icon(item) }}", item=item)
        assert _page(str(menu.admin_menu_icon(item))) == _page(theirs)


def test_base_menu_links_are_layouts(app, monkeypatch):
    admin = admin_of(app)
    links = [MenuLink("链接 <1>", url="/x?a=1&b=2"), MenuLink("二", url="/y", target="_blank")]
    monkeypatch.setattr(admin, "_menu_links", links)
    view = admin.index_view
    with app.test_request_context("/admin/"):
        ours = _base_block(app, "menu_links", admin_view=view)
        theirs = _layout_macro(app, "{{ layout.menu_links() }}", admin_view=view)
    assert "链接 &lt;1&gt;" in ours and 'target="_blank"' in ours
    assert _page(ours) == _page(f'<ul class="nav navbar-nav navbar-right">{theirs}</ul>')


def test_main_menu_builds_layouts_menu(app, client, login_as):
    """main_menu imports admin/layout.html with the page's context to build the menu: the same
    menu as the macro called from a page."""
    user = login_as("enterprise")
    view = next(v for v in model_views(app) if v.endpoint == "instruments")
    with app.test_request_context("/admin/instruments/"):
        from flask_login import login_user

        login_user(user)
        ours = app.jinja_env.from_string("{{ main_menu(admin_view) }}").render(admin_view=view)
        theirs = _layout_macro(app, "{{ layout.menu() }}", admin_view=view)
    assert 'href="/admin/instruments/"' in ours
    assert _page(ours) == _page(theirs)
