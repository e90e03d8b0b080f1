"""Application documents 申请材料: the per-business list of documents an application must or may
carry (master data, seed/application_documents.csv), and the files applicants attach to licence
and qualification applications. A file is never deleted: a replaced or removed one is marked
superseded and stays in the application's history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecqs.accounts.models import User
from ecqs.extensions import db
from ecqs.i18n import lazy_gettext as _l
from ecqs.services.models import TZDateTime, Upload, utcnow

DOCUMENT_DOMAIN_LABELS = {"licence": _l("生产单位许可"), "qualification": _l("人员资格认定")}
SUPERSEDED_REASON_LABELS = {"replaced": _l("已被替换"), "removed": _l("已删除")}
LIST_SEPARATOR = "、"


def split_list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(LIST_SEPARATOR) if part.strip()]


class DocumentRequirement(db.Model):
    """申请材料目录: one document of a business (licence or qualification), for which licence
    types / personnel types (empty: all) and application categories (empty: all), required or
    optional, with the clause that asks for it."""

    __tablename__ = "document_requirements"
    __table_args__ = (
        db.UniqueConstraint("domain", "name"),  # the natural key
        CheckConstraint("domain IN ('licence', 'qualification')", name="domain_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(100))
    applies_to: Mapped[str] = mapped_column(String(200), default="")  # 、-joined types; '' = all
    categories: Mapped[str] = mapped_column(String(200), default="")  # 、-joined category codes
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    basis: Mapped[str | None] = mapped_column(String(300))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def applies_to_list(self) -> list[str]:
        return split_list(self.applies_to)

    @property
    def category_list(self) -> list[str]:
        return split_list(self.categories)

    def applies(self, kind: str | None, category: str | None) -> bool:
        """Does this document concern an application of this type and category?"""
        types, categories = self.applies_to_list, self.category_list
        return (
            bool(self.active) and (not types or kind in types) and (not categories or category in categories)
        )

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<DocumentRequirement {self.id} {self.domain} {self.name}>"


class ApplicationDocument(db.Model):
    """One file attached to a licence or a qualification application for one document."""

    __tablename__ = "application_documents"
    __table_args__ = (
        CheckConstraint(
            "(licence_application_id IS NULL) <> (qualification_application_id IS NULL)",
            name="one_parent",
        ),
        CheckConstraint(
            "(superseded_at IS NULL) = (superseded_reason IS NULL)", name="superseded_has_reason"
        ),
        CheckConstraint(
            "superseded_reason IS NULL OR superseded_reason IN ('replaced', 'removed')",
            name="reason_known",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    requirement_id: Mapped[int] = mapped_column(ForeignKey("document_requirements.id"), index=True)
    licence_application_id: Mapped[int | None] = mapped_column(
        ForeignKey("licence_applications.id", ondelete="CASCADE"), index=True
    )
    qualification_application_id: Mapped[int | None] = mapped_column(
        ForeignKey("qualification_applications.id", ondelete="CASCADE"), index=True
    )
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    superseded_reason: Mapped[str | None] = mapped_column(String(10))
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    requirement: Mapped[DocumentRequirement] = relationship()
    upload: Mapped[Upload] = relationship()
    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])
    superseded_by: Mapped[User | None] = relationship(foreign_keys=[superseded_by_id])

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None

    @property
    def superseded_label(self) -> str:
        return str(SUPERSEDED_REASON_LABELS.get(self.superseded_reason, "")) if self.superseded_reason else ""

    def __repr__(self) -> str:
        return f"<ApplicationDocument {self.id} requirement={self.requirement_id}>"
