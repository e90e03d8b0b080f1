"""Registry models: a unit's change requests 单位信息变更 and qualification requests 单位资质管理."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from ecqs.accounts.models import Organization, User
from ecqs.extensions import db
from ecqs.i18n import lazy_gettext as _l
from ecqs.services.models import TZDateTime, Upload, utcnow

__all__ = [
    "APPEAL_REASON_LABELS",
    "CHANGE_FIELD_LABELS",
    "CHANGE_KIND_LABELS",
    "DEREGISTRATION_STATUS_LABELS",
    "NOTICE_KIND_LABELS",
    "QUESTION_STATUS_LABELS",
    "REGISTRATION_STATUS_LABELS",
    "REGISTRY_STATUS_LABELS",
    "UNIT_QUALIFICATION_TYPES",
    "PractitionerDeregistration",
    "PractitionerDeregistrationItem",
    "PractitionerRegistration",
    "PractitionerRegistrationItem",
    "RegistryNotice",
    "RegistryNoticeRead",
    "UnitAccountAppeal",
    "UnitChangeRequest",
    "UnitQualificationRequest",
    "UnitQuestion",
]

REGISTRY_STATUS_LABELS = {"pending": _l("待审核"), "approved": _l("通过"), "rejected": _l("驳回")}
CHANGE_KIND_LABELS = {"info": _l("信息变更"), "split": _l("单位拆分"), "merge": _l("单位合并")}
# The fields that change only through a change request (seed 004 §3.2.4), in the manual's order.
CHANGE_FIELD_LABELS = {
    "name": _l("单位名称"),
    "legal_rep_name": _l("单位法人"),
    "uscc": _l("机构代码"),
    "address": _l("单位地址"),
    "postcode": _l("单位邮编"),
    "contact_name": _l("执业公示授权联系人"),
    "contact_mobile": _l("执业公示授权联系人手机号"),
}
UNIT_QUALIFICATION_TYPES = {
    "type_test": _l("型式试验机构"),
    "inspection": _l("检验机构"),
    "testing": _l("检测机构"),
    "elevator_testing": _l("电梯检测机构"),
    "other": _l("其他"),
}


class UnitChangeRequest(db.Model):
    """单位信息变更: 信息变更 / 单位拆分 / 单位合并 with a proof; staff approval applies it."""

    __tablename__ = "unit_change_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
        CheckConstraint("kind IN ('info', 'split', 'merge')", name="kind_known"),
        CheckConstraint("kind = 'merge' OR partner_id IS NULL", name="partner_only_for_merge"),
        CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="decided_iff_not_pending"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    # {field: value} as the unit stood when the request was filed, and as requested.
    current_values: Mapped[dict] = mapped_column(JSON, default=dict)
    requested_values: Mapped[dict] = mapped_column(JSON, default=dict)
    # 单位合并: the unit absorbed into this one. 单位拆分: the branches that leave with the new unit.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    split_branch_ids: Mapped[list] = mapped_column(JSON, default=list)
    # 单位拆分: the unit created on approval.
    created_unit_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    proof_upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    organization: Mapped[Organization] = relationship(foreign_keys=[organization_id])
    partner: Mapped[Organization | None] = relationship(foreign_keys=[partner_id])
    created_unit: Mapped[Organization | None] = relationship(foreign_keys=[created_unit_id])
    proof_upload: Mapped[Upload | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return self.number

    def __repr__(self) -> str:
        return f"<UnitChangeRequest {self.number} {self.kind} {self.status}>"


class UnitQualificationRequest(db.Model):
    """单位资质: a qualification certificate a unit asks the association to record."""

    __tablename__ = "unit_qualification_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
        CheckConstraint("valid_until > issued_on", name="valid_after_issue"),
        CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="decided_iff_not_pending"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    qual_type: Mapped[str] = mapped_column(String(30))
    certificate_number: Mapped[str] = mapped_column(String(60))
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    certificate_upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))
    remarks: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    organization: Mapped[Organization] = relationship()
    certificate_upload: Mapped[Upload | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return self.number

    def __repr__(self) -> str:
        return f"<UnitQualificationRequest {self.number} {self.qual_type} {self.status}>"


QUESTION_STATUS_LABELS = {"open": _l("待解答"), "answered": _l("已解答")}
NOTICE_KIND_LABELS = {"publicity": _l("公示通知"), "member": _l("会员通知")}


class UnitQuestion(db.Model):
    """在线提问解答: a unit asks, association staff answer; the thread is the question, the
    answers and follow-ups (each a transition comment on the record's timeline)."""

    __tablename__ = "unit_questions"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'answered')", name="status_known"),
        CheckConstraint("(status = 'answered') = (answer IS NOT NULL)", name="answer_iff_answered"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(4000))
    attachment_upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    answer: Mapped[str | None] = mapped_column(String(4000))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    organization: Mapped[Organization] = relationship()
    asked_by: Mapped[User] = relationship(foreign_keys=[asked_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    attachment_upload: Mapped[Upload | None] = relationship()

    def __str__(self) -> str:
        return self.title

    def __repr__(self) -> str:
        return f"<UnitQuestion {self.id} {self.status}>"


class RegistryNotice(db.Model):
    """公示通知 / 会员通知 published by association staff to every inspection unit."""

    __tablename__ = "registry_notices"
    __table_args__ = (CheckConstraint("kind IN ('publicity', 'member')", name="kind_known"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="publicity", index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(20000))
    published_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __str__(self) -> str:
        return self.title

    def __repr__(self) -> str:
        return f"<RegistryNotice {self.id} {self.kind}>"


class RegistryNoticeRead(db.Model):
    """A read mark: this user opened this notice."""

    __tablename__ = "registry_notice_reads"
    __table_args__ = (UniqueConstraint("notice_id", "user_id", name="one_mark_per_user"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("registry_notices.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    read_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


APPEAL_REASON_LABELS = {"mobile_disabled": _l("手机停用"), "staff_left": _l("原管理人员离职")}


class UnitAccountAppeal(db.Model):
    """账号申诉 (seed 004 §2.3.2): the unit's authorised contact can no longer recover the
    password by SMS; a new contact asks, with a signed authorisation letter, to take over."""

    __tablename__ = "unit_account_appeals"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
        CheckConstraint("reason IN ('mobile_disabled', 'staff_left')", name="reason_known"),
        CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="decided_iff_not_pending"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_id_number: Mapped[str] = mapped_column(String(18))
    contact_mobile: Mapped[str] = mapped_column(String(11))
    contact_email: Mapped[str | None] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(String(20))
    letter_upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    submitted_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    organization: Mapped[Organization] = relationship()
    letter_upload: Mapped[Upload] = relationship()

    def __str__(self) -> str:
        return f"{self.organization.name if self.organization else ''} {self.contact_name}"

    def __repr__(self) -> str:
        return f"<UnitAccountAppeal {self.id} {self.status}>"


# ---- Part 2: published practitioner registrations 执业公示注册 (seed 004 §3.3 and §4) ------------

REGISTRATION_STATUS_LABELS = {"registered": _l("已注册"), "deregistered": _l("已注销")}


class PractitionerMixin:
    """The practitioner and the unit, as a 执业公示申报单 names them and the registration it
    publishes keeps them: the person's account (if any), name, ID number and mobile, and the
    unit they practise at. Each table names its own composite indexes over these columns; the
    mobile's length is the table's (MOBILE_LENGTH)."""

    MOBILE_LENGTH = 20

    person_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    person_name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(String(18))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))

    @declared_attr
    def mobile(cls) -> Mapped[str | None]:
        return mapped_column(String(cls.MOBILE_LENGTH))

    # foreign_keys: a table may hold a second key to users or organizations (created_by_id,
    # previous_organization_id).
    @declared_attr
    def person(cls) -> Mapped[User | None]:
        return relationship(User, foreign_keys=lambda: [cls.person_id])

    @declared_attr
    def organization(cls) -> Mapped[Organization]:
        return relationship(Organization, foreign_keys=lambda: [cls.organization_id])


class PractitionerRegistration(PractitionerMixin, db.Model):
    """A practitioner's published registration 执业公示注册 at one inspection unit: who, where,
    which items (its `items`), until when. Created and changed only by the registry's operations
    (an approved 执业公示申报单 publishes or extends it; an approved 注销申请 ends it). A person
    has at most one `registered` row (one unit per person); the public query and the unit's
    registered-people grid find rows by exact, indexed keys."""

    __tablename__ = "practitioner_registrations"
    __table_args__ = (
        CheckConstraint("status IN ('registered', 'deregistered')", name="status_known"),
        CheckConstraint("valid_until > registered_on", name="valid_after_registration"),
        CheckConstraint(
            "(status = 'deregistered') = (deregistered_on IS NOT NULL)", name="deregistered_iff_date"
        ),
        Index("ix_practitioner_registrations_id_number", "id_number"),
        Index("ix_practitioner_registrations_name_id", "person_name", "id_number"),
        # organization_id: the unit the person practises at (a branch's people count under its
        # parent unit).
        Index("ix_practitioner_registrations_unit_status", "organization_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # 注册证书编号: printed on the publicity certificate, searched by the public query.
    number: Mapped[str] = mapped_column(String(30), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="registered", index=True)
    registered_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    deregistered_on: Mapped[date | None] = mapped_column(Date)
    deregistration_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    items: Mapped[list[PractitionerRegistrationItem]] = relationship(
        back_populates="registration",
        cascade="all, delete-orphan",
        order_by="PractitionerRegistrationItem.id",
    )

    @property
    def items_label(self) -> str:
        return "、".join(item.label for item in self.items) or "-"

    def __str__(self) -> str:
        return self.number

    def __repr__(self) -> str:
        return f"<PractitionerRegistration {self.number} {self.status}>"


class PractitionerRegistrationItem(db.Model):
    """One registered item 注册项目 (a personnel project at a level), backed by the valid
    qualification certificate 资格证书 that made it eligible."""

    __tablename__ = "practitioner_registration_items"
    __table_args__ = (UniqueConstraint("registration_id", "project_id", name="one_row_per_project"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("practitioner_registrations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("personnel_projects.id"), index=True)
    project_code: Mapped[str] = mapped_column(String(30), default="")
    project_name: Mapped[str] = mapped_column(String(100), default="")
    level: Mapped[str] = mapped_column(String(20), default="")
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("qualification_certificates.id"))
    added_on: Mapped[date] = mapped_column(Date)

    registration: Mapped[PractitionerRegistration] = relationship(back_populates="items")

    @property
    def label(self) -> str:
        text = " ".join(part for part in (self.project_code, self.project_name) if part) or "-"
        return f"{text}（{self.level}）" if self.level else text

    def __repr__(self) -> str:
        return f"<PractitionerRegistrationItem {self.project_code!r} {self.level!r}>"


# ---- 注册证书注销申请 (seed 004 §3.3.4) --------------------------------------------------------

DEREGISTRATION_STATUS_LABELS = {
    "draft": _l("待提交"),
    "submitted": _l("待审核"),
    "approved": _l("审核通过"),
    "rejected": _l("驳回"),
}


class PractitionerDeregistration(db.Model):
    """注册证书注销申请: the unit names registered practitioners (a reason each), prints the
    request, stamps it and uploads the scan with the courier number 快递单号; association staff
    approve (each registration becomes 已注销) or reject it with a reason."""

    __tablename__ = "practitioner_deregistrations"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'submitted', 'approved', 'rejected')", name="status_known"),
        CheckConstraint("status = 'draft' OR scan_upload_id IS NOT NULL", name="scan_once_submitted"),
        CheckConstraint(
            "(status IN ('approved', 'rejected')) = (decided_at IS NOT NULL)", name="decided_iff_decided"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    # The top-level unit (a branch's practitioners are deregistered by the parent unit).
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    scan_upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))
    courier_number: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    organization: Mapped[Organization] = relationship()
    scan_upload: Mapped[Upload | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    items: Mapped[list[PractitionerDeregistrationItem]] = relationship(
        back_populates="deregistration",
        cascade="all, delete-orphan",
        order_by="PractitionerDeregistrationItem.id",
    )

    @property
    def people_count(self) -> int:
        return len(self.items)

    def __str__(self) -> str:
        return self.number

    def __repr__(self) -> str:
        return f"<PractitionerDeregistration {self.number} {self.status}>"


class PractitionerDeregistrationItem(db.Model):
    """One practitioner named in a 注销申请, with the unit's reason 注销原因."""

    __tablename__ = "practitioner_deregistration_items"
    __table_args__ = (
        UniqueConstraint("deregistration_id", "registration_id", name="one_row_per_registration"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    deregistration_id: Mapped[int] = mapped_column(
        ForeignKey("practitioner_deregistrations.id", ondelete="CASCADE"), index=True
    )
    registration_id: Mapped[int] = mapped_column(ForeignKey("practitioner_registrations.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))

    deregistration: Mapped[PractitionerDeregistration] = relationship(back_populates="items")
    registration: Mapped[PractitionerRegistration] = relationship()

    def __repr__(self) -> str:
        return f"<PractitionerDeregistrationItem {self.registration_id} {self.reason!r}>"
