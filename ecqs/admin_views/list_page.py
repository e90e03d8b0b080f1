"""The page around a grid's table, lean: admin/ecqs_model_list.html, Flask-Admin's list page
(admin/model/list.html) without its imports with context and its macro per piece, which cost
more than half of a grid page's template work (bench/RESULTS.md). The menu bar, the filter and
action forms, the pager and the tail's data are built here in Flask-Admin's markup: texts that
depend only on the language, and links that depend only on the application's root, once per view
(`ListPage.memo`); everything that depends on the request (the return URL, filters, search, the
user's actions, the page) for each page, the page-size links and the pager from one url_for each.

A grid renders the lean page where `lean_list_page` is on (RoleView) and the page needs nothing
the lean page leaves out (editable columns, modal windows, maps); tests/views/test_list_page.py
renders every grid both ways and compares."""

from __future__ import annotations

import re
from urllib.parse import quote_plus

from flask import current_app, request
from flask_admin import BaseView
from flask_admin.model import template as row_template
from flask_babel import get_locale
from jinja2 import pass_context
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape

from ecqs.admin_views import list_rows
from ecqs.admin_views.list_rows import _NUMBER, NumberedUrls

LEAN_TEMPLATE = "admin/ecqs_model_list.html"
PLAIN_TEMPLATE = "admin/model/list.html"

# Row buttons list_rows builds in Python (with AllowedRowAction around them): a page whose buttons
# are all of these kinds never needs row_actions.html's macros.
PYTHON_BUTTONS = (
    row_template.ViewRowAction,
    row_template.EditRowAction,
    row_template.EndpointLinkRowAction,
    row_template.LinkRowAction,
)
QUERY_SAFE = "!$'()*,/:;?@"  # what werkzeug leaves unquoted in a query value (werkzeug.urls)
_STAND_IN = "__ecqs_value__"  # stands for a link's one value in a link built once
# lib.html's form_js (no maps, no editable columns: the lean page is not used there), then list.html's
TAIL_SCRIPTS = (
    ("vendor/bootstrap-daterangepicker/daterangepicker.js", "1.3.22"),
    ("admin/js/form.js", "1.0.1"),
    ("admin/js/bs4_modal.js", "1.0.0"),
    ("admin/js/bs4_filters.js", "1.0.0"),
)
ACTION_SCRIPTS = (("admin/js/actions.js", "1.0.0"),)
_NONCE = "__ecqs_nonce__"  # stands for the page's nonce attribute in scripts built once
STAND_IN = str(_NUMBER)  # NumberedUrls' stand-in for the number
# quote_plus(text, safe=QUERY_SAFE) of an ASCII text, one character at a time
_ASCII_QUOTED = {
    c: ch if ch.isalnum() or ch in "_.-~" + QUERY_SAFE else "+" if ch == " " else f"%{c:02X}"
    for c, ch in ((c, chr(c)) for c in range(128))
}


def prepare(view, kwargs: dict) -> None:
    """Chooses the list page's base template (the `list_base` admin/ecqs_list.html extends) and,
    for the lean page, gives it its helper and page-size links from one url_for."""
    lean = (
        view.lean_list_page
        and not view.column_editable_list
        and not (view.create_modal or view.edit_modal or view.details_modal)
        and not current_app.config.get("FLASK_ADMIN_MAPS")
    )
    kwargs["list_base"] = LEAN_TEMPLATE if lean else PLAIN_TEMPLATE
    if lean:
        if "page_size_url" in kwargs:
            kwargs["page_size_url"] = PageSizeUrls(kwargs["page_size_url"], view.page_size_options)
        kwargs["list_page"] = ListPage(view, kwargs)


class PageSizeUrls:
    """page_size_url's links (the list's URL with another page_size) from one url_for: the link
    of the first option with its `page_size=N` parameter replaced by the other option. Flask-Admin
    keeps a page size only if it is an option (a stand-in number would not survive), and werkzeug
    quotes `&` and `=` inside names and values, so the parameter is found exactly once; where it
    is not, every link is built."""

    def __init__(self, build, options):
        self.build, self.options, self.parts = build, tuple(options), None

    def __call__(self, size, *args, **kwargs):
        if args or kwargs or type(size) is not int or size not in self.options:
            return self.build(size, *args, **kwargs)
        if self.parts is None:
            first = self.options[0]
            url = self.build(first)
            found = list(re.finditer(rf"(?<=[?&])page_size={first}(?=&|$)", url))
            self.parts = (url[: found[0].start()], url[found[0].end() :]) if len(found) == 1 else ()
        if not self.parts:
            return self.build(size)
        head, tail = self.parts
        return f"{head}page_size={size}{tail}"


