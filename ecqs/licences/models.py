"""Special-equipment production licences 生产单位许可: licence catalogue, applications,
numbering counters, review feedback."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecqs.accounts.models import Organization, User
from ecqs.extensions import db
from ecqs.i18n import lazy_gettext as _l
from ecqs.services import workdays
from ecqs.services.models import TZDateTime, Upload, utcnow

LICENCE_EQUIPMENT_CATEGORIES = (
    "锅炉",
    "压力容器",
    "气瓶",
    "压力管道",
    "压力管道元件",
    "安全附件",
    "电梯",
    "起重机械",
    "客运索道",
    "大型游乐设施",
    "场(厂)内专用机动车辆",
)
LICENCE_APPROVAL_LABELS = {"national": _l("国家"), "provincial": _l("省级")}
LICENCE_CATEGORY_LABELS = {
    "first": _l("首次"),
    "addition": _l("增项"),
    "renewal": _l("换证"),
    "change": _l("变更"),
}
LICENCE_STATUS_LABELS = {
    "draft": _l("草稿"),
    "submitted": _l("已提交"),
    "correction": _l("待补正"),
    "accepted": _l("初审通过"),
    "engaged": _l("已约请机构"),
    "scheduled": _l("评审时间已确认"),
    "reviewed": _l("评审完成"),
    "granted": _l("准予许可"),
    "refused": _l("不予许可"),
    "rejected": _l("不予受理"),
    "withdrawn": _l("已撤回"),
}
LICENCE_CONCLUSION_LABELS = {"pass": _l("符合许可条件"), "fail": _l("不符合许可条件")}
# Seed 001, last figure: 评审类别 of the 特种设备鉴定评审工作反馈表.
LICENCE_FEEDBACK_CATEGORIES = (
    "锅炉",
    "压力容器",
    "压力管道",
    "气瓶",
    "其他",
    "电梯",
    "起重机械",
    "大型游乐设施",
    "场(厂)专用机动车辆",
    "客运索道",
    "检验、检测机构",
)


def licence_type_label(licence_type: str | None) -> str:
    """The seed's 许可类型 column: 制造 -> 制造单位许可."""
    return f"{licence_type}单位许可" if licence_type else ""


licence_application_items = db.Table(
    "licence_application_items",
    db.Column("application_id", ForeignKey("licence_applications.id", ondelete="CASCADE"), primary_key=True),
    db.Column("item_id", ForeignKey("licence_items.id"), primary_key=True),
)


