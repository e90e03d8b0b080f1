"""The ledger grids' rows as light records (ecqs/instruments/ledger_rows.py): the same pages as
with ORM instruments — both grids, sorted, searched, filtered, a later page, through the Python
rows and through the template — without a lazy load, and the export as before."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
import pytest
from flask_babel import refresh
from flask_login import login_user
from markupsafe import escape

from ecqs.admin_views import list_rows
from ecqs.extensions import db
from ecqs.instruments import ledger_rows
from ecqs.models import Division, Instrument, InstrumentItem, InstrumentKind
from ecqs.services import workdays
from tests.conftest import make_org, recorded_statements
from tests.instruments.fixtures import kind, make_instrument
from tests.views.fixtures import model_views
from tests.views.test_list_rows import _page

# A county under 市辖区 and one under 县 (neither shown in a full name), a city, a province, a
# 县 itself (shown: it is the division), and a county with its city and province.
DIVISIONS = ("610113", "110105", "500229", "610100", "610000", "500200", "610102")
STATUSES = ("in_use", "stopped", "scrapped")


def _view(app, endpoint):
    return next(v for v in model_views(app) if v.endpoint == endpoint)


@pytest.fixture
def light_spy(monkeypatch):
    """The light records each page got (None: the grid fell back to the ORM's rows)."""
    pages = []
    original = ledger_rows.page_rows

    def spying(*args, **kwargs):
        found = original(*args, **kwargs)
        pages.append(None if found is None else found[0])  # (rows, the count read with them)
        return found

    monkeypatch.setattr(ledger_rows, "page_rows", spying)
    return pages


def _ledger(org, other_org):
    """45 instruments of `org` in every state, division and kind, with names that need escaping,
    and a few of another enterprise; returns the extra kind (another catalogue item)."""
    item = InstrumentItem(code="LR", name="衡器<&>\"'")
    db.session.add(item)
    db.session.flush()
    odd_kind = InstrumentKind(item_id=item.id, code="LR01", name="电子<秤>&'\"")
    db.session.add(odd_kind)
    db.session.commit()
    kinds = (kind("0101").id, kind("0102").id, odd_kind.id)
    today = workdays.today()
    for n in range(45):
        instrument = make_instrument(
            org,
            name=f"LR器具{n:02d}" + ("<b>&amp;</b>" if n % 7 == 0 else ""),
            serial_no=f"LR-{n:03d}",
            kind_id=kinds[n % 3],
            usage_division_code=DIVISIONS[n % len(DIVISIONS)],
            usage_place='车间 "A" & <B>' if n % 4 == 0 else f"车间{n}",
            delivery_mode=("send", "onsite")[n % 2],
            # One without a date; the others all differ (a sort by date has no ties): overdue,
            # due within 30 days, valid.
            valid_until=None if n == 13 else today + timedelta(days=3 * n - 40),
        )
        instrument.status = STATUSES[n % 3]
    for n in range(3):
        make_instrument(other_org, serial_no=f"LR-OTHER-{n}", usage_division_code="110105")
    db.session.commit()
    return odd_kind


def _both(client, view, url):
    """The page with light rows and with the ORM's (this view instance only)."""
    light = client.get(url)
    view.light_list_rows = False
    try:
        orm = client.get(url)
    finally:
        del view.light_list_rows
    assert light.status_code == orm.status_code == 200, (url, light.status_code, orm.status_code)
    return light.get_data(as_text=True), orm.get_data(as_text=True)


def _urls(base, odd_kind, sortable):
    name, serial, valid = sortable
    return [
        f"{base}/",
        f"{base}/?page=1",
        f"{base}/?page=2",
        f"{base}/?page=9",  # past the end: no rows
        f"{base}/?sort={name}",
        f"{base}/?sort={serial}&desc=1&page=1",
        f"{base}/?sort={valid}",
        f"{base}/?sort={valid}&desc=1&page=2",
        f"{base}/?search=LR-01",
        f"{base}/?search=%E8%BD%A6%E9%97%B4",  # 车间
        f"{base}/?flt0_3=scrapped",
        f"{base}/?flt0_4=overdue",
        f"{base}/?flt0_4=due_soon&flt1_3=in_use",
        f"{base}/?flt0_2=110000",
        f"{base}/?flt0_2=500000&sort={serial}",
        f"{base}/?flt0_1={odd_kind.id}",
        f"{base}/?flt0_0={odd_kind.item_id}&page=1&page_size=20",
        f"{base}/?page=1&sort={name}&desc=1&search=LR&flt0_3=in_use",
        f"{base}/?page_size=50",
    ]


@pytest.mark.parametrize(
    ("role", "endpoint", "sortable"),
    [("enterprise", "instruments", (0, 4, 8)), ("admin", "instrument_supervision", (1, 3, 6))],
)
def test_light_rows_give_the_same_pages_as_orm_rows(
    app, client, login_as, instrument_kinds, light_spy, role, endpoint, sortable
):
    user = login_as(role)
    org = user.organization if role == "enterprise" else make_org(name="台账<企业>&")
    odd_kind = _ledger(org, make_org(name="另一家企业"))
    view = _view(app, endpoint)
    compared = 0
    for url in _urls(f"/admin/{endpoint}", odd_kind, sortable):
        light_spy.clear()
        light, orm = _both(client, view, url)
        # The light path really ran (and only for the first request).
        assert len(light_spy) == 1 and light_spy[0] is not None, url
        assert all(type(row) is ledger_rows.LedgerRow for row in light_spy[0]), url
        assert _page(light) == _page(orm), url
        compared += bool(light_spy[0])
        # Through the template too (Flask-Admin's rows, get_list_value on the records).
        view.fast_list_rows = False
        try:
            light, orm = _both(client, view, url)
        finally:
            del view.fast_list_rows
        assert _page(light) == _page(orm), f"{url} (template rows)"
    assert compared >= 15, compared
    # The pages show what they should, so the comparison compares something.
    page = client.get(f"/admin/{endpoint}/?page_size=50").get_data(as_text=True)
    assert "陕西省西安市雁塔区" in page and "北京市朝阳区" in page and "重庆市城口县" in page
    assert "重庆市县" in page and ">陕西省西安市<" in page.replace("\n", "")
    assert str(escape(odd_kind.name)) in page
    assert (str(escape("衡器<&>\"'")) in page) == (role == "enterprise")  # the ledger lists kind.item
    assert "LR器具07&lt;b&gt;&amp;amp;&lt;/b&gt;" in page
    assert 'data-status="scrapped"' in page and "row-overdue" in page and "row-due-soon" in page
    assert ("LR-OTHER-0" in page) == (role == "admin")


def test_a_grid_listing_a_column_the_records_lack_takes_the_orm_rows(
    app, client, login_as, instrument_kinds, light_spy, monkeypatch
):
    user = login_as("enterprise")
    make_instrument(user.organization, serial_no="LR-MANU", manufacturer="某某仪表厂")
    view = _view(app, "instruments")
    monkeypatch.setattr(view, "_list_columns", [*view._list_columns, ("manufacturer", "生产厂家")])
    page = client.get("/admin/instruments/").get_data(as_text=True)
    assert light_spy == [None]
    assert "某某仪表厂" in page and "LR-MANU" in page


@pytest.mark.parametrize(
    ("role", "endpoint"), [("enterprise", "instruments"), ("admin", "instrument_supervision")]
)
def test_the_page_loads_nothing_lazily(app, client, login_as, instrument_kinds, role, endpoint):
    """One statement selects the page's rows with every name it shows, however many kinds,
    items, divisions and organisations they name: no lazy load per record."""
    user = login_as(role)
    org = user.organization if role == "enterprise" else make_org()
    _ledger(org, make_org())
    url = f"/admin/{endpoint}/?page_size=50"
    client.get(url)
    with recorded_statements() as statements:
        page = client.get(url).get_data(as_text=True)
    assert "重庆市城口县" in page
    # (Besides the division filter's options, which read no relation; the page's statement
    # carries the grid's bounded count.)
    rows = [s for s in statements if re.search(r"\bFROM instruments\b", s) and "ORDER BY" in s]
    rows = [s for s in rows if "LIMIT" in s]
    assert len(rows) == 1, rows
    # The light select, not the ORM's (the bounded count's subquery selects the grid's rows).
    assert "instruments.version" not in rows[0].split("(SELECT count(*)")[0]
    # A lazy load asks for one record by its key (the filters' option lists ask for several).
    lazy = [
        s
        for s in statements
        if re.search(r"WHERE (divisions\.code|instrument_kinds\.id|instrument_items\.id) = ", s)
    ]
    assert not lazy, lazy
    # At most the user's own organisation (the session's), none for the rows'.
    assert len([s for s in statements if re.search(r"WHERE organizations\.id = ", s)]) <= 1
    # Twice the divisions and kinds on the page, the same statements.
    more = make_org()
    for n, code in enumerate(("110101", "110102", "500230", "610000")):
        make_instrument(org, serial_no=f"LR-MORE-{n}", usage_division_code=code, kind_id=kind("0102").id)
    make_instrument(more, serial_no="LR-MORE-ORG")
    with recorded_statements() as again:
        client.get(url)

    def page_statements(recorded):  # (the user's own organisation: loaded or not, by the test)
        return [s for s in recorded if not re.search(r"WHERE organizations\.id = ", s)]

    assert len(page_statements(again)) == len(page_statements(statements))


def test_the_export_is_unchanged(app, client, login_as, instrument_kinds):
    """The export reads the grid's ORM query (export_list_query), not the page's records: the
    same workbook with and without light rows, with the names the page shows."""
    user = login_as("enterprise")
    _ledger(user.organization, make_org())
    view = _view(app, "instruments")
    url = "/admin/instruments/export/xlsx/?flt0_2=110000&sort=4"

    def sheet():
        data = client.get(url).data
        return [list(r) for r in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)]

    light = sheet()
    view.light_list_rows = False
    try:
        orm = sheet()
    finally:
        del view.light_list_rows
    assert light == orm
    assert len(light) == 1 + 7  # the header and the Beijing rows (n % 7 == 1)
    assert all("北京市朝阳区" in row for row in light[1:])
    with app.test_request_context("/admin/instruments/"):
        login_user(user)
        assert isinstance(view.export_list_query().first(), Instrument)


