"""Flask-Admin's own words where the manuals use others, and its templates' gettext: our
wording first, else Flask-Admin's catalogue found once a request."""

from __future__ import annotations

from flask import session
from flask_admin import babel as admin_babel

from ecqs.admin_views import list_rows
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l

# Flask-Admin's own words where the manuals use others (seed 003: 【新增】, not 创建).
ADMIN_WORDING = {"Create": _l("新增"), "Create New Record": _l("新增记录"), "items": _l("条/页")}


# Flask-Admin flashes these with its own catalogue, whose compiled zh_Hans_CN file lacks the two
# failure messages (they appear in English); keyed by the msgid and by its Chinese text.
ADMIN_FLASHES = {
    "Failed to create record.": _l("保存失败，请按提示修改后重新提交"),
    "Failed to save record.": _l("保存失败，请按提示修改后重新提交"),
    "Record was successfully created.": _l("新增成功"),
    "创建记录成功。": _l("新增成功"),
}


def reword_admin_flashes() -> None:
    """Replace Flask-Admin's queued flash messages by ours before the page shows them."""
    queued = session.get("_flashes")
    if queued and any(message in ADMIN_FLASHES for _cat, message in queued):
        session["_flashes"] = [(cat, str(ADMIN_FLASHES.get(message, message))) for cat, message in queued]


def admin_gettext(string, **variables):
    """`_gettext` of Flask-Admin's templates: our wording where the manuals differ, else Flask-
    Admin's catalogue, found once a request (Flask-Admin's gettext finds it again for each of
    the few dozen texts of a grid page, about fifty calls each); %-formatted as gettext does."""
    if string in ADMIN_WORDING:
        text = str(ADMIN_WORDING[string])
    else:
        catalogue = list_rows.request_memo("_ecqs_admin_catalogue", None, admin_babel.domain.get_translations)
        text = catalogue.ugettext(string)
    return text % variables if variables else text


# What every page RoleView.render shows has in its context, folded where called with literals.
ADMIN_CONTEXT_FUNCTIONS = (("_gettext", admin_gettext),)


def admin_ngettext(singular, plural, num, **variables):
    if plural.endswith(" items") and plural.split(" ")[0].isdigit():
        return _("%(num)d 条/页", num=num)
    return admin_babel.ngettext(singular, plural, num, **variables)
