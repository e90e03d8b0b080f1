"""A grid row as HTML, built in Python: the markup of Flask-Admin's `list_row` block
(admin/model/list.html: the selection checkbox, the row buttons of row_actions.html, one cell per
column through the view's `get_list_value`), without a Jinja macro call, a `url_for` and a
context lookup for every button of every row — the larger half of a grid page's cost
(bench/RESULTS.md). The cells go through the same formatters, and a row button appears only where
`row_action_refusal` allows it, as with AllowedRowAction.

Only the button types whose markup is known here are built (view, edit, endpoint and plain links);
a row with any other button (delete forms, modal buttons, template buttons) or an editable column
is left to the template (`None`), as is every grid whose template overrides the row blocks
(`fast_list_rows = False`, checked by tests/views/test_list_rows.py)."""

from __future__ import annotations

import re
from operator import attrgetter

from flask.globals import _cv_request
from flask_admin.base import BaseView
from flask_admin.contrib.sqla import ModelView as SQLAModelView
from flask_admin.model import BaseModelView
from flask_admin.model import template as row_template
from flask_babel import get_locale
from markupsafe import Markup, escape

from ecqs.extensions import babel

VIEW_ICON = "fa fa-eye glyphicon glyphicon-eye-open"
EDIT_ICON = "fa fa-pencil glyphicon glyphicon-pencil"
_ROW_ID = "__ecqs_row_id__"  # stands for the row's id in a URL built once per page
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.~-]+")  # characters url_for leaves as they are


def request_memo(name: str, key, build):
    """`build()` once a request for `key` in the memo `name`, the same value after. The memo
    lives on the request context, not on g: g belongs to the app context, which a test may keep
    across several requests and languages. Outside a request nothing is kept."""
    ctx = _cv_request.get(None)
    if ctx is None:
        return build()
    memo = ctx.__dict__.get(name)
    if memo is None:
        memo = ctx.__dict__[name] = {}
    value = memo.get(key)
    if value is None:
        value = memo[key] = build()
    return value


def _link(title, icon_class: str):
    """The markup of a link button around its (escaped) URL: head + url + tail."""
    return (
        '<a class="icon" href="',
        f'" title="{escape(title or "")}">\n  <span class="{escape(icon_class)}"></span>\n</a>\n',
    )


# Row-button URLs with the row-id stand-in, escaped and split around it, remembered across
# requests by everything url_for builds them from (see _url_key); bounded: return URLs vary.
_URL_TEMPLATES_MAX = 512


def _url_key(view):
    """What a row button's URL depends on besides its endpoint and arguments: the app's views
    (this view), the request's host, scheme and script root (url_for's adapter) and blueprint
    (a `.endpoint` is its). None where url_for may read more: a view with its own get_url, or
    an app with URL defaults callbacks (they may read anything)."""
    if type(view).get_url is not BaseView.get_url:
        return None
    ctx = _cv_request.get(None)
    if ctx is None or any(ctx.app.url_default_functions.values()):
        return None
    req = ctx.request
    return (req.host, req.scheme, req.script_root, req.blueprint)


def _url_template(view, endpoint: str, kwargs: dict, url_key) -> tuple[str, str, str]:
    """view.get_url(endpoint, **kwargs), escaped, as str.partition(_ROW_ID) gives it."""

    def build():
        return str(escape(view.get_url(endpoint, **kwargs))).partition(_ROW_ID)

    if url_key is None:
        return build()
    try:
        key = (*url_key, endpoint, tuple(kwargs.items()))
        hash(key)
    except TypeError:  # an unhashable argument (a list): built each time
        return build()
    templates = view.__dict__.setdefault("_ecqs_url_templates", {})
    parts = templates.get(key)
    if parts is None:
        if len(templates) >= _URL_TEMPLATES_MAX:
            templates.clear()
        parts = templates[key] = build()
    return parts


