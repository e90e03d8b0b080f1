"""The menu categories of the back office, in one place (labels from the manuals)."""

from flask_babel import get_locale
from flask_login import current_user

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


def main_menu(render, admin_view):
    """The back office's main menu (admin/base.html), remembered a few seconds per signed-in
    session, language and page (services/short_cache.py, GRID_CACHE_SECONDS): building it asks
    every one of some sixty views whether this user may open it, about a seventh of a ledger
    page's work (bench/RESULTS.md). The menu only shows links; every page still decides on each
    request whether the user may open it, so a link that appears or goes (an organisation just
    approved) is at most that many seconds late. A new session (a new login after a change of
    role or organisation ends the old ones) starts with its own menu."""
    if not current_user.is_authenticated:
        return render()
    key = (current_user.id, current_user.get_id(), str(get_locale()), admin_view.endpoint)
    return short_cache.remember("main_menus", key, render)
