"""SQLAlchemy models, grouped by module. Small `can_<verb>` predicates live beside the data;
state changes happen only in workflows.py."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class TZDateTime(db.TypeDecorator):
    """Timezone-aware timestamps on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


# --------------------------------------------------------------------------------------------
# M0 Accounts and organisations
# --------------------------------------------------------------------------------------------

ROLE_LABELS = {
    "person": _l("个人用户"),
    "enterprise": _l("企业用户"),
    "metrology": _l("计量技术机构"),
    "assessor": _l("鉴定评审机构"),
    "unit": _l("执业单位"),
    "reviewer": _l("审批人员"),
    "association": _l("协会审核人员"),
    "admin": _l("系统管理员"),
}
STAFF_ROLES = frozenset({"reviewer", "association", "admin"})
ORG_ROLES = frozenset({"enterprise", "metrology", "assessor", "unit"})

ORG_KIND_LABELS = {
    "enterprise": _l("企业"),
    "metrology": _l("计量技术机构"),
    "assessor": _l("鉴定评审机构"),
    "unit": _l("检验检测执业单位"),
    "authority": _l("审批机关"),
    "association": _l("协会"),
}
# Which role a user of an organisation of this kind has.
ROLE_FOR_ORG_KIND = {
    "enterprise": "enterprise",
    "metrology": "metrology",
    "assessor": "assessor",
    "unit": "unit",
    "authority": "reviewer",
    "association": "association",
}
LEGAL_FORM_LABELS = {"legal": _l("法人企业"), "non_legal": _l("非法人企业")}
ENTERPRISE_TYPE_LABELS = {
    "company": _l("公司"),
    "individual_business": _l("个体工商户"),
    "partnership": _l("合伙企业"),
    "sole_proprietorship": _l("个人独资企业"),
    "public_institution": _l("事业单位"),
    "other": _l("其他"),
}
ORG_STATUS_LABELS = {"pending": _l("待审核"), "approved": _l("已通过"), "rejected": _l("已驳回")}
LINK_STATUS_LABELS = {"pending": _l("待审核"), "approved": _l("已通过"), "rejected": _l("已驳回")}


class Division(db.Model):
    """GB/T 2260 administrative division (province, city, county)."""

    __tablename__ = "divisions"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(Integer)  # 1 province, 2 city, 3 county
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("divisions.code"), index=True)

    parent: Mapped[Division | None] = relationship(remote_side=[code])

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def full_name(self) -> str:
        names, node = [], self
        while node is not None:
            if node.name not in {"市辖区", "县"} or node is self:
                names.append(node.name)
            node = node.parent
        return "".join(reversed(names))

    def __str__(self) -> str:
        return self.full_name

    def __repr__(self) -> str:
        return f"<Division {self.code} {self.name}>"


class Upload(db.Model):
    """A stored file. The original name stays here; the file on disk has a random name."""

    __tablename__ = "uploads"
    id: Mapped[int] = mapped_column(primary_key=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    def __str__(self) -> str:
        return self.original_name

    def __repr__(self) -> str:
        return f"<Upload {self.id} {self.original_name!r}>"


class Organization(db.Model):
    """Enterprise, institution, authority or association. New ones wait for staff review."""

    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("(status = 'approved') = (approved_at IS NOT NULL)", name="approved_at_iff_approved"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(120))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    legal_form: Mapped[str | None] = mapped_column(String(20))
    enterprise_type: Mapped[str | None] = mapped_column(String(30))
    division_code: Mapped[str | None] = mapped_column(ForeignKey("divisions.code"), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(6))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(120))
    legal_rep_name: Mapped[str | None] = mapped_column(String(50))
    legal_rep_id_number: Mapped[str | None] = mapped_column(String(18))
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_id_number: Mapped[str | None] = mapped_column(String(18))
    contact_mobile: Mapped[str | None] = mapped_column(String(11))
    licence_upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))
    # Inspection-unit certification (seed 004 §2.1 step 2).
    cert_type: Mapped[str | None] = mapped_column(String(60))
    cert_level: Mapped[str | None] = mapped_column(String(30))
    cert_industry: Mapped[str | None] = mapped_column(String(30))
    # Authorities: national (SAMR) or the bureau of one province.
    authority_level: Mapped[str | None] = mapped_column(String(10))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    submitted_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    division: Mapped[Division | None] = relationship()
    licence_upload: Mapped[Upload | None] = relationship()
    parent: Mapped[Organization | None] = relationship(remote_side=[id], back_populates="branches")
    branches: Mapped[list[Organization]] = relationship(back_populates="parent")
    users: Mapped[list[User]] = relationship(back_populates="organization")
    qualifications: Mapped[list[OrganizationQualification]] = relationship(
        back_populates="organization", cascade="all, delete-orphan"
    )

    @property
    def is_approved(self) -> bool:
        return self.status == "approved"

    @property
    def province_code(self) -> str | None:
        return self.division_code[:2] + "0000" if self.division_code else None

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.kind} {self.name!r} {self.status}>"