def _url_button(view, endpoint: str, kwargs: dict, id_arg: str, title, icon_class: str, url_key=None):
    """A button linking to view.get_url(endpoint, **kwargs) with kwargs[id_arg] = the row's id
    (argument order as the template's), as a _Button. For ids that need no quoting (Flask-Admin
    passes them as strings: "42"), the URL is built once (and remembered across requests,
    _url_template) and the id put in its place: url_for costs as much as the rest of a button."""
    head, tail = _link(title, icon_class)
    prefix, found, suffix = _url_template(view, endpoint, kwargs, url_key)

    def build(row, row_id):
        return f"{head}{escape(view.get_url(endpoint, **{**kwargs, id_arg: row_id}))}{tail}"

    if not found:  # (a link without the stand-in is built for each row)
        return (None, None, None, build)
    return (None, f"{head}{prefix}", f"{suffix}{tail}", build)


def _compile_button(view, action, return_url: str, url_key=None):
    """One row button as (refusal, before, after, build): not shown on a row where
    `refusal(row)` (None: never refused); its markup `before + row_id + after` for a plain id
    where `before` is not None, else `build(row, row_id)`. None for a button whose markup is
    not known here."""
    inner = getattr(action, "inner", None)
    if inner is not None:  # AllowedRowAction: only where the action is allowed
        shown = _compile_button(view, inner, return_url, url_key)
        if shown is None:
            return None
        refusal, before, after, build = shown
        outer = view.row_action_rule(inner)
        if refusal is not None:  # (nested: the outer rule first, as the template asks)
            outer = lambda row, first=outer, second=refusal: first(row) or second(row)  # noqa: E731
        return (outer, before, after, build)
    kind = type(action)
    if kind is row_template.ViewRowAction:
        kwargs = {"id": _ROW_ID, "url": return_url}
        return _url_button(view, ".details_view", kwargs, "id", action.title, VIEW_ICON, url_key)
    if kind is row_template.EditRowAction:
        kwargs = {"id": _ROW_ID, "url": return_url}
        return _url_button(view, ".edit_view", kwargs, "id", action.title, EDIT_ICON, url_key)
    if kind is row_template.EndpointLinkRowAction:
        kwargs = {**(action.url_args or {}), action.id_arg: _ROW_ID}
        return _url_button(
            view, action.endpoint, kwargs, action.id_arg, action.title, action.icon_class, url_key
        )
    if kind is row_template.LinkRowAction:
        head, tail = _link(action.title, action.icon_class)
        if isinstance(action.url, str):
            return (
                None,
                None,
                None,
                lambda row, row_id: f"{head}{escape(action.url.format(row_id=row_id))}{tail}",
            )
        return (
            None,
            None,
            None,
            lambda row, row_id: f"{head}{escape(action.url(action, row_id, row))}{tail}",
        )
    return None


# How a column's cells are made (_Column.mode): in rows_html's loop (its value, formatter,
# choices, type formatter); once a page per value of the one attribute its formatter reads
# (`value_of`); or by the view's own get_list_value (`cell`).
_INLINE, _BY_VALUE, _OWN = 0, 1, 2


class _RowPlan:
    """What is the same on every row of a grid page, worked out once a request: the checkbox's
    title, the row buttons and how each column's cell is made."""

    def __init__(self, view, context, list_columns, actions, row_actions, return_url):
        self.checkbox = None
        if actions:
            title = escape(context.resolve("_gettext")("Select record"))
            self.checkbox = (
                '<td>\n<input type="checkbox" name="rowid" class="action-checkbox" value="',
                f'" title="{title}" />\n</td>\n',
            )
        self.buttons = None
        if view.column_display_actions:
            url_key = _url_key(view)
            self.buttons = [_compile_button(view, action, return_url, url_key) for action in row_actions]
        self.known = self.buttons is None or None not in self.buttons
        # Shared by the columns: a type's formatter (isinstance in declared order) and a
        # record's text, each worked out once a page (_Cells).
        self.cells = _Cells(view)
        self.columns = [_column(view, column, self.cells) for column, _name in list_columns]
        self.id_of, self.row_id = _pk_getter(view), _row_id(view)