def _hidden(name, value) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">\n'


class ListPage:
    """The lean list page's helper for one page of one grid (`list_page` in its context), from
    the values Flask-Admin's index_view renders the page with (`args`)."""

    def __init__(self, view, args: dict):
        self.view, self.args = view, args
        memo = view.__dict__.get("_ecqs_list_page_memo")
        if memo is None:
            memo = view.__dict__["_ecqs_list_page_memo"] = {}
        # (language or application root, what…) -> text or markup that depends on nothing else
        self.memo = memo
        self.language = None

    def _remember(self, key, build):
        value = self.memo.get(key)
        if value is None:
            if len(self.memo) > 256:  # languages × roots × actions × options: a handful
                self.memo.clear()
            value = self.memo[key] = build()
        return value

    def _text(self, context, text: str, **variables) -> Markup:
        """The page's `_gettext(text, **variables)` (Flask-Admin's texts, our wording), escaped,
        once per language."""
        if self.language is None:
            self.language = str(get_locale())
        key = (self.language, text, *variables.items())
        return self._remember(key, lambda: escape(context.resolve("_gettext")(text, **variables)))

    def _link(self, endpoint: str, **values) -> Markup:
        """view.get_url(endpoint, **values), escaped, once per application root."""
        key = (request.script_root, endpoint, *values.items())
        return self._remember(key, lambda: escape(self.view.get_url(endpoint, **values)))

    def _link_with(self, endpoint: str, name: str, value: str) -> Markup:
        """view.get_url(endpoint, **{name: value}), escaped: built once per application root with
        a stand-in for the value, which is then quoted into it as werkzeug quotes it."""
        view = self.view
        if type(view).get_url is not BaseView.get_url or type(value) is not str:
            return escape(view.get_url(endpoint, **{name: value}))

        def build():
            url = view.get_url(endpoint, **{name: _STAND_IN})
            return url.split(_STAND_IN) if url.count(_STAND_IN) == 1 else ()

        parts = self._remember((request.script_root, endpoint, name, _STAND_IN), build)
        if not parts:
            return escape(view.get_url(endpoint, **{name: value}))
        head, tail = parts
        quoted = value.translate(_ASCII_QUOTED) if value.isascii() else quote_plus(value, safe=QUERY_SAFE)
        return escape(f"{head}{quoted}{tail}")

    def template_rows(self, row_actions) -> bool:
        """Whether the template may build this page's rows (list_rows leaves them to it): then
        the page imports row_actions.html, whose macros the row buttons call by name."""
        view = self.view
        if not view.fast_list_rows or view.column_editable_list:
            return True
        if not view.column_display_actions:
            return False
        return any(type(getattr(action, "inner", action)) not in PYTHON_BUTTONS for action in row_actions)

    @pass_context
    def menu_head(self, context) -> Markup:
        """The menu bar before its model_menu_bar_before_filters block: the list's tab, the
        create link and export_options (model/layout.html)."""
        view, args = self.view, self.args
        count = args["count"]
        parts = [
            f'<li class="nav-item">\n<a href="javascript:void(0)" class="nav-link active">'
            f"{self._text(context, 'List')}{f' ({escape(count)})' if count else ''}</a>\n</li>\n"
        ]
        if view.can_create:
            url = self._link_with(".create_view", "url", args["return_url"])
            parts.append(
                f'<li class="nav-item">\n<a href="{url}" title="{self._text(context, "Create New Record")}" '
                f'class="nav-link">{self._text(context, "Create")}</a></li>\n'
            )
        if view.can_export:
            export = self._text(context, "Export")
            query = request.args
            if len(view.export_types) > 1:
                parts.append(
                    '<li class="dropdown">\n<a class="nav-link dropdown-toggle" data-toggle="dropdown" '
                    'href="javascript:void(0)" role="button" aria-haspopup="true" aria-expanded="false">'
                    f'{export}</a>\n<div class="dropdown-menu">\n'
                )
                for export_type in view.export_types:
                    url = escape(view.get_url(".export", export_type=export_type, **query))
                    label = export + " " + export_type.upper()  # Markup: the type escaped
                    parts.append(f'<a class="dropdown-item" href="{url}" title="{export}">{label}</a>\n')
                parts.append("</div>\n</li>\n")
            else:
                export_type = view.export_types[0]
                if query:
                    url = escape(view.get_url(".export", export_type=export_type, **query))
                else:
                    url = self._link(".export", export_type=export_type)
                parts.append(f'<li>\n<a class="nav-link" href="{url}" title="{export}">{export}</a>\n</li>\n')
        return Markup("".join(parts))  # noqa: S704 (every value escaped)

    @pass_context
    def menu_tail(self, context) -> Markup:
        """The menu bar between its two blocks: filter_options, page_size_form, the actions'
        dropdown and search_form (model/layout.html, actions.html)."""
        args = self.args
        parts = []
        if args["filters"]:
            parts.append(
                '<li class="nav-item dropdown">\n<a class="nav-link dropdown-toggle" data-toggle="dropdown" '
                f'href="javascript:void(0)">{self._text(context, "Add Filter")}</a>\n'
                '<div class="dropdown-menu field-filters">\n'
            )
            parts.extend(
                '<a href="javascript:void(0)" class="dropdown-item filter" onclick="return false;">'
                f"{escape(group)}</a>\n"
                for group in args["filter_groups"] or ()
            )
            parts.append("</div>\n</li>\n")
        if args["can_set_page_size"]:
            parts.append(self._page_sizes(context))
        if args["actions"]:
            parts.append(self._action_menu(context))
        if args["search_supported"]:
            parts.append(self._search_form(context))
        return Markup("".join(parts))  # noqa: S704 (every value escaped)

    def _page_sizes(self, context) -> str:
        page_size, urls = self.args["page_size"], self.args["page_size_url"]
        parts = [
            '<li class="nav-item dropdown">\n<a class="nav-link dropdown-toggle" data-toggle="dropdown" '
            f'href="javascript:void(0)">\n{escape(page_size)} {self._text(context, "items")}\n</a>\n'
            '<div class="dropdown-menu">\n'
        ]
        for option in self.view.page_size_options:
            label = self._remember(
                (self.language, "page size", option),
                lambda option=option: escape(
                    context.resolve("_ngettext")(f"{option} item", f"{option} items", option)
                ),
            )
            active = " active" if page_size == option else ""
            parts.append(f'<a class="dropdown-item{active}" href="{escape(urls(option))}">{label}</a>\n')
        parts.append("</div>\n</li>\n")
        return "".join(parts)

    def _action_menu(self, context) -> str:
        actions = self.args["actions"]

        def build():
            gettext = context.resolve("_gettext")
            items = "".join(
                f'<a class="dropdown-item" href="#" data-model-action="{escape(name)}">'
                f"{escape(gettext(text))}</a>\n"
                for name, text in actions
            )
            return (
                '<li class="nav-item dropdown">\n<a class="nav-link dropdown-toggle" data-toggle="dropdown" '
                'href="#" role="button" aria-haspopup="true" aria-expanded="false">'
                f"{self._text(context, 'With selected')}</a>\n"
                f'<div class="dropdown-menu">\n{items}</div>\n</li>\n'
            )

        return self._remember((self.language, "actions", *actions), build)

    def _search_form(self, context) -> str:
        args = self.args
        search = args["search"]
        placeholder = self._text(context, "%(placeholder)s", placeholder=args["search_placeholder"])
        parts = [
            f'<li class="nav-item ml-2">\n<form method="GET" action="{escape(args["return_url"])}" '
            'class="form-inline my-2 my-lg-0" role="search">\n'
        ]
        parts.extend(_hidden(name, value) for name, value in args["filter_args"].items())
        if args["page_size"] != args["default_page_size"]:
            parts.append(_hidden("page_size", args["page_size"]))
        parts.extend(_hidden(name, value) for name, value in args["extra_args"].items())
        parts.append(self._sort_inputs())
        button = (
            '<button class="btn btn-secondary my-2 my-sm-0 ml-2" type="submit">'
            f"{self._text(context, 'Search')}</button>\n</div>\n"
        )
        if search:
            parts.append(
                '<div class="form-inline input-group">\n<input class="form-control col-auto" size="30" '
                f'type="text" name="search" value="{escape(search)}" placeholder="{placeholder}">\n'
                '<div class="input-group-append">\n<span class="input-group-text">\n'
                f'<a href="{escape(args["clear_search_url"])}" class="align-middle">\n'
                '<span class="fa fa-times glyphicon glyphicon-remove"></span>\n</a>\n</span>\n</div>\n'
            )
        else:
            parts.append(
                '<div class="form-inline">\n<input class="form-control col-auto" size="30" type="text" '
                f'name="search" value="" placeholder="{placeholder}">\n'
            )
        parts.append(button)
        parts.append("</form>\n</li>\n")
        return "".join(parts)

    def _sort_inputs(self) -> str:
        args = self.args
        sort = "" if args["sort_column"] is None else _hidden("sort", args["sort_column"])
        return sort + ('<input type="hidden" name="desc" value="1">\n' if args["sort_desc"] else "")

    @pass_context
    def filter_form(self, context) -> Markup:
        """model/layout.html's filter_form (where the grid has filters)."""
        args = self.args
        if not args["filters"]:
            return Markup("")
        parts = [f'<form id="filter_form" method="GET" action="{escape(args["return_url"])}">\n']
        parts.extend(_hidden(name, value) for name, value in args["extra_args"].items())
        parts.append(self._sort_inputs())
        if args["search"]:
            parts.append(_hidden("search", args["search"]))
        if args["page_size"] != args["default_page_size"]:
            parts.append(_hidden("page_size", args["page_size"]))
        parts.append(
            '<div class="pull-right">\n<button type="submit" class="btn btn-primary d-none">'
            f"{self._text(context, 'Apply')}</button>\n"
        )
        if args["active_filters"]:
            parts.append(
                f'<a href="{escape(args["clear_search_url"])}" class="btn btn-secondary">'
                f"{self._text(context, 'Reset Filters')}</a>\n"
            )
        parts.append(
            '</div>\n<table class="filters"></table>\n</form>\n<div class="clearfix"></div>\n'
            '<div class="clearfix"></div>\n'
        )
        return Markup("".join(parts))  # noqa: S704 (every value escaped)

    @pass_context
    def action_form(self, context) -> Markup:
        """actions.html's form (ours: the hidden fields written out) where there are actions."""
        args = self.args
        if not args["actions"]:
            return Markup("")
        form = args["action_form"]
        field = getattr(form, "csrf_token", None)
        if field:  # WTForms' markup of the hidden field
            csrf = (
                f'<input id="{escape(field.id)}" name="{escape(field.name)}" type="hidden" '
                f'value="{escape(field._value())}">\n'
            )
        else:
            csrf_token = context.resolve("csrf_token")
            csrf = (
                f'<input type="hidden" name="csrf_token" value="{escape(csrf_token())}"/>\n'
                if csrf_token
                else ""
            )
        return_url = args["return_url"] or form.url._value()
        return Markup(  # noqa: S704 (every value escaped)
            f'<form id="action_form" action="{self._link(".action_view")}" method="POST" class="d-none">\n'
            f'{csrf}<input id="url" name="url" type="hidden" value="{escape(return_url)}">\n'
            f'<input id="action" name="action" type="hidden" value="{escape(form.action._value())}">\n'
            "</form>\n"
        )

    @staticmethod
    def _json(value) -> Markup:
        """The `tojson` filter's output (Flask's JSON policy)."""
        policies = current_app.jinja_env.policies
        return htmlsafe_json_dumps(
            value, dumps=policies["json.dumps_function"], **policies["json.dumps_kwargs"]
        )

    @pass_context
    def tail(self, context) -> Markup:
        """list.html's tail after its super(): the filters' data, lib.html's form_js, the modal
        and filter scripts, and actions.html's script with its data."""
        args = self.args
        nonce = str(escape(context.resolve("admin_csp_nonce_attribute")))
        parts = []
        if args["filter_groups"]:
            parts.append(
                f'<div id="filter-groups-data" class="d-none">{self._json(args["filter_groups"])}</div>\n'
                f'<div id="active-filters-data" class="d-none">{self._json(args["active_filters"])}</div>\n'
            )
        static_url = context.resolve("admin_static_url")

        def scripts(files):
            return "".join(
                f'<script {_NONCE} src="{escape(static_url(filename=name, v=version))}"></script>\n'
                for name, version in files
            )

        root = request.script_root
        parts.append(self._remember((root, "scripts"), lambda: scripts(TAIL_SCRIPTS)))
        if args["actions"]:
            parts.append(self._action_data(context))
            parts.append(self._remember((root, "action script"), lambda: scripts(ACTION_SCRIPTS)))
        return Markup("".join(parts).replace(_NONCE, nonce))  # noqa: S704 (every value escaped)

    def _action_data(self, context) -> str:
        """actions.html's script data: the confirmation texts and the no-selection message."""
        confirmation = self.args["actions_confirmation"]

        def build():
            message = context.resolve("_gettext")("Please select at least one record.")
            return (
                f'<div id="actions-confirmation-data" class="d-none">{self._json(confirmation)}</div>\n'
                f'<div id="message-data" class="d-none">{self._json(message)}</div>\n'
            )

        return self._remember((str(get_locale()), "action data", *confirmation.items()), build)

    def _page_links(self, url):
        """n -> the escaped link to page n (_escaped_links), its pattern remembered across
        requests by the page's list URL (return_url: the page links are that URL with another
        page, built by the same url_for) and what url_for builds links from (list_rows._url_key)."""
        view = self.view
        if (
            not isinstance(url, NumberedUrls)
            or getattr(url.build, "__qualname__", None) != _PAGER_URL
            or not list_rows.flask_admins_list_url(view)
            or type(self.args.get("return_url")) is not str
        ):
            return _escaped_links(url)
        url_key = list_rows._url_key(view)
        if url_key is None:
            return _escaped_links(url)
        key = (*url_key, self.args["return_url"])
        memo = view.__dict__.setdefault("_ecqs_page_links", {})
        template = memo.get(key)
        if template is None:
            if len(memo) >= _PAGE_LINKS_MAX:
                memo.clear()
            template = memo[key] = _escaped_template(url)
        return _escaped_links(url, template)

    def pager(self, page: int, pages: int, url) -> Markup:
        """lib.html's pager: up to seven page numbers around this one, first/previous/next/last."""
        if pages <= 1:
            return Markup("")
        link = self._page_links(url)
        low, high = page - 3, page + 3 + 1
        if low < 0:
            high -= low
        if high >= pages:
            low = low - high + pages
        low = max(low, 0)
        high = min(high, pages)
        parts = ['<ul class="pagination">\n']
        parts.append(_page_item(link(0), "&laquo;") if low > 0 else _disabled("&laquo;"))
        parts.append(_page_item(link(page - 1), "&lt;") if page > 0 else _disabled("&lt;"))
        for p in range(low, high):
            if p == page:
                parts.append(_current(p + 1))
            else:
                parts.append(_page_item(link(p), p + 1))
        parts.append(_page_item(link(page + 1), "&gt;") if page + 1 < pages else _disabled("&gt;"))
        parts.append(_page_item(link(pages - 1), "&raquo;") if high < pages else _disabled("&raquo;"))
        parts.append("</ul>")
        return Markup("".join(parts))  # noqa: S704 (URLs escaped)

    def simple_pager(self, page: int, have_next: bool, url) -> Markup:
        """lib.html's simple_pager: previous and next only."""
        link = self._page_links(url)
        return Markup(  # noqa: S704 (URLs escaped)
            '<ul class="pagination">\n'
            + (_page_item(link(page - 1), "&lt;") if page > 0 else _page_item(link(0), "&lt;", " disabled"))
            + (
                _page_item(link(page + 1), "&gt;")
                if have_next
                else _page_item(link(page), "&gt;", " disabled")
            )
            + "</ul>"
        )


