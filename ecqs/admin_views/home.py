"""The home page of every user: 待办事项 (inbox), organisation status, notices and messages."""

from __future__ import annotations

from flask_admin import AdminIndexView, expose
from flask_login import current_user
from sqlalchemy import select

from ecqs import access, workflows
from ecqs.admin_views.base import AccessDeniedMixin
from ecqs.extensions import db
from ecqs.models import ROLE_LABELS, Notice, Notification
from ecqs.registry import home as registry_home
from ecqs.services import inbox


class HomeView(AccessDeniedMixin, AdminIndexView):
    def is_accessible(self):
        return current_user.is_authenticated

    @expose("/")
    def index(self):
        user = current_user
        notices = (
            db.session.execute(
                access.scoped(select(Notice), Notice, user).order_by(Notice.published_at.desc()).limit(5)
            )
            .scalars()
            .all()
        )
        unread = (
            db.session.execute(
                select(Notification)
                .where(Notification.user_id == user.id, Notification.read_at.is_(None))
                .order_by(Notification.created_at.desc())
                .limit(10)
            )
            .scalars()
            .all()
        )
        org = user.organization
        items = inbox.everything_for(user) if user.org_approved else []
        return self.render(
            "home.html",
            items=items,
            notices=notices,
            unread=unread,
            org=org,
            role_label=ROLE_LABELS.get(user.role, user.role),
            can_resubmit=org is not None and workflows.can(org, "resubmit", user),
            unit_home=registry_home.unit_home(user),
        )
