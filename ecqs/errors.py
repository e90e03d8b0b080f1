"""Error pages in the user's language instead of Werkzeug's English defaults."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from ecqs.i18n import lazy_gettext as _l

MESSAGES = {
    400: _l("请求无效或页面已过期，请刷新页面后重试。"),
    403: _l("您无权访问该页面或执行该操作。"),
    404: _l("您访问的页面或记录不存在，或您无权查看。"),
    405: _l("不允许以这种方式访问该地址。"),
    413: _l("上传的内容过大：单个文件不能超过 5 MB。"),
    429: _l("操作过于频繁，请稍后再试。"),
    500: _l("服务器内部错误，请稍后再试。"),
}


# Pages a signed-in user reaches by a wrong link or a denied door: shown inside the back office
# with the user's own menu (not the visitor's 登录/注册).
IN_BACK_OFFICE = (403, 404, 405)


def _with_menu(code: int, message):
    admins = current_app.extensions.get("admin") or []
    if code not in IN_BACK_OFFICE or not admins or not current_user.is_authenticated:
        return None
    try:
        return admins[0].index_view.render("errors_admin.html", code=code, message=message)
    except Exception:
        current_app.logger.exception("error page with menu failed")
        return None


def register_error_pages(app) -> None:
    def render(exc: HTTPException):
        code = exc.code or 500
        message = MESSAGES.get(code) or exc.description
        if request.accept_mimetypes.best == "application/json":
            return {"ok": False, "message": str(message)}, code
        page = _with_menu(code, message)
        if page is not None:
            return page, code
        return render_template("errors.html", code=code, message=message), code

    for code in MESSAGES:
        app.register_error_handler(code, render)