class OrganizationQualification(db.Model):
    """单位资质: a qualification an institution holds (optional wizard step 3 of seed 004)."""

    __tablename__ = "organization_qualifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    number: Mapped[str] = mapped_column(String(60))
    issued_on: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)

    organization: Mapped[Organization] = relationship(back_populates="qualifications")

    def __repr__(self) -> str:
        return f"<OrganizationQualification {self.name} {self.number}>"


class User(db.Model):
    """A login account: a person, an organisation's admin or sub-account, or staff."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('person','enterprise','metrology','assessor','unit','reviewer','association','admin')",
            name="role_known",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    is_org_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    real_name: Mapped[str | None] = mapped_column(String(50))
    id_number: Mapped[str | None] = mapped_column(String(18))
    mobile: Mapped[str | None] = mapped_column(String(11), unique=True)
    email: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(TZDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organization: Mapped[Organization | None] = relationship(back_populates="users")

    # Flask-Login protocol; the id it stores in the cookie is the server-side session token.
    session_token = None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token

    def set_password(self, password: str) -> None:
        # scrypt by default; the test suite picks a cheaper KDF through PASSWORD_HASH_METHOD.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)
        self.password_changed_at = utcnow()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def org_approved(self) -> bool:
        """Whether this user may use business functions (staff and persons always may)."""
        if self.role in ORG_ROLES:
            return self.organization is not None and self.organization.is_approved
        return True

    def can_manage_subaccounts(self) -> bool:
        return self.role in ORG_ROLES and self.is_org_admin and self.org_approved

    def __str__(self) -> str:
        return self.real_name or self.username

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username} {self.role}>"


class UserSession(db.Model):
    """Server-side session: logout and idle expiry end it for every worker at once."""

    __tablename__ = "user_sessions"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<UserSession user={self.user_id} ended={self.ended_at}>"


class CaptchaChallenge(db.Model):
    """An image captcha's answer, hashed, single use; shared by all workers through the database."""

    __tablename__ = "captcha_challenges"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    answer_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(TZDateTime)
    used: Mapped[bool] = mapped_column(Boolean, default=False)

    def __repr__(self) -> str:
        return f"<CaptchaChallenge used={self.used}>"


