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

from flask.globals import _cv_request
from flask_admin.model import template as row_template
from markupsafe import Markup, escape

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


def _link(url: str, title, icon_class: str) -> str:
    # The title (a lazy translation) and icon are the same on every row: escaped once a request.
    tail = request_memo(
        "_ecqs_row_links",
        (title, icon_class),
        lambda: f'" title="{escape(title or "")}">\n  <span class="{escape(icon_class)}"></span>\n</a>\n',
    )
    return f'<a class="icon" href="{escape(url)}{tail}'


def _url(view, endpoint: str, kwargs: dict, id_arg: str, row_id) -> str:
    """view.get_url(endpoint, **kwargs) with kwargs[id_arg] = row_id (argument order as the
    template's). For ids that need no quoting (Flask-Admin passes them as strings: "42"), the
    URL is built once per request and page and the id put in its place: url_for costs as much as
    the rest of a button."""
    if not _PLAIN_ID.fullmatch(str(row_id)):  # an id url_for would quote: built as it is
        return view.get_url(endpoint, **{**kwargs, id_arg: row_id})
    key = (view.endpoint, endpoint, tuple(kwargs.items()))
    template = request_memo("_ecqs_row_urls", key, lambda: view.get_url(endpoint, **kwargs))
    return template.replace(_ROW_ID, str(row_id))


def _button(view, action, row_id, row, return_url: str) -> str | None:
    """One row button's markup, "" where its action is refused on this row, None if unknown."""
    inner = getattr(action, "inner", None)
    if inner is not None:  # AllowedRowAction: only where the action is allowed
        if view.row_action_refusal(inner, row):
            return ""
        action = inner
    kind = type(action)
    if kind is row_template.ViewRowAction:
        url = _url(view, ".details_view", {"id": _ROW_ID, "url": return_url}, "id", row_id)
        return _link(url, action.title, VIEW_ICON)
    if kind is row_template.EditRowAction:
        url = _url(view, ".edit_view", {"id": _ROW_ID, "url": return_url}, "id", row_id)
        return _link(url, action.title, EDIT_ICON)
    if kind is row_template.EndpointLinkRowAction:
        kwargs = {**(action.url_args or {}), action.id_arg: _ROW_ID}
        url = _url(view, action.endpoint, kwargs, action.id_arg, row_id)
        return _link(url, action.title, action.icon_class)
    if kind is row_template.LinkRowAction:
        if isinstance(action.url, str):
            url = action.url.format(row_id=row_id)
        else:
            url = action.url(action, row_id, row)
        return _link(url, action.title, action.icon_class)
    return None


def row_html(view, context, row, list_columns, actions, row_actions, return_url: str) -> Markup | None:
    """The cells of one grid row (inside its <tr>), or None for the template to render it."""
    if view.column_editable_list:
        return None
    row_id = view.get_pk_value(row)
    parts = []
    if actions:
        # The same on every row: translated and escaped once a request.
        title = request_memo(
            "_ecqs_row_links", "Select record", lambda: escape(context.resolve("_gettext")("Select record"))
        )
        parts.append(
            '<td>\n<input type="checkbox" name="rowid" class="action-checkbox" '
            f'value="{escape(row_id)}" title="{title}" />\n</td>\n'
        )
    if view.column_display_actions:
        buttons = []
        for action in row_actions:
            html = _button(view, action, row_id, row, return_url)
            if html is None:
                return None
            buttons.append(html)
        parts.append(f'<td class="list-buttons-column">\n{"".join(buttons)}</td>\n')
    for column, _name in list_columns:
        value = escape(view.get_list_value(context, row, column))
        parts.append(f'<td class="col-{escape(column)}">\n{value}\n</td>\n')
    # Every value above went through escape() (a Markup value, e.g. a badge, stays as it is).
    return Markup("".join(parts))  # noqa: S704
