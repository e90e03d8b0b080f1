"""Registry models, part 2: the publicity application 执业公示申报单 a unit files for a
practitioner (seed 004 §3.3) with its requested items, and the manual real-name verification
公示人员实名验证 (seed 004 §4) a unit asks for when the three-factor check fails."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecqs.accounts.models import Organization, User
from ecqs.extensions import db
from ecqs.i18n import lazy_gettext as _l
from ecqs.registry.models import PractitionerMixin, PractitionerRegistration
from ecqs.services.models import TZDateTime, Upload, utcnow

__all__ = [
    "APPLICATION_KIND_LABELS",
    "APPLICATION_STATUS_LABELS",
    "OPEN_APPLICATION_STATES",
    "THREE_FACTOR_LABELS",
    "VERIFICATION_STATUS_LABELS",
    "PublicityApplication",
    "PublicityApplicationItem",
    "RealNameVerification",
]

APPLICATION_KIND_LABELS = {
    "initial": _l("初始"),
    "change": _l("变更"),
    "addition": _l("追加"),
    "renewal": _l("续期"),
}
APPLICATION_STATUS_LABELS = {
    "awaiting_upload": _l("待上传申报单"),
    "submitted": _l("待审核"),
    "approved": _l("审核通过"),
    "rejected": _l("已驳回"),
    "expired": _l("逾期作废"),
}
# An application still in progress: the person may not be applied for again meanwhile.
OPEN_APPLICATION_STATES = ("awaiting_upload", "submitted")
# The three-factor check (name + ID number + mobile) of the application's mobile.
THREE_FACTOR_LABELS = {
    "unchecked": _l("未验证"),
    "passed": _l("验证通过"),
    "mismatch": _l("系统自动验证不一致"),
    "manual": _l("人工核验通过"),
}
VERIFICATION_STATUS_LABELS = {
    "mismatch": _l("系统自动验证不一致"),
    "pending": _l("待人工核验"),
    "passed": _l("人工核验通过"),
    "failed": _l("人工核验不通过"),
}


class PublicityApplication(PractitionerMixin, db.Model):
    """执业公示申报单: one person (初始/变更/续期) or one person of a 追加 batch, its items, the
    7-day window to print, sign, stamp and upload the form with the practitioner's SMS code."""

    __tablename__ = "publicity_applications"
    MOBILE_LENGTH = 11  # the mobile the SMS code goes to (the registration keeps up to 20)
    __table_args__ = (
        CheckConstraint(
            "status IN ('awaiting_upload', 'submitted', 'approved', 'rejected', 'expired')",
            name="status_known",
        ),
        CheckConstraint("kind IN ('initial', 'change', 'addition', 'renewal')", name="kind_known"),
        CheckConstraint(
            "three_factor IN ('unchecked', 'passed', 'mismatch', 'manual')", name="three_factor_known"
        ),
        CheckConstraint("mobile_corrections <= 1", name="one_mobile_correction"),
        Index("ix_publicity_applications_person_status", "id_number", "status"),
        Index("ix_publicity_applications_unit_status", "organization_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # 申报单号
    kind: Mapped[str] = mapped_column(String(10))
    # 变更: the unit the person leaves, and the registration that moves (变更/追加/续期).
    previous_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("practitioner_registrations.id"), index=True
    )
    resignation_upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))  # 离职证明
    form_upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))  # signed, stamped form
    deadline: Mapped[datetime] = mapped_column(TZDateTime, index=True)  # created + 7 days
    three_factor: Mapped[str] = mapped_column(String(10), default="unchecked")
    mobile_corrections: Mapped[int] = mapped_column(Integer, default=0)
    code_sent_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    status: Mapped[str] = mapped_column(String(20), default="awaiting_upload", index=True)
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    previous_organization: Mapped[Organization | None] = relationship(foreign_keys=[previous_organization_id])
    registration: Mapped[PractitionerRegistration | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    resignation_upload: Mapped[Upload | None] = relationship(foreign_keys=[resignation_upload_id])
    form_upload: Mapped[Upload | None] = relationship(foreign_keys=[form_upload_id])
    items: Mapped[list[PublicityApplicationItem]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="PublicityApplicationItem.id"
    )

    @property
    def items_label(self) -> str:
        return "、".join(item.label for item in self.items) or "-"

    def __str__(self) -> str:
        return self.number

    def __repr__(self) -> str:
        return f"<PublicityApplication {self.number} {self.kind} {self.status}>"


class PublicityApplicationItem(db.Model):
    """One item applied for: a personnel project at a level, backed by a valid certificate."""

    __tablename__ = "publicity_application_items"
    __table_args__ = (
        UniqueConstraint("application_id", "project_id", name="one_application_row_per_project"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("publicity_applications.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("personnel_projects.id"))
    project_code: Mapped[str] = mapped_column(String(30), default="")
    project_name: Mapped[str] = mapped_column(String(100), default="")
    level: Mapped[str] = mapped_column(String(20), default="")
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("qualification_certificates.id"))
    certificate_number: Mapped[str] = mapped_column(String(40), default="")
    certificate_valid_until: Mapped[date | None] = mapped_column(Date)

    application: Mapped[PublicityApplication] = relationship(back_populates="items")

    @property
    def label(self) -> str:
        text = " ".join(part for part in (self.project_code, self.project_name) if part) or "-"
        return f"{text}（{self.level}）" if self.level else text


class RealNameVerification(db.Model):
    """公示人员实名验证: a name + ID number + mobile the automatic three-factor check did not
    confirm (系统自动验证不一致), for which the unit asks staff to verify by hand (待人工核验 →
    人工核验通过 / 人工核验不通过). A pass lets the SMS code go to that mobile."""

    __tablename__ = "real_name_verifications"
    __table_args__ = (
        CheckConstraint("status IN ('mismatch', 'pending', 'passed', 'failed')", name="status_known"),
        Index("ix_real_name_verifications_person", "id_number", "mobile"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("publicity_applications.id"), index=True)
    person_name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(String(18))
    mobile: Mapped[str] = mapped_column(String(11))
    remarks: Mapped[str | None] = mapped_column(String(500))
    proof_upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))
    status: Mapped[str] = mapped_column(String(20), default="mismatch", index=True)
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    organization: Mapped[Organization] = relationship()
    application: Mapped[PublicityApplication | None] = relationship()
    proof_upload: Mapped[Upload | None] = relationship()

    def __str__(self) -> str:
        return f"{self.person_name} {self.mobile[:3]}****{self.mobile[-4:]}"

    def __repr__(self) -> str:
        return f"<RealNameVerification {self.id} {self.status}>"
