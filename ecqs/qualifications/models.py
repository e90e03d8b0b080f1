"""Inspection/testing personnel qualification 人员资格认定: projects, applications,
certificates."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecqs.accounts.models import Division, Organization, User
from ecqs.extensions import db
from ecqs.i18n import lazy_gettext as _l
from ecqs.services.models import TZDateTime, utcnow

PERSONNEL_TYPES = ("检验人员", "无损检测人员")  # data values of the catalogue (TSG Z8001/Z8002)
APPROVAL_LEVEL_LABELS = {"national": _l("国家"), "provincial": _l("省级")}
QUALIFICATION_CATEGORY_LABELS = {
    "initial": _l("取证"),
    "exam_renewal": _l("考试换证"),
    "review_renewal": _l("审核换证"),
    "change": _l("变更"),
}
# Categories that act on a certificate the person already holds for the same project.
CERTIFICATE_BASED_CATEGORIES = frozenset({"exam_renewal", "review_renewal", "change"})
QUALIFICATION_STATUS_LABELS = {
    "pending": _l("待受理"),
    "correction": _l("待补正"),
    "received": _l("材料已接收"),
    "approved": _l("已审核"),
    "rejected": _l("不予批准"),
    "withdrawn": _l("已撤回"),
}
OPEN_QUALIFICATION_STATES = ("pending", "correction", "received")
CERTIFICATE_STATUS_LABELS = {"valid": _l("有效"), "superseded": _l("已换发"), "revoked": _l("已撤销")}


class PersonnelProject(db.Model):
    """人员项目目录: one personnel type + project code + level (TSG Z8001-2019 table 1, ...).

    Some official inspector items have no known code and the two codes seen in seed 000 have no
    known name, so either may be empty (never both); an empty approval level means "not known
    yet": nobody can apply for such a project until an administrator fills it in."""

    __tablename__ = "personnel_projects"
    __table_args__ = (
        # A code identifies a project; a project without a known code is identified by type + name.
        Index(
            "uq_personnel_projects_code",
            "code",
            unique=True,
            sqlite_where=db.text("code <> ''"),
            postgresql_where=db.text("code <> ''"),
        ),
        Index(
            "uq_personnel_projects_uncoded_name",
            "personnel_type",
            "name",
            unique=True,
            sqlite_where=db.text("code = ''"),
            postgresql_where=db.text("code = ''"),
        ),
        CheckConstraint("code <> '' OR name <> ''", name="code_or_name"),
        CheckConstraint(
            "approval_level IS NULL OR approval_level IN ('national', 'provincial')", name="approval_known"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    personnel_type: Mapped[str] = mapped_column(String(20), index=True)
    code: Mapped[str] = mapped_column(String(30), default="")
    name: Mapped[str] = mapped_column(String(100), default="")
    level: Mapped[str] = mapped_column(String(20), default="")
    approval_level: Mapped[str | None] = mapped_column(String(10))
    notes: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def display_code(self) -> str:
        return self.code or "-"

    @property
    def display_name(self) -> str:
        return self.name or "-"

    @property
    def can_apply(self) -> bool:
        """Open for applications: active and its approving level is known (routing needs it)."""
        return bool(self.active and self.approval_level)

    def __str__(self) -> str:
        return " ".join(part for part in (self.code, self.name) if part) or "-"

    def __repr__(self) -> str:
        return f"<PersonnelProject {self.id} {self.personnel_type} {self.code!r} {self.name!r}>"


class QualificationApplication(db.Model):
    """检验、检测人员资格认定申请 of one person for one project (seed 000)."""

    __tablename__ = "qualification_applications"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'correction', 'received', 'approved', 'rejected', 'withdrawn')",
            name="status_known",
        ),
        CheckConstraint(
            "category IN ('initial', 'exam_renewal', 'review_renewal', 'change')", name="category_known"
        ),
        CheckConstraint(
            "(accepted_on IS NOT NULL) = (status IN ('received', 'approved', 'rejected'))",
            name="accepted_on_iff_received",
        ),
        CheckConstraint("status <> 'rejected' OR reject_reason IS NOT NULL", name="rejected_has_reason"),
        CheckConstraint(
            "(status = 'approved') = (certificate_id IS NOT NULL)", name="certificate_iff_approved"
        ),
        # One open application per person and project, held by the database against double submits.
        Index(
            "uq_qualification_applications_open",
            "applicant_id",
            "project_id",
            unique=True,
            sqlite_where=db.text("status IN ('pending', 'correction', 'received')"),
            postgresql_where=db.text("status IN ('pending', 'correction', 'received')"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Copies at submission time: the application shows what was asked for, whatever changes later.
    applicant_name: Mapped[str] = mapped_column(String(50))
    applicant_id_number: Mapped[str] = mapped_column(String(18))
    work_unit: Mapped[str | None] = mapped_column(String(120))
    province_code: Mapped[str | None] = mapped_column(ForeignKey("divisions.code"))
    project_id: Mapped[int] = mapped_column(ForeignKey("personnel_projects.id"), index=True)
    personnel_type: Mapped[str] = mapped_column(String(20))
    project_code: Mapped[str] = mapped_column(String(30), default="")
    project_name: Mapped[str] = mapped_column(String(100), default="")
    project_level: Mapped[str] = mapped_column(String(20), default="")
    approval_level: Mapped[str] = mapped_column(String(10))
    application_year: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(20))
    authority_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    base_certificate_id: Mapped[int | None] = mapped_column(ForeignKey("qualification_certificates.id"))
    certificate_id: Mapped[int | None] = mapped_column(
        ForeignKey("qualification_certificates.id"), unique=True
    )
    remarks: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    applied_on: Mapped[date] = mapped_column(Date)
    accepted_on: Mapped[date | None] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date)
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    # 补正 (TSG Z8001-2019 第十二条: 一次性告知申请人需要补正的内容): the points, the documents to
    # replace (DocumentRequirement ids), when it was asked and when the person resubmitted.
    correction_points: Mapped[str | None] = mapped_column(Text)
    correction_documents: Mapped[list] = mapped_column(db.JSON, default=list)
    correction_requested_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    resubmitted_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    applicant: Mapped[User] = relationship()
    province: Mapped[Division | None] = relationship()
    project: Mapped[PersonnelProject] = relationship()
    authority: Mapped[Organization] = relationship()
    base_certificate: Mapped[QualificationCertificate | None] = relationship(
        foreign_keys=[base_certificate_id]
    )
    certificate: Mapped[QualificationCertificate | None] = relationship(
        back_populates="application", foreign_keys=[certificate_id]
    )
    documents: Mapped[list[ApplicationDocument]] = relationship(  # noqa: F821  (ecqs.documents)
        order_by="ApplicationDocument.id", viewonly=True
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_QUALIFICATION_STATES

    @property
    def project_label(self) -> str:
        return " ".join(part for part in (self.project_code, self.project_name) if part) or "-"

    def __str__(self) -> str:
        return f"{self.applicant_name} {self.project_label}"

    def __repr__(self) -> str:
        return f"<QualificationApplication {self.id} {self.project_code!r} {self.status}>"


def new_verify_token() -> str:
    return secrets.token_urlsafe(32)


class QualificationCertificate(db.Model):
    """资格证书 issued on approval. The practitioner registry (M4) checks these: a person holds a
    project when a certificate of it is `valid` and `valid_until` is not past."""

    __tablename__ = "qualification_certificates"
    __table_args__ = (
        CheckConstraint("status IN ('valid', 'superseded', 'revoked')", name="status_known"),
        CheckConstraint("valid_until > issued_on", name="valid_after_issue"),
        CheckConstraint("(status = 'revoked') = (revoked_on IS NOT NULL)", name="revoked_on_iff_revoked"),
        Index("ix_qualification_certificates_holder_project", "holder_id_number", "project_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    holder_name: Mapped[str] = mapped_column(String(50))
    holder_id_number: Mapped[str] = mapped_column(String(18))
    project_id: Mapped[int] = mapped_column(ForeignKey("personnel_projects.id"), index=True)
    personnel_type: Mapped[str] = mapped_column(String(20))
    project_code: Mapped[str] = mapped_column(String(30), default="")
    project_name: Mapped[str] = mapped_column(String(100), default="")
    level: Mapped[str] = mapped_column(String(20), default="")
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="valid", index=True)
    # The QR code of the printed certificate opens the public verification page at this
    # unguessable token, never at the row id or the (guessable) number.
    verify_token: Mapped[str | None] = mapped_column(String(64), unique=True, default=new_verify_token)
    revoked_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    holder: Mapped[User] = relationship()
    project: Mapped[PersonnelProject] = relationship()
    authority: Mapped[Organization] = relationship()
    # The application that issued it (none for certificates recorded otherwise).
    application: Mapped[QualificationApplication | None] = relationship(
        back_populates="certificate",
        foreign_keys="QualificationApplication.certificate_id",
        uselist=False,
    )

    def is_current(self, on: date) -> bool:
        """Valid on `on` (pass workdays.today()): not superseded or revoked, not expired."""
        return self.status == "valid" and self.valid_until >= on

    @property
    def project_label(self) -> str:
        return " ".join(part for part in (self.project_code, self.project_name) if part) or "-"

    def __str__(self) -> str:
        return self.number

    def __repr__(self) -> str:
        return f"<QualificationCertificate {self.number} {self.project_code!r} {self.status}>"
