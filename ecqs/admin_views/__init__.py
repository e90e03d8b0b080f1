"""Flask-Admin set-up: one Admin, the home page (inbox) and each area's grids with the menu
labels users know from the manuals."""

from __future__ import annotations

from flask import g, url_for
from flask_admin import Admin
from flask_admin.menu import MenuLink
from flask_admin.theme import Bootstrap4Theme
from flask_login import current_user

from ecqs.admin_views import (
    documents,
    instruments,
    jobs,
    licences,
    notification_settings,
    qualifications,
    registry_apps,
    registry_people,
    registry_staff,
    statistics,
)
from ecqs.admin_views.accounts import (
    MY_ORGANIZATION_TITLE,
    AuditView,
    DivisionView,
    EnterpriseLinkView,
    MyOrganizationView,
    NoticeView,
    OrganizationView,
    SmsOutboxView,
    SubAccountView,
    UserView,
)
from ecqs.admin_views.base import endpoint_for_model
from ecqs.admin_views.home import HomeView
from ecqs.admin_views.menu import CAT_CENTRE, CAT_SYSTEM, admin_menu_icon, main_menu
from ecqs.admin_views.notifications import NotificationView, unread_notifications
from ecqs.extensions import db
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import (
    AuditEvent,
    Division,
    EnterpriseLink,
    Notice,
    Notification,
    Organization,
    SmsMessage,
    User,
)
from ecqs.services import inbox


class RoleMenuLink(MenuLink):
    """A link shown only to some roles."""

    def __init__(self, *args, roles=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.roles = roles

    def is_accessible(self):
        return current_user.is_authenticated and current_user.role in self.roles

    def is_visible(self):
        return self.is_accessible()


def init_admin(app) -> Admin:
    admin = Admin(
        app,
        name=_l("e-CQS 业务管理"),
        url="/admin",
        index_view=HomeView(name=_l("待办事项"), url="/admin", template="home.html"),
        theme=Bootstrap4Theme(base_template="layout.html", swatch="cerulean", fluid=True),
        csp_nonce_generator=lambda: g.get("csp_nonce", ""),
    )
    app.add_template_global(unread_notifications)
    app.add_template_global(main_menu)
    app.add_template_global(admin_menu_icon)
    s = db.session
    # 个人中心
    admin.add_view(
        MyOrganizationView(
            Organization, s, name=MY_ORGANIZATION_TITLE, category=CAT_CENTRE, endpoint="my_org"
        )
    )
    admin.add_view(
        EnterpriseLinkView(EnterpriseLink, s, name=_l("我的企业授权"), category=CAT_CENTRE, endpoint="links")
    )
    admin.add_view(SubAccountView(User, s, name=_l("子账号"), category=CAT_CENTRE, endpoint="subaccounts"))
    admin.add_view(
        NotificationView(Notification, s, name=_l("站内消息"), category=CAT_CENTRE, endpoint="notifications")
    )
    admin.add_link(
        RoleMenuLink(
            _l("关联企业信息"), endpoint="links.index_view", category=CAT_CENTRE, roles=frozenset({"person"})
        )
    )
    admin.add_link(
        RoleMenuLink(
            _l("申请关联企业"), endpoint="register.link", category=CAT_CENTRE, roles=frozenset({"person"})
        )
    )
    # 系统管理
    admin.add_view(
        OrganizationView(
            Organization, s, name=_l("单位/机构管理"), category=CAT_SYSTEM, endpoint="organizations"
        )
    )
    admin.add_view(UserView(User, s, name=_l("用户管理"), category=CAT_SYSTEM, endpoint="users"))
    admin.add_view(DivisionView(Division, s, name=_l("行政区划"), category=CAT_SYSTEM, endpoint="divisions"))
    admin.add_view(
        SmsOutboxView(SmsMessage, s, name=_l("短信发件箱"), category=CAT_SYSTEM, endpoint="sms_outbox")
    )
    admin.add_view(NoticeView(Notice, s, name=_l("通知公告"), category=CAT_SYSTEM, endpoint="notices"))
    admin.add_view(AuditView(AuditEvent, s, name=_l("审计日志"), category=CAT_SYSTEM, endpoint="audit"))
    admin.add_link(
        RoleMenuLink(
            _l("企业关联授权"), endpoint="links.index_view", category=CAT_SYSTEM, roles=frozenset({"admin"})
        )
    )

    instruments.register(admin)
    licences.register(admin)
    qualifications.register(admin)
    documents.register(admin)  # 申请材料目录, beside 许可项目目录 and 人员项目目录
    inbox.set_details_url(app, details_url)
    statistics.register(admin)  # 统计分析
    jobs.register(admin)  # 我的导出 and job pages
    notification_settings.register(admin)
    registry_staff.register(admin)  # M4: inspection units and their administration
    registry_apps.register(admin)  # M4: publicity applications and real-name verification
    registry_people.register(admin)  # M4: registered practitioners, certificates, deregistration
    return admin


def details_url(obj) -> str | None:
    """The details page of a record in its main grid (the inbox links to it), or None."""
    endpoint = endpoint_for_model(type(obj))
    if endpoint is None:
        return None
    return url_for(f"{endpoint}.details_view", id=obj.id)
