"""Compulsory-verification instruments 强检器具: catalogue, ledger, metrology authorisations,
bookings and their items, reminders."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecqs.accounts.models import Division, Organization, User
from ecqs.extensions import db
from ecqs.i18n import lazy_gettext as _l
from ecqs.services.models import TZDateTime, utcnow

INSTRUMENT_STATUS_LABELS = {"in_use": _l("在用"), "stopped": _l("停用"), "scrapped": _l("报废")}
INSTRUMENT_TYPE_LABELS = {"working": _l("工作计量器具")}
INSTRUMENT_ORIGIN_LABELS = {"domestic": _l("国产"), "imported": _l("进口")}
INSTRUMENT_PURPOSE_LABELS = {
    "trade": _l("贸易结算"),
    "safety": _l("安全防护"),
    "medical": _l("医疗卫生"),
    "environment": _l("环境监测"),
}
DELIVERY_MODE_LABELS = {"send": _l("送检"), "onsite": _l("现场检定")}
BOOKING_STATUS_LABELS = {"draft": _l("待提交"), "submitted": _l("已提交"), "answered": _l("已反馈")}
BOOKING_ITEM_STATUS_LABELS = {
    "pending": _l("待预约"),
    "allocated": _l("待受理"),
    "accepted": _l("已受理"),
    "verified": _l("已检定"),
    "returned": _l("已退回"),
    "cancelled": _l("已取消"),
}
# An instrument may be in one open booking item at a time (enforced by a partial unique index).
OPEN_ITEM_STATES = ("pending", "allocated", "accepted")
VERIFICATION_RESULT_LABELS = {"qualified": _l("合格"), "unqualified": _l("不合格")}
EXPIRY_WARNING_DAYS = 30


def expiry_state(valid_until: date | None, status: str, today: date) -> str | None:
    """An instrument's expiry warning: 'overdue' (red), 'due_soon' (yellow, within 30 days) or
    None (no date, scrapped, or valid for longer). Instrument.expiry_state and the ledger page's
    rows (instruments/ledger_rows.py) both ask it."""
    if valid_until is None or status == "scrapped":
        return None
    if valid_until < today:
        return "overdue"
    if (valid_until - today).days <= EXPIRY_WARNING_DAYS:
        return "due_soon"
    return None


class InstrumentItem(db.Model):
    """强检器具目录 项别 (e.g. 压力仪表)."""

    __tablename__ = "instrument_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))

    kinds: Mapped[list[InstrumentKind]] = relationship(back_populates="item", order_by="InstrumentKind.code")

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<InstrumentItem {self.code} {self.name}>"


class InstrumentKind(db.Model):
    """强检器具目录 种别 (e.g. 指示类压力表) under one item; instruments and authorisations name it."""

    __tablename__ = "instrument_kinds"
    __table_args__ = (
        CheckConstraint(
            "verification_period_months IS NULL OR verification_period_months BETWEEN 1 AND 240",
            name="verification_period_range",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("instrument_items.id"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # 监管方式 and 强制检定方式 of the official catalogue; empty where not verified (seed says so).
    type_approval: Mapped[str | None] = mapped_column(String(60))
    compulsory_verification: Mapped[str | None] = mapped_column(String(60))
    # 检定周期 in months: proposes the new 有效期至 of a verification result (empty: none).
    verification_period_months: Mapped[int | None] = mapped_column(Integer)

    item: Mapped[InstrumentItem] = relationship(back_populates="kinds")

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<InstrumentKind {self.code} {self.name}>"


class Instrument(db.Model):
    """强检器具台账: one row of an enterprise's ledger (every field of seed 003's form)."""

    __tablename__ = "instruments"
    __table_args__ = (
        UniqueConstraint("organization_id", "kind_id", "serial_no", name="uq_instruments_org_kind_serial"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("status IN ('in_use', 'stopped', 'scrapped')", name="status_known"),
        CheckConstraint("origin IN ('domestic', 'imported')", name="origin_known"),
        CheckConstraint("purpose IN ('trade', 'safety', 'medical', 'environment')", name="purpose_known"),
        CheckConstraint("delivery_mode IN ('send', 'onsite')", name="delivery_mode_known"),
        Index("ix_instruments_org_id", "organization_id", "id"),
        Index("ix_instruments_division_valid", "usage_division_code", "valid_until"),
        # 统计分析: counts by division, status and expiry read this index alone (no table rows).
        Index("ix_instruments_division_status_valid", "usage_division_code", "status", "valid_until"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(100))
    instrument_type: Mapped[str] = mapped_column(String(20), default="working")
    kind_id: Mapped[int] = mapped_column(ForeignKey("instrument_kinds.id"), index=True)
    model_spec: Mapped[str] = mapped_column(String(100))
    measuring_range: Mapped[str] = mapped_column(String(100))
    accuracy_class: Mapped[str] = mapped_column(String(50))
    serial_no: Mapped[str] = mapped_column(String(60))
    manufacturer: Mapped[str] = mapped_column(String(120))
    origin: Mapped[str] = mapped_column(String(10), default="domestic")
    usage_division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"))
    usage_place: Mapped[str] = mapped_column(String(200))
    purchase_date: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    purpose: Mapped[str] = mapped_column(String(20))
    delivery_mode: Mapped[str] = mapped_column(String(20), default="send")
    # Set on add/copy; afterwards only a verification result recorded by an institution moves it.
    # No index of its own: 'overdue, newest first' pages walk the primary key (see access.unindexed).
    valid_until: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="in_use")
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    organization: Mapped[Organization] = relationship()
    kind: Mapped[InstrumentKind] = relationship()
    usage_division: Mapped[Division] = relationship()

    @property
    def item(self) -> InstrumentItem:
        return self.kind.item

    @property
    def item_id(self) -> int | None:
        return self.kind.item_id if self.kind is not None else None

    def expiry_state(self, today: date) -> str | None:
        """'overdue' (red), 'due_soon' (yellow, within 30 days) or None."""
        return expiry_state(self.valid_until, self.status, today)

    def __str__(self) -> str:
        return f"{self.name}（{self.serial_no}）"

    def __repr__(self) -> str:
        return f"<Instrument {self.id} {self.name!r} {self.serial_no!r} {self.status}>"


class MetrologyAuthorization(db.Model):
    """授权范围: a metrology institution may verify one kind in one division (and below it)."""

    __tablename__ = "metrology_authorizations"
    __table_args__ = (
        UniqueConstraint(
            "institution_id", "kind_id", "division_code", name="uq_metrology_authorizations_scope"
        ),
        Index("ix_metrology_authorizations_kind_division", "kind_id", "division_code"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind_id: Mapped[int] = mapped_column(ForeignKey("instrument_kinds.id"))
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    institution: Mapped[Organization] = relationship()
    kind: Mapped[InstrumentKind] = relationship()
    division: Mapped[Division] = relationship()

    def __str__(self) -> str:
        return f"{self.institution.name} {self.kind.name} {self.division_code}"

    def __repr__(self) -> str:
        return f"<MetrologyAuthorization {self.institution_id} {self.kind_id} {self.division_code}>"


class Booking(db.Model):
    """预约单: an enterprise's request to have instruments verified."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'submitted', 'answered')", name="status_known"),
        CheckConstraint("(status = 'draft') = (submitted_at IS NULL)", name="submitted_at_iff_submitted"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(24), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    remark: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    organization: Mapped[Organization] = relationship()
    created_by: Mapped[User | None] = relationship()
    items: Mapped[list[BookingItem]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="BookingItem.id"
    )

    def __str__(self) -> str:
        return self.number or f"#{self.id}"

    def __repr__(self) -> str:
        return f"<Booking {self.id} {self.number} {self.status}>"


class BookingItem(db.Model):
    """One instrument of a booking, with its flow status 流程状态 and its receipt 回执信息."""

    __tablename__ = "booking_items"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'allocated', 'accepted', 'verified', 'returned', 'cancelled')",
            name="status_known",
        ),
        CheckConstraint("(status = 'pending') = (institution_id IS NULL)", name="institution_iff_allocated"),
        CheckConstraint("(status = 'verified') = (result IS NOT NULL)", name="result_iff_verified"),
        CheckConstraint("result IS NULL OR result IN ('qualified', 'unqualified')", name="result_known"),
        Index(
            "uq_booking_items_open_instrument",
            "instrument_id",
            unique=True,
            sqlite_where=text("status IN ('pending', 'allocated', 'accepted')"),
            postgresql_where=text("status IN ('pending', 'allocated', 'accepted')"),
        ),
        Index("ix_booking_items_institution_status", "institution_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), index=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    allocated_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    receipt_note: Mapped[str | None] = mapped_column(String(500))
    return_reason: Mapped[str | None] = mapped_column(String(2000))
    result: Mapped[str | None] = mapped_column(String(20))
    certificate_no: Mapped[str | None] = mapped_column(String(60))
    verified_on: Mapped[date | None] = mapped_column(Date)
    new_valid_until: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    booking: Mapped[Booking] = relationship(back_populates="items")
    instrument: Mapped[Instrument] = relationship()
    institution: Mapped[Organization | None] = relationship()

    def __str__(self) -> str:
        return str(self.instrument) if self.instrument is not None else f"#{self.id}"

    def __repr__(self) -> str:
        return f"<BookingItem {self.id} booking={self.booking_id} {self.status}>"


class InstrumentReminder(db.Model):
    """One expiry reminder sent for an instrument, window ('due' or 'overdue') and 有效期至:
    the unique key makes `flask remind` idempotent."""

    __tablename__ = "instrument_reminders"
    __table_args__ = (
        UniqueConstraint("instrument_id", "window", "valid_until", name="uq_instrument_reminders_window"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    window: Mapped[str] = mapped_column(String(10))
    valid_until: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<InstrumentReminder {self.instrument_id} {self.window} {self.valid_until}>"