class LicenceItem(db.Model):
    """许可项目: one row of the production licence catalogue (one item and parameter level)."""

    __tablename__ = "licence_items"
    __table_args__ = (
        db.UniqueConstraint(
            "equipment_category", "licence_type", "item", "sub_item", "level", name="natural_key"
        ),
        CheckConstraint("approval IN ('national', 'provincial')", name="approval_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_category: Mapped[str] = mapped_column(String(30), index=True)
    licence_type: Mapped[str] = mapped_column(String(20), index=True)
    item: Mapped[str] = mapped_column(String(100))
    sub_item: Mapped[str] = mapped_column(String(100), default="")
    level: Mapped[str] = mapped_column(String(10), default="")
    approval: Mapped[str] = mapped_column(String(10))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def label(self) -> str:
        """As the seed's grid shows it: 安全阀A, 压力管道管子（无缝钢管…）B."""
        sub = f"（{self.sub_item}）" if self.sub_item else ""
        return f"{self.item}{sub}{self.level}"

    @property
    def is_national(self) -> bool:
        return self.approval == "national"

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"<LicenceItem {self.id} {self.licence_type} {self.label}>"


class LicenceApplicationCounter(db.Model):
    """The last sequence number handed out per day; incremented atomically by an upsert."""

    __tablename__ = "licence_application_counters"
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<LicenceApplicationCounter {self.day} {self.last}>"


class LicenceApplication(db.Model):
    """许可申请: an enterprise's production licence application and its whole procedure."""

    __tablename__ = "licence_applications"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft','submitted','correction','accepted','engaged','scheduled','reviewed',"
            "'granted','refused','rejected','withdrawn')",
            name="status_known",
        ),
        CheckConstraint("category IN ('first','addition','renewal','change')", name="category_known"),
        CheckConstraint("(status = 'granted') = (licence_number IS NOT NULL)", name="licence_iff_granted"),
        CheckConstraint("(accepted_at IS NULL) = (acceptance_token IS NULL)", name="token_iff_accepted"),
        CheckConstraint("review_end IS NULL OR review_end >= review_start", name="review_dates_ordered"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # One-time token of the form that created the draft: a double click cannot create two.
    client_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    category: Mapped[str] = mapped_column(String(10))
    licence_type: Mapped[str] = mapped_column(String(20))
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    form_data: Mapped[dict] = mapped_column(db.JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(TZDateTime)  # first submission
    received_at: Mapped[datetime | None] = mapped_column(TZDateTime)  # latest (re)submission
    correction_points: Mapped[str | None] = mapped_column(Text)
    correction_requested_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    # Documents 补正告知书 asks to replace (DocumentRequirement ids).
    correction_documents: Mapped[list] = mapped_column(db.JSON, default=list)
    accepted_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    acceptance_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    assessor_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    assessor_contact_name: Mapped[str | None] = mapped_column(String(50))
    assessor_contact_phone: Mapped[str | None] = mapped_column(String(30))
    engaged_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    proposed_start: Mapped[date | None] = mapped_column(Date)
    proposed_end: Mapped[date | None] = mapped_column(Date)
    proposed_by: Mapped[str | None] = mapped_column(String(10))  # 'assessor' or 'enterprise'
    review_start: Mapped[date | None] = mapped_column(Date)
    review_end: Mapped[date | None] = mapped_column(Date)
    report_upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))
    conclusion: Mapped[str | None] = mapped_column(String(10))
    report_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    licence_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    licence_valid_from: Mapped[date | None] = mapped_column(Date)
    licence_valid_until: Mapped[date | None] = mapped_column(Date)
    certificate_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Statutory clock: working days used before the running segment, and when it started.
    clock_started_on: Mapped[date | None] = mapped_column(Date)
    clock_used_days: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    organization: Mapped[Organization] = relationship(foreign_keys=[organization_id])
    authority: Mapped[Organization | None] = relationship(foreign_keys=[authority_id])
    assessor_org: Mapped[Organization | None] = relationship(foreign_keys=[assessor_org_id])
    created_by: Mapped[User | None] = relationship()
    report_upload: Mapped[Upload | None] = relationship()
    items: Mapped[list[LicenceItem]] = relationship(
        secondary=licence_application_items, order_by=lambda: LicenceItem.id
    )
    feedback: Mapped[LicenceReviewFeedback | None] = relationship(back_populates="application", uselist=False)
    documents: Mapped[list[ApplicationDocument]] = relationship(  # noqa: F821  (ecqs.documents)
        order_by="ApplicationDocument.id", viewonly=True
    )

    @property
    def category_label(self) -> str:
        return str(LICENCE_CATEGORY_LABELS.get(self.category, self.category or ""))

    @property
    def licence_type_label(self) -> str:
        return licence_type_label(self.licence_type)

    @property
    def items_label(self) -> str:
        return "、".join(item.label for item in self.items)

    @property
    def status_label(self) -> str:
        return str(LICENCE_STATUS_LABELS.get(self.status, self.status))

    @property
    def is_editable(self) -> bool:
        return self.status in ("draft", "correction")

    def is_applicant(self, user: User) -> bool:
        return (
            user is not None
            and user.role == "enterprise"
            and user.organization_id == self.organization_id
            and user.org_approved
        )

    def can_edit(self, user: User) -> bool:
        return self.is_editable and self.is_applicant(user)

    def is_engaged_assessor(self, user: User) -> bool:
        return (
            user is not None
            and user.role == "assessor"
            and self.assessor_org_id is not None
            and user.organization_id == self.assessor_org_id
            and user.org_approved
        )

    @property
    def licence_is_current(self) -> bool:
        return (
            self.status == "granted"
            and self.licence_valid_until is not None
            and self.licence_valid_from is not None
            and self.licence_valid_from <= workdays.today() <= self.licence_valid_until
        )

    def __str__(self) -> str:
        return self.number

    def __repr__(self) -> str:
        return f"<LicenceApplication {self.id} {self.number} {self.status}>"


class LicenceReviewFeedback(db.Model):
    """评审反馈表 (seed 001, last figure): the applicant's feedback on the expert review. Only
    approving staff read it; never the assessment institution."""

    __tablename__ = "licence_review_feedbacks"
    __table_args__ = (CheckConstraint("review_end >= review_start", name="dates_ordered"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("licence_applications.id"), unique=True)
    company_name: Mapped[str] = mapped_column(String(120))
    review_start: Mapped[date] = mapped_column(Date)
    review_end: Mapped[date] = mapped_column(Date)
    review_categories: Mapped[str] = mapped_column(String(200))  # '、'-joined
    institution_name: Mapped[str] = mapped_column(String(120))
    reviewers: Mapped[str] = mapped_column(String(200))
    q1_has_issue: Mapped[bool] = mapped_column(Boolean)
    q1_detail: Mapped[str | None] = mapped_column(Text)
    q2_has_issue: Mapped[bool] = mapped_column(Boolean)
    q2_detail: Mapped[str | None] = mapped_column(Text)
    q3_has_issue: Mapped[bool] = mapped_column(Boolean)
    q3_detail: Mapped[str | None] = mapped_column(Text)
    satisfied: Mapped[bool] = mapped_column(Boolean)
    satisfaction_detail: Mapped[str | None] = mapped_column(Text)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    application: Mapped[LicenceApplication] = relationship(back_populates="feedback")
    submitted_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<LicenceReviewFeedback application={self.application_id}>"
