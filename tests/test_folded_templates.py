"""Portal pages compiled per language and application root (ecqs/folded_templates.py): the same
page as render_template gives, with no label or fixed-link call left at run time."""

from __future__ import annotations

from collections import namedtuple
from datetime import date

import pytest
from flask import flash, render_template, session
from flask_babel import refresh
from jinja2 import pass_context

from ecqs.extensions import template_gettext
from ecqs.folded_templates import folded_environment, folded_template, render_portal_page
from ecqs.models import BOOKING_ITEM_STATUS_LABELS, INSTRUMENT_STATUS_LABELS, VERIFICATION_RESULT_LABELS
from tests.conftest import make_org
from tests.instruments.fixtures import make_instrument

Row = namedtuple(
    "Row",
    "enterprise name kind model_spec serial_no manufacturer status valid_until verified_by "
    "verified_on result",
)


def _contexts():
    hostile = "<img src=x onerror=alert(1)> & '\""
    row = Row(
        hostile,
        hostile,
        "压力表",
        "Y-100",
        "S<1>",
        hostile,
        "in_use",
        date(2027, 1, 2),
        hostile,
        date(2026, 3, 1),
        "qualified",
    )
    bare = Row("甲企业", "压力表", "压力表", None, "S2", None, "scrapped", None, None, None, None)
    labels = {
        "status_labels": INSTRUMENT_STATUS_LABELS,
        "result_labels": VERIFICATION_RESULT_LABELS,
        "item_labels": BOOKING_ITEM_STATUS_LABELS,
    }
    return [
        {"enterprise": "", "serial": "", "rows": [], "searched": False, "message": None, **labels},
        {"enterprise": "x", "serial": "", "rows": [], "searched": True, "message": "请同时填写", **labels},
        {
            "enterprise": hostile,
            "serial": "S<1>",
            "rows": [row, bare],
            "searched": True,
            "message": None,
            **labels,
        },
        {"enterprise": "甲企业", "serial": "none", "rows": [], "searched": True, "message": None, **labels},
    ]


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("root", ["", "/ecqs"])
@pytest.mark.parametrize("context", range(4))
def test_portal_page_is_what_render_template_gives(app, lang, root, context):
    values = _contexts()[context]
    url = "/public/instruments/query?enterprise=a&serial=b"
    with app.test_request_context(url, environ_overrides={"SCRIPT_NAME": root}):
        session["lang"] = lang
        flash("<b>已保存</b>", "info")
        portal = render_portal_page("instruments/public_query.html", **values)
        plain = render_template("instruments/public_query.html", **values)
        refresh()
    assert portal == plain
    assert f'href="{root}/static/css/ecqs.css"' in portal and 'name="csrf_token"' in portal
    assert ("Search" in portal) == (lang == "en") and ("查询" in portal) == (lang != "en")
    assert "&lt;b&gt;已保存&lt;/b&gt;" in portal and "<img src=x" not in portal


def test_public_query_calls_no_label_or_fixed_link_per_request(app, client, monkeypatch, instrument_kinds):
    org = make_org(name="折叠标签企业")
    make_instrument(org, serial_no="FOLD-1")
    calls = {"label": 0, "link": 0}
    globals_ = app.jinja_env.globals
    fixed_url = globals_["fixed_url"]

    @pass_context
    def label(context, *args, **kwargs):
        calls["label"] += 1
        return template_gettext(context, *args, **kwargs)

    def link(*args, **kwargs):
        calls["link"] += 1
        return fixed_url(*args, **kwargs)

    monkeypatch.setitem(globals_, "_", label)
    monkeypatch.setitem(globals_, "gettext", label)
    monkeypatch.setitem(globals_, "fixed_url", link)
    monkeypatch.setitem(app.extensions, "ecqs_folded_templates", {})  # compiled afresh, with these
    url = f"/public/instruments/query?enterprise={org.uscc}&serial=FOLD-1"
    first = client.get(url).get_data(as_text=True)
    calls.update(label=0, link=0)
    second = client.get(url).get_data(as_text=True)
    assert "FOLD-1" in second and "强检器具信息" in second and "出厂编号" in second
    assert calls["label"] == 0
    assert calls["link"] <= 1  # the language form's target depends on the language shown
    assert "FOLD-1" in first
    # The other language is a template of its own.
    client.post("/lang/en", data={"next": "/"})
    refresh()
    english = client.get(url).get_data(as_text=True)
    refresh()
    assert "Instrument information" in english and "强检器具信息" not in english and "FOLD-1" in english


