"""The menu categories of the back office, in one place (labels from the manuals)."""

from flask import url_for
from flask_babel import get_locale
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

from ecqs.i18n import lazy_gettext as _l
from ecqs.services import short_cache

CAT_CENTRE = _l("个人中心")
CAT_SYSTEM = _l("系统管理")
CAT_INSTRUMENTS = _l("强制检定工作计量器具业务管理系统")
CAT_SUPERVISION = _l("强检器具监管")
CAT_LICENCE = _l("特种设备生产单位许可")
CAT_PERSON = _l("特种设备检验、检测人员资格认定申请")
CAT_STATISTICS = _l("统计分析")
CAT_UNIT = _l("单位信息管理")
CAT_REGISTRY_REVIEW = _l("执业单位审核")
CAT_REG_PEOPLE = _l("注册人员管理")
CAT_REG_CERTS = _l("注册证书管理")


@pass_context
def main_menu(context, admin_view):
    """The back office's main menu (admin/base.html): admin/layout.html's `menu`, remembered a
    few seconds per signed-in session, language and page (services/short_cache.py,
    GRID_CACHE_SECONDS): building it asks every one of some sixty views whether this user may
    open it, about a seventh of a ledger page's work (bench/RESULTS.md). The menu only shows
    links; every page still decides on each request whether the user may open it, so a link that
    appears or goes (an organisation just approved) is at most that many seconds late. A new
    session (a new login after a change of role or organisation ends the old ones) starts with
    its own menu. layout.html is imported (with the page's context, as Flask-Admin's base.html
    imports it) only to build the menu."""

    def render():
        layout = context.environment.get_template("admin/layout.html", context.name)
        return layout.make_module(context.get_all(), True).menu()

    user = current_user._get_current_object()  # (the proxy looks the user up on each use)
    if not user.is_authenticated:
        return render()
    key = (user.id, user.get_id(), str(get_locale()), admin_view.endpoint)
    return short_cache.remember("main_menus", key, render)


def admin_menu_icon(item) -> Markup:
    """admin/layout.html's `menu_icon` macro (a menu item's icon, if it has one) as a function:
    admin/base.html shows the page's icon beside its title."""
    icon_type = item.get_icon_type() if item else None
    if not icon_type:
        return Markup("")
    value = item.get_icon_value()
    if icon_type == "glyph":
        return Markup('<i class="glyphicon {}"></i>').format(value)
    if icon_type == "fa":
        return Markup('<i class="fa {}"></i>').format(value)
    if icon_type == "image":
        return Markup('<img src="{}" alt="menu image">').format(url_for("static", filename=value))
    if icon_type == "image-url":
        return Markup('<img src="{}" alt="menu image">').format(value)
    return Markup("")
