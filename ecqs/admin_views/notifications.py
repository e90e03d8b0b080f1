"""站内消息: each user's own messages — unread/read (read when opened), 全部标为已读, a filter by
read state, each message linking to its record; the unread count for the top bar."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_login import current_user
from markupsafe import Markup

from ecqs.admin_views.base import RoleView
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import ROLE_LABELS, Notification
from ecqs.services import notify

READ_OPTIONS = [("unread", _l("未读")), ("read", _l("已读"))]


class ReadStateFilter(BaseSQLAFilter):
    def __init__(self):
        super().__init__(Notification.read_at, _l("阅读状态"), options=READ_OPTIONS)

    def operation(self):
        return _l("为")

    def clean(self, value):
        if value not in dict(READ_OPTIONS):
            raise ValueError(value)
        return value

    def apply(self, query, value, alias=None):
        if value == "unread":
            return query.filter(Notification.read_at.is_(None))
        return query.filter(Notification.read_at.is_not(None))


def _title(view, context, model, name):
    badge = ""
    if model.read_at is None:
        badge = Markup(' <span class="badge badge-primary">{}</span>').format(_("未读"))
    return Markup('<a href="{}" data-notification="{}">{}</a>{}').format(
        url_for(".open_view", id=model.id), model.id, model.title, badge
    )


def _read_state(view, context, model, name):
    return _("已读") if model.read_at is not None else _("未读")


def _link(view, context, model, name):
    link = notify.safe_link(model.link)
    if link is None:
        return ""
    return Markup('<a href="{}" id="notification-record">{}</a>').format(link, _("查看相关记录"))


class NotificationView(RoleView):
    roles = frozenset(ROLE_LABELS)
    require_approved_org = False
    can_create = False
    can_edit = False
    can_delete = False
    list_template = "notifications/list.html"
    column_list = ("created_at", "title", "read_at")
    column_details_list = ("created_at", "title", "body", "link", "read_at")
    column_export_list = ("created_at", "title", "body", "read_at")
    column_labels = {
        "created_at": _l("时间"),
        "title": _l("标题"),
        "body": _l("内容"),
        "link": _l("相关记录"),
        "read_at": _l("已读时间"),
    }
    column_filters = (ReadStateFilter(),)
    column_default_sort = ("created_at", True)
    column_formatters = {"title": _title}
    column_formatters_detail = {"link": _link}
    column_formatters_export: dict = {}

    @expose("/details/")
    def details_view(self):
        obj = self.get_one(request.args.get("id"))
        if obj.read_at is None:
            notify.mark_read(obj)
            db.session.commit()
        return super().details_view()

    @expose("/open/")
    def open_view(self):
        """Open a message: mark it read and go to its record (else to the message itself)."""
        obj = self.get_one(request.args.get("id"))
        notify.mark_read(obj)
        db.session.commit()
        return redirect(notify.safe_link(obj.link) or url_for(".details_view", id=obj.id))

    @expose("/read-all/", methods=("POST",))
    def read_all_view(self):
        n = notify.mark_all_read(current_user)
        db.session.commit()
        flash(_("已将 %(n)d 条消息标为已读", n=n), "success")
        return redirect(url_for(".index_view"))


def unread_notifications() -> int:
    """The top bar's badge (a template global)."""
    return notify.unread_count(current_user)
