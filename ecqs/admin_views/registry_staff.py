"""Association staff's registry pages beside the unit grids: registration review, online Q&A,
notices and account appeals (seed 004 §2.3, §3.2); register() adds every registry view."""

from __future__ import annotations

from flask import request
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    FileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from ecqs.admin_views.base import RoleView
from ecqs.admin_views.cells import choice_formatter, masked, state_badge
from ecqs.admin_views.menu import CAT_REGISTRY_REVIEW, CAT_UNIT
from ecqs.admin_views.registry import (
    STAFF,
    UNIT,
    BranchView,
    ChangeReviewView,
    QualificationReviewView,
    UnitAccountView,
    UnitChangeRequestView,
    UnitInfoView,
    UnitQualificationView,
    deadline_badge,
    file_or_flash,
)
from ecqs.extensions import db
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import (
    APPEAL_REASON_LABELS,
    NOTICE_KIND_LABELS,
    ORG_STATUS_LABELS,
    QUESTION_STATUS_LABELS,
    REGISTRY_STATUS_LABELS,
    Organization,
    RegistryNotice,
    UnitAccountAppeal,
    UnitChangeRequest,
    UnitQualificationRequest,
    UnitQuestion,
    User,
)
from ecqs.registry import operations


class UnitRegistrationReviewView(RoleView):
    """单位注册审核: new inspection units, reviewed within three working days (seed 004 §2.1)."""

    roles = STAFF
    primary_for_model = False
    can_create = False
    can_edit = False
    can_delete = False
    file_fields = ("licence_upload",)
    column_list = (
        "name",
        "uscc",
        "cert_type",
        "division",
        "contact_name",
        "submitted_at",
        "deadline",
        "status",
    )
    column_details_list = (*UnitInfoView.column_details_list, "reject_reason", "submitted_at", "deadline")
    column_export_list = (
        "name",
        "uscc",
        "cert_type",
        "cert_level",
        "division",
        "contact_name",
        "status",
        "submitted_at",
    )
    column_labels = {**UnitInfoView.column_labels, "deadline": _l("审核期限")}
    column_searchable_list = ("name", "uscc")
    column_filters = ("status", "submitted_at")
    column_choices = {"status": list(ORG_STATUS_LABELS.items())}
    column_default_sort = ("submitted_at", True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "status": state_badge(ORG_STATUS_LABELS),
            "deadline": deadline_badge(),
            "licence_upload": self.file_link("licence_upload"),
            "contact_mobile": masked("contact_mobile", "mobile"),
        }
        self.column_formatters_detail = {
            "status": state_badge(ORG_STATUS_LABELS),
            "deadline": deadline_badge(),
            "licence_upload": self.file_link("licence_upload"),
        }

    def _units(self, query):
        return query.filter(Organization.kind == "unit", Organization.parent_id.is_(None))

    def get_query(self):
        return self._units(super().get_query())

    def get_count_query(self):
        return self._units(super().get_count_query())


# ---- 在线提问解答 ---------------------------------------------------------------------------


QUESTION_LABELS = {
    "title": _l("问题标题"),
    "body": _l("问题内容"),
    "organization": _l("提问单位"),
    "asked_by": _l("提问人"),
    "attachment_upload": _l("附件"),
    "status": _l("状态"),
    "answer": _l("解答"),
    "answered_by": _l("解答人"),
    "answered_at": _l("解答时间"),
    "created_at": _l("提问时间"),
}


class QuestionForm(FlaskForm):
    title = StringField(_l("问题标题"), [DataRequired(message=_l("请填写问题标题")), Length(max=200)])
    body = TextAreaField(_l("问题内容"), [DataRequired(message=_l("请填写问题内容")), Length(max=4000)])
    attachment = FileField(_l("附件（可选）"))