class SmsCode(db.Model):
    """A verification code bound to a mobile and a purpose, stored hashed, single use."""

    __tablename__ = "sms_codes"
    __table_args__ = (Index("ix_sms_codes_mobile_created", "mobile", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(String(11))
    purpose: Mapped[str] = mapped_column(String(30))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime)
    used_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<SmsCode {self.purpose} {self.mobile[:3]}****>"


class SmsMessage(db.Model):
    """短信发件箱: every message the SMS gateway was asked to send."""

    __tablename__ = "sms_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(String(11), index=True)
    body: Mapped[str] = mapped_column(String(500))
    purpose: Mapped[str] = mapped_column(String(30))
    backend: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    def __repr__(self) -> str:
        return f"<SmsMessage {self.id} {self.purpose} {self.status}>"


class EnterpriseLink(db.Model):
    """关联企业: a person asks to work for an enterprise; the enterprise's admin decides."""

    __tablename__ = "enterprise_links"
    __table_args__ = (CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    person: Mapped[User] = relationship()
    organization: Mapped[Organization] = relationship()

    def __repr__(self) -> str:
        return f"<EnterpriseLink {self.person_id}->{self.organization_id} {self.status}>"


class AuditEvent(db.Model):
    """Append-only record of transitions, logins, denials and personal-data changes."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str | None] = mapped_column(String(40))
    organization_id: Mapped[int | None] = mapped_column(Integer, index=True)
    event: Mapped[str] = mapped_column(String(40), index=True)
    result: Mapped[str] = mapped_column(String(20), default="success")
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str | None] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    comment: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(45))

    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<AuditEvent {self.event} {self.object_type}:{self.object_id} {self.result}>"


class Notification(db.Model):
    """An in-app message to one user (站内通知)."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Notification {self.id} to {self.user_id}>"


class Notice(db.Model):
    """通知公告 published by administrators to everyone or to one role."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(20), default="all")
    published_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<Notice {self.id} {self.title!r}>"


class RateCounter(db.Model):
    """A fixed-window request counter of Flask-Limiter, shared by every worker (rate_limits.py)."""

    __tablename__ = "rate_counters"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[float] = mapped_column(db.Float, index=True)

    def __repr__(self) -> str:
        return f"<RateCounter {self.key} {self.count}>"


# --------------------------------------------------------------------------------------------
# M1 Compulsory-verification instruments 强检器具 (issue 4)
# --------------------------------------------------------------------------------------------

# (models of M1 go here)
from sqlalchemy import UniqueConstraint, text  # noqa: E402  (kept in this section: fewer merge conflicts)

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
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("instrument_items.id"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # 监管方式 and 强制检定方式 of the official catalogue; empty where not verified (seed says so).
    type_approval: Mapped[str | None] = mapped_column(String(60))
    compulsory_verification: Mapped[str | None] = mapped_column(String(60))

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
        if self.valid_until is None or self.status == "scrapped":
            return None
        if self.valid_until < today:
            return "overdue"
        if (self.valid_until - today).days <= EXPIRY_WARNING_DAYS:
            return "due_soon"
        return None

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


# --------------------------------------------------------------------------------------------
# M2 Special-equipment production licences 生产单位许可 (issue 3)
# --------------------------------------------------------------------------------------------

# (models of M2 go here)

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

    def is_addressed_to(self, user: User) -> bool:
        return user is not None and user.role == "reviewer" and user.organization_id == self.authority_id

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
        from .workdays import today

        return (
            self.status == "granted"
            and self.licence_valid_until is not None
            and self.licence_valid_from is not None
            and self.licence_valid_from <= today() <= self.licence_valid_until
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


# --------------------------------------------------------------------------------------------
# M3 Inspection/testing personnel qualification 人员资格认定 (issue 3)
# --------------------------------------------------------------------------------------------

# (models of M3 go here)

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
    "received": _l("材料已接收"),
    "approved": _l("已审核"),
    "rejected": _l("不予批准"),
    "withdrawn": _l("已撤回"),
}
OPEN_QUALIFICATION_STATES = ("pending", "received")
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
            "status IN ('pending', 'received', 'approved', 'rejected', 'withdrawn')", name="status_known"
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
            sqlite_where=db.text("status IN ('pending', 'received')"),
            postgresql_where=db.text("status IN ('pending', 'received')"),
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


class QualificationCertificate(db.Model):
    """资格证书 issued on approval. The practitioner registry (M4) checks these: a person holds a
    project when a certificate of it is `valid` and `valid_until` is not past."""

    __tablename__ = "qualification_certificates"
    __table_args__ = (
        CheckConstraint("status IN ('valid', 'superseded', 'revoked')", name="status_known"),
        CheckConstraint("valid_until > issued_on", name="valid_after_issue"),
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
