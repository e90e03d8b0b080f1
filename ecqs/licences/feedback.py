"""评审反馈表 — 特种设备鉴定评审工作反馈表 (seed 001, last figure): the applicant answers it
once the assessment institution has submitted its report. The questions are the manual's,
word for word (OCR slips of the screenshot corrected: 索取, 暗示, 申请单位)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, RadioField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import DataRequired, Length, ValidationError

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import LICENCE_FEEDBACK_CATEGORIES, LicenceReviewFeedback, utcnow
from ecqs.services import audit

TITLE = _l("特种设备鉴定评审工作反馈表")
NOTES = (
    # The first note is cut off in the screenshot; only its end "…完成鉴定评审过程。" is legible.
    _l("1.此表由申请单位在完成鉴定评审过程后填写。"),
    _l("2.此表仅审批人员可见，各单位应对表格的真实性负责，如实反映评审真实情况。"),
)
QUESTIONS = (
    (
        "q1",
        _l(
            "一、评审人员在评审过程中，是否存在以下行为：（一）以任何方式接受申请单位支付给个人或机构的任何形式的"
            "补贴费、劳务费、咨询费和有价证券，以明示或暗示的方式索取礼品；（二）要求申请单位报销应当由个人支付的"
            "票据；（三）参加任何由申请单位付费的经营性娱乐活动；（四）以个人名义向申请单位提供有偿咨询；（五）泄露"
            "申请单位的商业秘密；（六）参与申请单位的特种设备生产、销售等经营性活动；（七）借评审之机推销产品；（八）"
            "前往风景、旅游区参观旅游。"
        ),
    ),
    (
        "q2",
        _l(
            "二、评审人员在评审过程中，是否存在未严格执行许可规则以及相关评审要求、态度生硬、有意刁难申请单位的行为。"
        ),
    ),
    ("q3", _l("三、在廉政方面，评审过程中是否有其他影响评审公正性的问题。")),
)
SATISFACTION = _l("四、对评审组的工作是否满意，如不满意，请具体说明。")
NO_YES = [("no", _l("无")), ("yes", _l("有"))]
SATISFIED = [("yes", _l("满意")), ("no", _l("不满意"))]
REQUIRED = _l("此项为必填项")
FEEDBACK_STATES = ("reviewed", "granted", "refused")


class FeedbackError(Exception):
    """Refused; str(exc) is the Chinese message."""


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _detail_needed(answer_field: str, bad: str, message):
    def check(form, field):
        if form[answer_field].data == bad and not (field.data or "").strip():
            raise ValidationError(message)

    return check


class FeedbackForm(FlaskForm):
    company_name = StringField(_l("单位名称"), [DataRequired(message=REQUIRED), Length(max=120)])
    review_start = DateField(_l("评审开始日期"), [DataRequired(message=_l("请填写评审起止日期"))])
    review_end = DateField(_l("评审结束日期"), [DataRequired(message=_l("请填写评审起止日期"))])
    review_categories = MultiCheckboxField(
        _l("评审类别"),
        choices=[(c, c) for c in LICENCE_FEEDBACK_CATEGORIES],
        validators=[DataRequired(message=_l("请至少选择一个评审类别"))],
    )
    institution_name = StringField(_l("评审机构"), [DataRequired(message=REQUIRED), Length(max=120)])
    reviewers = StringField(_l("评审人员"), [DataRequired(message=REQUIRED), Length(max=200)])
    q1 = RadioField(
        QUESTIONS[0][1], choices=NO_YES, validators=[DataRequired(message=_l("请选择“无”或“有”"))]
    )
    q1_detail = TextAreaField(
        _l("具体说明"),
        [_detail_needed("q1", "yes", _l("选择“有”时请具体说明")), Length(max=2000)],
    )
    q2 = RadioField(
        QUESTIONS[1][1], choices=NO_YES, validators=[DataRequired(message=_l("请选择“无”或“有”"))]
    )
    q2_detail = TextAreaField(
        _l("具体说明"),
        [_detail_needed("q2", "yes", _l("选择“有”时请具体说明")), Length(max=2000)],
    )
    q3 = RadioField(
        QUESTIONS[2][1], choices=NO_YES, validators=[DataRequired(message=_l("请选择“无”或“有”"))]
    )
    q3_detail = TextAreaField(
        _l("具体说明"),
        [_detail_needed("q3", "yes", _l("选择“有”时请具体说明")), Length(max=2000)],
    )
    satisfied = RadioField(
        SATISFACTION, choices=SATISFIED, validators=[DataRequired(message=_l("请选择是否满意"))]
    )
    satisfaction_detail = TextAreaField(
        _l("具体说明"),
        [_detail_needed("satisfied", "no", _l("不满意时请具体说明")), Length(max=2000)],
    )

    def validate_review_end(self, field):
        if self.review_start.data and field.data and field.data < self.review_start.data:
            raise ValidationError(_("评审结束日期不能早于开始日期"))


def may_fill(application, user) -> bool:
    return (
        application.status in FEEDBACK_STATES
        and application.is_applicant(user)
        and db.session.execute(
            select(LicenceReviewFeedback.id).where(LicenceReviewFeedback.application_id == application.id)
        ).first()
        is None
    )


def prefill(form: FeedbackForm, application) -> None:
    form.company_name.data = application.organization.name
    form.review_start.data = application.review_start
    form.review_end.data = application.review_end
    form.institution_name.data = application.assessor_org.name if application.assessor_org else ""


def save(application, user, form: FeedbackForm) -> LicenceReviewFeedback:
    """Store the answers once; a second submission is refused (and the unique key holds)."""
    if not may_fill(application, user):
        raise FeedbackError(_("评审反馈表已提交或当前不能填写"))
    feedback = LicenceReviewFeedback(
        application=application,
        company_name=form.company_name.data.strip(),
        review_start=form.review_start.data,
        review_end=form.review_end.data,
        review_categories="、".join(form.review_categories.data),
        institution_name=form.institution_name.data.strip(),
        reviewers=form.reviewers.data.strip(),
        q1_has_issue=form.q1.data == "yes",
        q1_detail=(form.q1_detail.data or "").strip() or None,
        q2_has_issue=form.q2.data == "yes",
        q2_detail=(form.q2_detail.data or "").strip() or None,
        q3_has_issue=form.q3.data == "yes",
        q3_detail=(form.q3_detail.data or "").strip() or None,
        satisfied=form.satisfied.data == "yes",
        satisfaction_detail=(form.satisfaction_detail.data or "").strip() or None,
        submitted_by_id=user.id,
        submitted_at=utcnow(),
    )
    db.session.add(feedback)
    db.session.flush()
    # Recorded against the feedback itself, so it never shows on the application's timeline
    # (which the assessment institution sees).
    audit.record("record_created", user=user, obj=feedback)
    return feedback
