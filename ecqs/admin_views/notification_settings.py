"""通知设置 (个人中心): whether the user also wants notices by e-mail, and to which address.
In-app notices are always kept; SMS follows the business rules, not this page."""

from __future__ import annotations

from flask import flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField
from wtforms.validators import Email, Length, Optional

from ecqs.admin_views.base import OwnPageView
from ecqs.admin_views.menu import CAT_CENTRE
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.services import audit


class NotificationSettingsForm(FlaskForm):
    email = EmailField(_l("电子邮箱"), [Optional(), Email(message=_l("邮箱格式不正确")), Length(max=120)])
    email_notices = BooleanField(_l("同时通过电子邮件接收站内通知"))


class NotificationSettingsView(OwnPageView):
    @expose("/", methods=("GET", "POST"))
    def index(self):
        user = current_user._get_current_object()
        form = NotificationSettingsForm(obj=user) if request.method == "GET" else NotificationSettingsForm()
        if form.validate_on_submit():
            if form.email_notices.data and not form.email.data:
                form.email.errors = [_("接收邮件通知需要填写电子邮箱")]
            else:
                user.email = form.email.data or None
                user.email_notices = bool(form.email_notices.data)
                audit.record_change(user, user, comment="email_notices")
                db.session.commit()
                flash(_("通知设置已保存"), "success")
                return redirect(self.get_url(".index"))
        return self.render("jobs/notification_settings.html", form=form)


def register(admin) -> None:
    admin.add_view(
        NotificationSettingsView(name=_l("通知设置"), category=CAT_CENTRE, endpoint="notification_settings")
    )