def _plan(view, context, list_columns, actions, row_actions, return_url: str) -> _RowPlan:
    key = (
        view.endpoint,
        return_url,
        bool(actions),
        tuple(map(id, row_actions)),
        tuple([column for column, _name in list_columns]),
    )
    return request_memo(
        "_ecqs_row_plans",
        key,
        lambda: _RowPlan(view, context, list_columns, actions, row_actions, return_url),
    )


def row_html(view, context, row, list_columns, actions, row_actions, return_url: str) -> Markup | None:
    """The cells of one grid row (inside its <tr>), or None for the template to render it."""
    rows = rows_html(view, context, (row,), list_columns, actions, row_actions, return_url)
    if rows is None:
        return None
    return Markup(rows[len("<tr>\n") : -len("</tr>\n")])  # noqa: S704 (rows_html's markup)


def rows_html(view, context, data, list_columns, actions, row_actions, return_url: str) -> Markup | None:
    """All the rows of a grid page (<tr> … </tr> each), or None where any row is left to the
    template: one call from the page instead of a block call per row and cell. The loop below
    makes each cell without a call where it can (a string's escape is one str.translate)."""
    if view.column_editable_list:
        return None
    plan = _plan(view, context, list_columns, actions, row_actions, return_url)
    if not plan.known:
        return None
    checkbox, buttons, columns, id_of, row_id_of = (
        plan.checkbox,
        plan.buttons,
        plan.columns,
        plan.id_of,
        plan.row_id,
    )
    cells = plan.cells
    by_type, records = cells.by_type, cells.records
    out = []  # the page's pieces (+= a tuple: no call per piece)
    for row in data:
        if id_of is not None and type(value := id_of(row)) is int:
            row_id, plain = str(value), True  # digits: plain, and their own markup
        else:
            row_id, plain = row_id_of(row)
        out += ("<tr>\n",)
        if checkbox is not None:
            out += (checkbox[0], row_id if plain else escape(row_id), checkbox[1])
        if buttons is not None:
            out += ('<td class="list-buttons-column">\n',)
            for refusal, before, after, build in buttons:
                if refusal is not None and refusal(row):
                    continue
                out += (before, row_id, after) if plain and before is not None else (build(row, row_id),)
            out += ("</td>\n",)
        for head, tail, mode, get, formatter, column, choices, key_of, by_value, cell in columns:
            if mode == _BY_VALUE:
                try:
                    out += (by_value[key_of(row)],)
                except KeyError:
                    key = key_of(row)
                    html = by_value[key] = cell(row, context)
                    out += (html,)
                except TypeError:  # an unhashable value: its cell each time
                    out += (cell(row, context),)
                continue
            if mode == _OWN:
                out += (cell(row, context),)
                continue
            if formatter is not None:
                value = formatter(view, context, row, column)
            else:
                try:
                    value = get(row)
                except AttributeError:  # as rec_getattr: a missing link in "a.b" shows nothing
                    value = None
            if choices is not None:
                value = choices.get(value) or value
            else:
                kind = type(value)
                fmt = by_type[kind] if kind in by_type else cells.type_formatter(kind)
                if fmt is _RECORD:
                    try:
                        text = records[id(value)]
                    except KeyError:
                        text = records[id(value)] = escape(value)
                    out += (head, text, tail)
                    continue
                if fmt is not None:
                    value = fmt(view, value, column)
            kind = type(value)
            if kind is str:  # escape()'s text in one call
                out += (head, value.translate(_HTML_ESCAPES), tail)
            elif kind is Markup:  # (a badge, a coloured date: escape() would give it back)
                out += (head, value, tail)
            else:
                out += (head, escape(value), tail)
        out += ("</tr>\n",)
    # Every value in a cell went through escape() (a Markup value, e.g. a badge, stays as it is).
    return Markup("".join(out))  # noqa: S704


def _pk_getter(view):
    """The row's id attribute's getter where the view's ids are Flask-Admin's for a one-column
    key (a whole number gives its digits: rows_html writes them in without a call)."""
    key = getattr(view, "_primary_key", None)
    if type(view).get_pk_value is SQLAModelView.get_pk_value and isinstance(key, str):
        return attrgetter(key)
    return None