class _QuestionBase(RoleView):
    can_edit = False
    can_delete = False
    file_fields = ("attachment_upload",)
    column_labels = QUESTION_LABELS
    column_filters = ("status", "created_at")
    column_choices = {"status": list(QUESTION_STATUS_LABELS.items())}
    column_default_sort = ("created_at", True)
    column_searchable_list = ("title",)
    column_details_list = (
        "title",
        "organization",
        "asked_by",
        "body",
        "attachment_upload",
        "status",
        "answer",
        "answered_by",
        "answered_at",
        "created_at",
    )
    column_export_list = ("title", "organization", "status", "created_at", "answered_at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "status": state_badge(),
            "attachment_upload": self.file_link("attachment_upload"),
        }
        self.column_formatters_detail = dict(self.column_formatters)


class UnitQuestionView(_QuestionBase):
    """在线提问解答 (unit): ask, read the answers (the timeline is the thread), follow up."""

    roles = UNIT
    primary_for_model = False
    can_create = True
    column_list = ("title", "status", "created_at", "answered_at")

    def create_form(self, obj=None):
        return QuestionForm(request.form if request.method == "POST" else None)

    def create_model(self, form):
        return file_or_flash(
            operations.ask_question,
            current_user,
            form.title.data,
            form.body.data,
            attachment=request.files.get("attachment"),
        )


class QuestionAnswerView(_QuestionBase):
    """在线提问解答 (association staff): unanswered questions are in the inbox."""

    roles = STAFF
    can_create = False
    column_list = ("title", "organization", "status", "created_at", "answered_at")


# ---- 公示通知 / 会员通知 ---------------------------------------------------------------------