SOURCES = [
    "{{ _('查询') }}|{{ gettext('返回') }}",
    "{% trans %}查询{% endtrans %}",
    "{{ _('共 %(n)s 条', n=5) }}",
    "{{ _('完成 100%%') }}",
    "{{ _('<i>%(x)s</i>', x='<script>') }}",
    "{{ _('<i>未翻译</i>') }}",
    "{% set t = _('查询') %}{{ t ~ '<' }}",
    "{% for _ in ['<a>'] %}{{ _ }}{% endfor %}",
    "{% macro m(_) %}[{{ _ }}]{% endmacro %}{{ m('<b>') }}",
    "{{ fixed_url('static', filename='css/ecqs.css') }}|{{ fixed_url('auth.set_language', code=lang) }}",
    "{% autoescape false %}{{ _('查询') ~ '<' }}{% endautoescape %}",
]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_folded_template_renders_as_the_apps(app, source, lang):
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/r"}):
        session["lang"] = lang
        expected = app.jinja_env.from_string(source).render(lang="en")
        assert folded_environment().from_string(source).render(lang="en") == expected
        refresh()


# The back office's pages (RoleView.render): `_gettext` is admin_gettext in every context, and
# Flask-Admin's templates import admin/static.html, whose `url` is admin_static_url.
ADMIN_SOURCES = [
    "{{ _gettext('Add Filter') }}|{{ _gettext('Create') }}|{{ _gettext('items') }}|{{ _('查询') }}",
    "{{ _gettext('Sort by %(name)s', name='<b>') }}|{{ _gettext('完成 100%') }}",
    "{{ _gettext(text) }}|{{ _gettext('Sort by %(name)s', name=text) }}",
    "{% macro m(_gettext) %}{{ _gettext('Save') }}{% endmacro %}{{ m(shout) }}|{{ _gettext('Save') }}",
    "{% for _gettext in [shout] %}{{ _gettext('Save') }}{% endfor %}",
    "{% set _gettext = shout %}{{ _gettext('Save') }}",
    "{% import 'admin/static.html' as admin_static with context %}"
    "{{ admin_static.url(filename='admin/js/form.js', v='1.0.1') }}|{{ admin_static.url(filename=text) }}",
    "{% import 'admin/static.html' as admin_static %}{{ admin_static.url(filename='vendor/x.css', v='1') }}",
    "{% import 'admin/static.html' as admin_static %}{% macro m(admin_static) %}"
    "{{ admin_static.url(filename='x.css') }}{% endmacro %}{{ m(other) }}",
    "{% set admin_static = other %}{{ admin_static.url(filename='x.css') }}",
]


@pytest.mark.parametrize("source", ADMIN_SOURCES)
@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_folded_admin_template_renders_as_the_apps(app, source, lang):
    from ecqs.admin_views.admin_wording import ADMIN_CONTEXT_FUNCTIONS, admin_gettext

    class Other:
        @staticmethod
        def url(**values):
            return "other:" + ",".join(f"{k}={v}" for k, v in sorted(values.items()))

    context = {"_gettext": admin_gettext, "text": "Save <now>", "shout": str.upper, "other": Other}
    with app.test_request_context("/admin/", environ_overrides={"SCRIPT_NAME": "/r"}):
        session["lang"] = lang
        expected = app.jinja_env.from_string(source).render(**context)
        folded = folded_environment(ADMIN_CONTEXT_FUNCTIONS)
        assert folded.from_string(source).render(**context) == expected
        refresh()
    assert "/r/admin/static/" in expected or "admin_static" not in source or "other:" in expected


def test_literal_admin_texts_and_static_links_are_compiled_in(app):
    from ecqs.admin_views.admin_wording import ADMIN_CONTEXT_FUNCTIONS

    source = (
        "{% import 'admin/static.html' as admin_static with context %}"
        "{{ _gettext('Add Filter') }}{{ admin_static.url(filename='admin/js/form.js', v='1.0.1') }}"
    )
    with app.test_request_context("/admin/"):
        code = folded_environment(ADMIN_CONTEXT_FUNCTIONS).compile(source, raw=True)
        plain = app.jinja_env.compile(source, raw=True)
    assert "_gettext" in plain and "'url'" in plain
    assert "_gettext" not in code and "'url'" not in code and "/admin/static/admin/js/form.js?v=1.0.1" in code
    # Without the caller's word that `_gettext` is admin_gettext, it stays a call.
    with app.test_request_context("/admin/"):
        assert "_gettext" in folded_environment().compile(source, raw=True)


def test_a_context_that_redefines_a_folded_name_gets_the_plain_template(app):
    from ecqs.admin_views.admin_wording import ADMIN_CONTEXT_FUNCTIONS, admin_gettext

    name = "admin/static.html"
    with app.test_request_context("/admin/"):
        assert folded_template(name, {"_gettext": admin_gettext}, ADMIN_CONTEXT_FUNCTIONS) is not name
        assert folded_template(name, {"_gettext": str.upper}, ADMIN_CONTEXT_FUNCTIONS) == name
        assert folded_template(name, {}, ADMIN_CONTEXT_FUNCTIONS) == name
        for redefined in ("_", "gettext", "fixed_url", "admin_static_url"):
            context = {"_gettext": admin_gettext, redefined: str.upper}
            assert folded_template(name, context, ADMIN_CONTEXT_FUNCTIONS) == name