def _row_id(view):
    """view.get_pk_value as a function of the row, with whether the id is plain (url_for leaves
    it as it is). Flask-Admin's own, for a one-column key holding a whole number, gives its
    digits: they are worked out here without its escaping (no "." or "," to escape)."""
    key = getattr(view, "_primary_key", None)
    if type(view).get_pk_value is SQLAModelView.get_pk_value and isinstance(key, str):
        value_of = attrgetter(key)

        def row_id(row):
            value = value_of(row)
            if type(value) is int:
                return str(value), True
            value = view.get_pk_value(row)
            return value, _PLAIN_ID.fullmatch(str(value)) is not None

        return row_id

    def any_row_id(row):
        value = view.get_pk_value(row)
        return value, _PLAIN_ID.fullmatch(str(value)) is not None

    return any_row_id


_RECORD = object()  # a type of records (list_rows._cell: shown as its text, once a page)
# What markupsafe.escape replaces in a plain string (tests/views/test_list_rows.py compares).
_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&#39;", '"': "&#34;"})


def _own_list_value(view) -> bool:
    """The view takes its list values the way Flask-Admin does (nothing overridden)."""
    kind = type(view)
    return (
        kind.get_list_value is BaseModelView.get_list_value
        and kind._get_list_value is BaseModelView._get_list_value
        and kind._get_field_value is BaseModelView._get_field_value
    )


class _Cells:
    """What a page's columns share: the type formatter of each type met (isinstance in the
    declared order) and the text of each record met.

    A record shown as its name (a division, a catalogue entry) recurs on many rows: its text is
    worked out once a page. Records only (ORM records, or a page's light records that say
    `__grid_record__`, instruments/ledger_rows.py): they live as long as the page's rows, so
    their id() names the same record throughout (a computed value's id may be reused once it
    is freed)."""

    def __init__(self, view):
        self.own = _own_list_value(view)
        self.formatters = view.column_formatters
        self.choices = view._column_choices_map
        self.type_formatters = view.column_type_formatters
        self.by_type: dict = {}
        self.records: dict = {}
        self._catalogue = None

    def catalogue(self):
        """The request's catalogue of the application's texts (one object per language)."""
        if self._catalogue is None:
            self._catalogue = babel.domain_instance.get_translations()
        return self._catalogue

    def type_formatter(self, kind):
        found = next((f for typeobj, f in self.type_formatters.items() if issubclass(kind, typeobj)), None)
        if found is None and (hasattr(kind, "__mapper__") or hasattr(kind, "__grid_record__")):
            found = _RECORD
        self.by_type[kind] = found
        return found


def _column(view, column: str, cells: _Cells) -> tuple:
    """How rows_html makes the column's cells: (head, tail, mode, value getter, formatter,
    column, choices, key getter, cells by value, cell function)."""
    head, tail = f'<td class="col-{column.translate(_HTML_ESCAPES)}">\n', "\n</td>\n"
    if not cells.own:
        cell = _cell(view, column, cells, head, tail)
        return (head, tail, _OWN, None, None, column, None, None, None, cell)
    formatter = cells.formatters.get(column)
    choices = cells.choices.get(column) or None
    value_of = getattr(formatter, "value_of", None)
    if value_of is None:
        return (head, tail, _INLINE, attrgetter(column), formatter, column, choices, None, None, None)
    # A formatter whose markup depends on one attribute only (a choice label, a state badge):
    # the cell's markup once for each value of that attribute and language (texts are
    # translated), remembered across requests (with the formatter and choices it was made by).
    memo = view.__dict__.setdefault("_ecqs_cells_by_value", {})
    key = (cells.catalogue(), column)
    entry = memo.get(key)
    if entry is None or entry[0] is not formatter or entry[1] is not choices or len(entry[2]) > _BY_VALUE_MAX:
        if len(memo) > _BY_VALUE_MAX:
            memo.clear()
        entry = memo[key] = (formatter, choices, {})
    cell = _cell(view, column, cells, head, tail)
    key_of = attrgetter(value_of(view, column))
    return (head, tail, _BY_VALUE, None, formatter, column, choices, key_of, entry[2], cell)