# Flask-Admin's index_view's page link builder (model/base.py), and how many page link patterns
# are remembered across requests (ListPage._page_links): sort states × searches × pages.
_PAGER_URL = "BaseModelView.index_view.<locals>.pager_url"
_PAGE_LINKS_MAX = 512


def _escaped_template(url: NumberedUrls) -> str:
    """The NumberedUrls' link with its stand-in number, escaped ("" where it has none)."""
    url(1)  # builds the link with the stand-in (its `template`; "" where it cannot)
    return str(escape(url.template)) if url.template else ""


def _escaped_links(url, template: str | None = None):
    """n -> escape(url(n)). For NumberedUrls, the link built once with its stand-in number is
    escaped once (or given: `template`, _escaped_template's) and the number put in its place
    (escaping leaves digits as they are)."""
    if not isinstance(url, NumberedUrls):
        return lambda n: escape(url(n))
    escaped = [] if template is None else [template]

    def link(n):
        if type(n) is not int or n in url.special:
            return escape(url(n))
        if not escaped:
            escaped.append(_escaped_template(url))
        return escaped[0].replace(STAND_IN, str(n)) if escaped[0] else escape(url(n))

    return link


OFF = " disabled"


def _page_item(url, text, state: str = "") -> str:
    return f'<li class="page-item{state}">\n<a class="page-link" href="{url}">{text}</a>\n</li>\n'


def _disabled(text, state: str = OFF) -> str:
    return (
        f'<li class="page-item{state}">\n<a class="page-link" href="javascript:void(0)">{text}</a>\n</li>\n'
    )


def _current(number: int) -> str:
    return _disabled(number, " active")