def test_a_division_shows_its_full_name(app):
    """The records name a division as Division.full_name does, for every division of the
    reference data (three levels), 市辖区 and 县 left out where they are a parent."""
    divisions = {d.code: d for d in db.session.query(Division)}
    assert len(divisions) > 3000
    for division in divisions.values():
        parent = divisions.get(division.parent_code)
        grandparent = divisions.get(parent.parent_code) if parent is not None else None
        names = (division.name, parent and parent.name, grandparent and grandparent.name)
        assert grandparent is None or grandparent.parent_code is None  # three levels
        assert str(ledger_rows._division_shown(*names)) == division.full_name


# ---- list_rows: the row buttons' URLs, the cells' escaping -----------------------------------


def test_row_button_urls_follow_the_script_root_and_host(app, client, login_as, instrument_kinds):
    """The URL templates remembered across requests are keyed by what url_for builds them from:
    the same ledger under another script root or host gets its own links."""
    user = login_as("enterprise")
    instrument = make_instrument(user.organization, serial_no="LR-ROOT")
    plain = client.get("/admin/instruments/").get_data(as_text=True)
    rooted = client.get("/admin/instruments/", environ_overrides={"SCRIPT_NAME": "/ecqs"}).get_data(
        as_text=True
    )
    again = client.get("/admin/instruments/").get_data(as_text=True)
    details = f"/admin/instruments/details/?id={instrument.id}&amp;url="
    assert f'href="{details}' in plain and f'href="{details}' in again
    assert f'href="/ecqs{details}' in rooted and f'href="{details}' not in rooted
    assert _page(plain) == _page(again)
    # Remembered: the second page asked url_for for no row button.
    view = _view(app, "instruments")
    assert view._ecqs_url_templates
    searched = client.get("/admin/instruments/?search=LR-ROOT").get_data(as_text=True)
    assert "url=/admin/instruments/?search%3DLR-ROOT" in searched  # its own return URL