_BY_VALUE_MAX = 256  # languages × columns, and values of an attribute: a handful in practice


def _cell(view, column: str, cells: _Cells, head: str, tail: str):
    """The column's cell (its <td>) as a function of the row, the way rows_html's loop makes it
    (for a value_of formatter's first cell of each value, and a view's own get_list_value)."""
    if not cells.own:
        return lambda row, context: f"{head}{escape(view.get_list_value(context, row, column))}{tail}"
    formatter = cells.formatters.get(column)
    path = attrgetter(column)
    choices = cells.choices.get(column) or None

    def cell(row, context) -> str:
        if formatter is not None:
            value = formatter(view, context, row, column)
        else:
            try:
                value = path(row)
            except AttributeError:  # as rec_getattr: a missing link in "a.b" shows nothing
                value = None
        if choices is not None:
            value = choices.get(value) or value
        else:
            kind = type(value)
            fmt = cells.by_type[kind] if kind in cells.by_type else cells.type_formatter(kind)
            if fmt is _RECORD:
                text = cells.records.get(id(value))
                if text is None:
                    text = cells.records[id(value)] = escape(value)
                return f"{head}{text}{tail}"
            if fmt is not None:
                value = fmt(view, value, column)
        if type(value) is str:  # escape()'s text in one call
            return f"{head}{value.translate(_HTML_ESCAPES)}{tail}"
        return f"{head}{escape(value)}{tail}"

    return cell


_NUMBER = 9876543210123  # stands for the number in a link built once per page


class NumberedUrls:
    """A grid's links that differ only in one whole number (the page of the pager, the column of
    a sort link): `build(n)` once with a stand-in number, then the number put in its place. Any
    other call, or a link where the stand-in is not found exactly once (a search for it), goes
    to `build`. `special` numbers (the first page: a link without a page) always go to `build`."""

    def __init__(self, build, special=()):
        self.build, self.special, self.template = build, frozenset(special), None

    def __call__(self, n, *args, **kwargs):
        if args or kwargs or type(n) is not int or n in self.special:
            return self.build(n, *args, **kwargs)
        if self.template is None:
            url = self.build(_NUMBER)
            self.template = url if url.count(str(_NUMBER)) == 1 else ""
        return self.template.replace(str(_NUMBER), str(n)) if self.template else self.build(n)


_CHEVRON = '<span class="fa fa-chevron-{0} glyphicon glyphicon-chevron-{0}"></span>'


def header_html(view, context, list_columns, actions, sort_column, sort_desc, sort_url) -> Markup:
    """The cells of a grid's header row: the markup of Flask-Admin's `list_header` block (the
    select-all checkbox, the buttons' column, each column's name with its sort link and its
    description), with the sort links from one url_for (NumberedUrls: a url_for per sortable
    column costs more than the rest of the header)."""
    admin_text = context.resolve("_gettext")  # Flask-Admin's own texts (its catalogue)
    key = _header_key(view, context, actions, sort_column, sort_desc, sort_url, admin_text)
    if key is None:
        return _header_html(view, admin_text, list_columns, actions, sort_column, sort_desc, sort_url)
    memo = view.__dict__.setdefault("_ecqs_headers", {})
    entry = memo.get(key)
    if entry is None or entry[0] is not list_columns or entry[1] is not view.column_descriptions:
        if len(memo) >= _HEADERS_MAX:
            memo.clear()
        html = _header_html(view, admin_text, list_columns, actions, sort_column, sort_desc, sort_url)
        entry = memo[key] = (list_columns, view.column_descriptions, html)
    return entry[2]


# Headers remembered across requests (header_html), bounded: sort states × searches × pages.
_HEADERS_MAX = 512
# Flask-Admin's index_view's sort link builder (model/base.py): its links are the page's own list
# URL (return_url) with another sort column and order.
_SORT_URL = "BaseModelView.index_view.<locals>.sort_url"


