"""Accounts and organisations 账号与单位: divisions, organisations and their qualifications,
users and their server-side sessions, enterprise links."""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app, has_app_context
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ecqs.extensions import db
from ecqs.i18n import lazy_gettext as _l
from ecqs.services.models import TZDateTime, Upload, utcnow

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
MEMBER_TYPE_LABELS = {"member": _l("会员"), "non_member": _l("非会员")}
LINK_STATUS_LABELS = {"pending": _l("待审核"), "approved": _l("已通过"), "rejected": _l("已驳回")}
# An account's state (the ACCOUNT workflow), mapped onto the `active` column (User.account_status).
ACCOUNT_STATUS_LABELS = {"active": _l("启用"), "disabled": _l("停用")}


# Divisions left out of a full name when they are an ancestor (西安市市辖区 is no place's name).
UNNAMED_DIVISIONS = frozenset({"市辖区", "县"})


def division_full_name(names) -> str:
    """A division's full name from its own name and its ancestors' (nearest first): 雁塔区,
    西安市, 陕西省 → 陕西省西安市雁塔区. Division.full_name and pages that select the names
    (the ledger's rows) both ask it."""
    own, *ancestors = names
    return "".join([*(n for n in reversed(ancestors) if n not in UNNAMED_DIVISIONS), own])


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
            names.append(node.name)
            node = node.parent
        return division_full_name(names)

    def __str__(self) -> str:
        return self.full_name

    def __repr__(self) -> str:
        return f"<Division {self.code} {self.name}>"


class Organization(db.Model):
    """Enterprise, institution, authority or association. New ones wait for staff review."""

    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("(status = 'approved') = (approved_at IS NOT NULL)", name="approved_at_iff_approved"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
        CheckConstraint(
            "member_type IS NULL OR member_type IN ('member', 'non_member')", name="member_type_known"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    # Indexed: the public queries find an enterprise by exact name or USCC (no table scan).
    name: Mapped[str] = mapped_column(String(120), index=True)
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
    # 联系人职务 (seed 004 §2.1 step 4, §3.2.1).
    contact_position: Mapped[str | None] = mapped_column(String(30))
    # 会员性质 of an inspection unit in the association (seed 004 §3.2.1).
    member_type: Mapped[str | None] = mapped_column(String(20))
    # 开票信息 (seed 004 §3.2.1): what the association's invoices carry.
    taxpayer_id: Mapped[str | None] = mapped_column(String(20))
    taxpayer_name: Mapped[str | None] = mapped_column(String(120))
    tax_address: Mapped[str | None] = mapped_column(String(200))
    tax_phone: Mapped[str | None] = mapped_column(String(30))
    bank_name: Mapped[str | None] = mapped_column(String(100))
    bank_account: Mapped[str | None] = mapped_column(String(30))
    licence_upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))
    # Inspection-unit certification (seed 004 §2.1 step 2).
    cert_type: Mapped[str | None] = mapped_column(String(60))
    cert_level: Mapped[str | None] = mapped_column(String(30))
    cert_industry: Mapped[str | None] = mapped_column(String(30))
    # 破产解散: set by staff; its former practitioners may change unit within the year (seed 004 §3.3.1).
    dissolved: Mapped[bool] = mapped_column(Boolean, default=False, server_default=db.false())
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
    # Notices also by e-mail (个人中心 → 通知设置); in-app notices are always kept.
    email_notices: Mapped[bool] = mapped_column(Boolean, default=False, server_default=db.false())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(TZDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organization: Mapped[Organization | None] = relationship(back_populates="users")
    # The top bar's unread count as of the request's session load (accounts/auth.py asks for it
    # with the session row; services/notify.unread_count decides whether it still holds).
    unread_at_load: Mapped[int | None] = query_expression()

    # Flask-Login protocol; the id it stores in the cookie is the server-side session token.
    session_token = None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def account_status(self) -> str:
        """The ACCOUNT workflow's state, stored in `active` (no column of its own); only the
        engine's transition step sets it."""
        return "active" if self.active else "disabled"

    @account_status.setter
    def account_status(self, value: str) -> None:
        self.active = value == "active"

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