def test_row_button_urls_are_built_once_across_requests(app, client, login_as, instrument_kinds):
    user = login_as("enterprise")
    for n in range(3):
        make_instrument(user.organization, serial_no=f"LR-ONCE-{n}")
    view = _view(app, "instruments")
    url = "/admin/instruments/?search=LR-ONCE"
    first = client.get(url).get_data(as_text=True)
    built = []

    def counting(endpoint, **kwargs):
        built.append((endpoint, kwargs))
        return type(view).get_url(view, endpoint, **kwargs)

    view.get_url = counting  # this instance only (its class's get_url is still Flask-Admin's)
    try:
        second = client.get(url).get_data(as_text=True)
        other = client.get(url + "-1").get_data(as_text=True)
    finally:
        del view.get_url
    row_urls = [(endpoint, kwargs) for endpoint, kwargs in built if list_rows._ROW_ID in kwargs.values()]
    # The second page asked url_for for no row button; a page with another return URL, for
    # the two that carry it (view, edit: the copy link has none), once for all its rows.
    assert sorted(endpoint for endpoint, _kwargs in row_urls) == [".details_view", ".edit_view"], row_urls
    assert all(kwargs["url"].startswith(url + "-1&") for _endpoint, kwargs in row_urls), row_urls
    assert _page(first) == _page(second)
    assert "LR-ONCE-1" in other and "LR-ONCE-2" not in other

    class OwnUrls(type(view)):
        def get_url(self, endpoint, **kwargs):
            return super().get_url(endpoint, **kwargs)

    # A view with its own get_url builds its URLs every time (it may read anything).
    with app.test_request_context("/admin/instruments/", base_url="http://h.example"):
        assert list_rows._url_key(object.__new__(OwnUrls)) is None
        assert "h.example" in list_rows._url_key(view)