def flask_admins_list_url(view) -> bool:
    """The view builds its list links as Flask-Admin does (its own `_get_list_url`, or one that
    says it gives the same links: RoleView's, which keeps the link without arguments)."""
    method = type(view)._get_list_url
    return method is BaseModelView._get_list_url or getattr(method, "flask_admins_links", False)


def _header_key(view, context, actions, sort_column, sort_desc, sort_url, admin_text):
    """What a header depends on besides the view's configuration (its columns, their labels and
    descriptions, which ones sort): the language, the sort state, the list URL's arguments (its
    sort links are that URL with another sort: return_url, built by the same url_for), what
    url_for builds links from (_url_key), the buttons' column and the select-all checkbox. None
    where it may depend on more: another sort link builder, a view with its own URLs."""
    if getattr(sort_url, "__qualname__", None) != _SORT_URL:
        return None
    if not flask_admins_list_url(view):
        return None
    url_key = _url_key(view)
    return_url = context.resolve("return_url")
    if url_key is None or type(return_url) is not str:
        return None
    language = str(get_locale())
    display_actions = bool(view.column_display_actions)
    return (
        *url_key,
        language,
        admin_text,
        return_url,
        sort_column,
        bool(sort_desc),
        bool(actions),
        display_actions,
    )


def _header_html(view, admin_text, list_columns, actions, sort_column, sort_desc, sort_url) -> Markup:
    parts = []
    if actions:
        parts.append(
            '<th class="list-checkbox-column">\n<input type="checkbox" name="rowtoggle" '
            f'class="action-rowtoggle" title="{escape(admin_text("Select all records"))}" />\n</th>\n'
        )
    if view.column_display_actions:
        parts.append('<th class="">&nbsp;</th>\n')
    if not isinstance(sort_url, NumberedUrls):
        sort_url = NumberedUrls(sort_url)
    descriptions = view.column_descriptions or {}
    for column, (c, name) in enumerate(list_columns):
        label = escape(name)
        cell = [f'<th class="column-header col-{escape(c.replace(".", "-"))}">\n']
        if view.is_sortable(c):
            title = escape(admin_text("Sort by %(name)s", name=name))
            if sort_column == column:
                chevron = _CHEVRON.format("down" if sort_desc else "up")
                url = escape(sort_url(column, True))
                cell.append(f'<a href="{url}" title="{title}">\n{label}\n{chevron}\n</a>\n')
            else:
                url = escape(sort_url(column))
                cell.append(f'<a href="{url}" title="{title}">{label}</a>\n')
        else:
            cell.append(f"{label}\n")
        if descriptions.get(c):
            cell.append(
                '<a class="fa fa-question-circle glyphicon glyphicon-question-sign"\n'
                f'title="{escape(descriptions[c])}"\nhref="javascript:void(0)" data-role="tooltip"\n></a>\n'
            )
        cell.append("</th>\n")
        parts.append("".join(cell))
    # Every label, title and URL above went through escape().
    return Markup("".join(parts))  # noqa: S704


class AllowedRowAction(row_template.BaseListRowAction):
    """A grid's row button shown only on the rows where its action is allowed: the view's
    `row_action_refusal`, which asks the same predicate as the action itself."""

    def __init__(self, view, inner):
        super().__init__(title=inner.title)
        self.view = view
        self.inner = inner

    def render(self, context, row_id, row):
        if self.view.row_action_refusal(self.inner, row):
            return ""
        return self.inner.render(context, row_id, row)


class FormOnUse:
    """A form built the first time a page reads it: a grid page gets Flask-Admin's delete form
    for its rows' trash icons, which most grids do not show (ledger: 180 calls for nothing)."""

    __slots__ = ("_build", "_form")

    def __init__(self, build):
        self._build, self._form = build, None

    def built(self):
        if self._form is None:
            self._form = self._build()
        return self._form

    def __getattr__(self, name):
        return getattr(self.built(), name)

    def __iter__(self):
        return iter(self.built())

    def __getitem__(self, name):
        return self.built()[name]

    def __contains__(self, name):
        return name in self.built()