class RegistryNoticeView(RoleView):
    """公示通知 / 会员通知: association staff publish; units read them on their home page."""

    roles = STAFF
    column_list = ("kind", "title", "published_at")
    column_export_list = ("kind", "title", "published_at", "body")
    column_labels = {
        "kind": _l("通知类别"),
        "title": _l("标题"),
        "body": _l("内容"),
        "published_at": _l("发布时间"),
    }
    column_choices = {"kind": list(NOTICE_KIND_LABELS.items())}
    column_filters = ("kind", "published_at")
    column_searchable_list = ("title",)
    column_default_sort = ("published_at", True)
    form_columns = ("kind", "title", "body")
    form_overrides = {"kind": SelectField, "body": TextAreaField}
    form_args = {
        "kind": {"choices": list(NOTICE_KIND_LABELS.items())},
        "title": {"validators": [DataRequired(message=_l("请填写标题")), Length(max=200)]},
        "body": {"validators": [DataRequired(message=_l("请填写内容")), Length(max=20000)]},
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {"kind": choice_formatter(NOTICE_KIND_LABELS)}

    def on_model_change(self, form, model, is_created):
        if is_created:
            model.created_by_id = current_user.id
        super().on_model_change(form, model, is_created)


class UnitNoticeView(RoleView):
    """A unit reads a notice (linked from its home page); opening it leaves a read mark."""

    roles = UNIT
    primary_for_model = False
    can_create = False
    can_edit = False
    can_delete = False
    can_export = False
    column_list = ("kind", "title", "published_at")
    column_details_list = ("kind", "title", "body", "published_at")
    column_labels = RegistryNoticeView.column_labels
    column_choices = RegistryNoticeView.column_choices
    column_default_sort = ("published_at", True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {"kind": choice_formatter(NOTICE_KIND_LABELS)}

    def is_visible(self):
        return False  # reached from 单位首页

    @expose("/details/")
    def details_view(self):
        notice = self.get_one(request.args.get("id"))
        operations.mark_read(notice, current_user)
        db.session.commit()
        return super().details_view()


# ---- 账号申诉 -------------------------------------------------------------------------------


class AppealReviewView(RoleView):
    """账号申诉审核 (seed 004 §2.3.2): approve (the new contact takes over the unit's admin
    account) or reject, within three working days."""

    roles = STAFF
    can_create = False
    can_edit = False
    can_delete = False
    file_fields = ("letter_upload",)
    column_list = (
        "organization",
        "contact_name",
        "contact_mobile",
        "reason",
        "submitted_at",
        "deadline",
        "status",
    )
    column_details_list = (
        "organization",
        "organization.uscc",
        "contact_name",
        "contact_id_number",
        "contact_mobile",
        "contact_email",
        "reason",
        "letter_upload",
        "status",
        "reject_reason",
        "submitted_at",
        "deadline",
        "decided_at",
    )
    column_export_list = (
        "organization",
        "contact_name",
        "contact_mobile",
        "reason",
        "status",
        "submitted_at",
    )
    column_labels = {
        "organization": _l("单位名称"),
        "organization.uscc": _l("统一社会信用代码"),
        "contact_name": _l("新联系人姓名"),
        "contact_id_number": _l("新联系人身份证号"),
        "contact_mobile": _l("新联系人手机号"),
        "contact_email": _l("新联系人邮箱"),
        "reason": _l("申诉原因"),
        "letter_upload": _l("授权书"),
        "status": _l("审核状态"),
        "reject_reason": _l("驳回原因"),
        "submitted_at": _l("申诉时间"),
        "deadline": _l("审核期限"),
        "decided_at": _l("审核时间"),
    }
    column_filters = ("status", "reason", "submitted_at")
    column_choices = {
        "reason": list(APPEAL_REASON_LABELS.items()),
        "status": list(REGISTRY_STATUS_LABELS.items()),
    }
    column_default_sort = ("submitted_at", True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "status": state_badge(),
            "reason": choice_formatter(APPEAL_REASON_LABELS),
            "deadline": deadline_badge(),
            "letter_upload": self.file_link("letter_upload"),
            "contact_mobile": masked("contact_mobile", "mobile"),
            "contact_id_number": masked("contact_id_number", "id"),
        }
        self.column_formatters_detail = {
            "status": state_badge(),
            "reason": choice_formatter(APPEAL_REASON_LABELS),
            "deadline": deadline_badge(),
            "letter_upload": self.file_link("letter_upload"),
        }


def register(admin) -> None:
    s = db.session
    admin.add_view(
        UnitInfoView(Organization, s, name=_l("单位信息管理"), category=CAT_UNIT, endpoint="unit_info")
    )
    admin.add_view(
        UnitAccountView(User, s, name=_l("单位账号管理"), category=CAT_UNIT, endpoint="unit_accounts")
    )
    admin.add_view(
        BranchView(Organization, s, name=_l("二级单位管理"), category=CAT_UNIT, endpoint="unit_branches")
    )
    admin.add_view(
        UnitChangeRequestView(
            UnitChangeRequest, s, name=_l("单位信息变更"), category=CAT_UNIT, endpoint="unit_changes"
        )
    )
    admin.add_view(
        UnitQualificationView(
            UnitQualificationRequest,
            s,
            name=_l("单位资质管理"),
            category=CAT_UNIT,
            endpoint="unit_qualifications",
        )
    )
    admin.add_view(
        UnitRegistrationReviewView(
            Organization,
            s,
            name=_l("单位注册审核"),
            category=CAT_REGISTRY_REVIEW,
            endpoint="unit_registrations",
        )
    )
    admin.add_view(
        ChangeReviewView(
            UnitChangeRequest,
            s,
            name=_l("单位变更审核"),
            category=CAT_REGISTRY_REVIEW,
            endpoint="unit_change_review",
        )
    )
    admin.add_view(
        QualificationReviewView(
            UnitQualificationRequest,
            s,
            name=_l("单位资质审核"),
            category=CAT_REGISTRY_REVIEW,
            endpoint="unit_qualification_review",
        )
    )
    admin.add_view(UnitQuestionView(UnitQuestion, s, name=_l("在线提问解答"), endpoint="unit_questions"))
    admin.add_view(
        QuestionAnswerView(
            UnitQuestion,
            s,
            name=_l("在线提问解答"),
            category=CAT_REGISTRY_REVIEW,
            endpoint="unit_question_answers",
        )
    )
    admin.add_view(
        RegistryNoticeView(
            RegistryNotice,
            s,
            name=_l("公示通知/会员通知"),
            category=CAT_REGISTRY_REVIEW,
            endpoint="registry_notices",
        )
    )
    admin.add_view(UnitNoticeView(RegistryNotice, s, name=_l("协会通知"), endpoint="unit_notices"))
    admin.add_view(
        AppealReviewView(
            UnitAccountAppeal,
            s,
            name=_l("账号申诉审核"),
            category=CAT_REGISTRY_REVIEW,
            endpoint="unit_appeals",
        )
    )