@pytest.mark.parametrize(
    "text",
    ["", "plain", "<a href='x'>&amp;\"</a>", "&&<<>>''\"\"", "中文<b>", "".join(map(chr, range(0x300)))],
)
def test_plain_strings_are_escaped_as_markupsafe_does(text):
    assert text.translate(list_rows._HTML_ESCAPES) == str(escape(text))


def _python_and_templates(client, view, url, **kwargs):
    """The page with its rows, header and page links built in Python, and as Flask-Admin's
    templates build them (this view instance only)."""
    fast = client.get(url, **kwargs)
    view.fast_list_rows = view.lean_list_page = False
    try:
        plain = client.get(url, **kwargs)
    finally:
        del view.fast_list_rows, view.lean_list_page
    assert fast.status_code == plain.status_code == 200, url
    return fast.get_data(as_text=True), plain.get_data(as_text=True)


def test_remembered_headers_page_links_and_cells_follow_language_root_and_list_url(
    app, client, login_as, instrument_kinds
):
    """The header, the page links and the badge and choice cells are remembered across requests
    (list_rows.header_html, list_page.ListPage._page_links, list_rows._column), keyed by the
    language, what url_for builds from (the script root) and the list URL: after each other, in
    both languages, every page is still the one Flask-Admin's templates give."""
    user = login_as("enterprise")
    _ledger(user.organization, make_org(name="另一家企业"))
    view = _view(app, "instruments")
    base = "/admin/instruments/"
    rooted = {"environ_overrides": {"SCRIPT_NAME": "/ecqs"}}
    pages = [
        (base, {}),
        (f"{base}?page=1&sort=0", {}),
        (f"{base}?page=1&sort=0&desc=1", {}),
        (f"{base}?page=1&sort=0&desc=1", rooted),
        (f"{base}?page=2&sort=0&desc=1&search=LR", {}),
    ]
    seen = {}
    for lang in ("zh_Hans_CN", "en", "zh_Hans_CN"):
        client.post(f"/lang/{lang}", data={"next": "/"})
        refresh()  # (the test keeps its app context, and with it the locale, across requests)
        for url, kwargs in pages:
            fast, plain = _python_and_templates(client, view, url, **kwargs)
            assert _page(fast) == _page(plain), (lang, url, kwargs)
            seen.setdefault((url, bool(kwargs)), set()).add(_page(fast))
    # Remembered (the memos were asked), and the pages compared differ where they should.
    assert view._ecqs_headers and view._ecqs_page_links and view._ecqs_cells_by_value
    assert all(len(variants) == 2 for variants in seen.values()), "each page differs in en and zh"
    assert len({page for variants in seen.values() for page in variants}) == 2 * len(pages)
    rooted_page = next(iter(seen[(pages[3][0], True)]))
    # Its page link (next) and its sort link (the column sorted, the other way) under its root.
    assert 'href="/ecqs/admin/instruments/?page=2&amp;sort=0&amp;desc=1&amp;page_size=20"' in rooted_page
    assert 'href="/ecqs/admin/instruments/?page=1&amp;sort=0&amp;page_size=20"' in rooted_page
