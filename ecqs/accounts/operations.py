"""Operations of the accounts domain: the one home for creating records that enter a workflow
(a registered person, an organisation awaiting review with its administrator, an inspection
unit, a person's request to link to an enterprise). Plain functions over values: they add and
flush, write the audit event and queue notifications; the request commits once."""

from __future__ import annotations

from datetime import date

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import (
    ROLE_FOR_ORG_KIND,
    EnterpriseLink,
    Organization,
    OrganizationQualification,
    User,
    utcnow,
)
from ecqs.services import audit, uploads
from ecqs.services.notify import notify_user


def _account(username: str, password: str, **fields) -> User:
    user = User(username=username, **fields)
    user.set_password(password)
    return user


def register_person(*, username, password, real_name, id_number, mobile) -> User:
    """个人注册: an account of role person, usable at once."""
    user = _account(
        username, password, role="person", real_name=real_name.strip(), id_number=id_number, mobile=mobile
    )
    db.session.add(user)
    db.session.flush()
    audit.record("registered", user=user, obj=user)
    return user


def _register_organization(kind: str, admin: dict, licence, **org_fields) -> tuple[Organization, User]:
    """An organisation 待审核 and its administrator account; `licence` is an uploaded file to
    check and store (UploadError refuses it) or None."""
    stored = uploads.save(licence) if licence is not None else None
    org = Organization(
        kind=kind, licence_upload=stored, status="pending", submitted_at=utcnow(), **org_fields
    )
    user = _account(organization=org, role=ROLE_FOR_ORG_KIND[kind], is_org_admin=True, **admin)
    db.session.add_all([org, user])
    db.session.flush()
    if stored is not None:
        stored.uploaded_by_id = user.id
    audit.record("registered", user=user, obj=org)
    return org, user


def register_enterprise(admin: dict, licence, **org_fields) -> tuple[Organization, User]:
    """企业注册: `admin` holds username, password, real_name, id_number, mobile."""
    return _register_organization("enterprise", admin, licence, **org_fields)


def register_institution(kind: str, admin: dict, licence, **org_fields) -> tuple[Organization, User]:
    """机构注册 (计量技术机构, 鉴定评审机构, 检验检测执业单位)."""
    return _register_organization(kind, admin, licence, **org_fields)


def register_unit(admin: dict, licence_upload, qualifications, **org_fields) -> tuple[Organization, User]:
    """检验检测执业单位 at the end of the wizard: the licence was stored at step 2 (an Upload
    row recorded under the new administrator now), `qualifications` are the step-3 rows."""
    org = Organization(kind="unit", status="pending", submitted_at=utcnow(), **org_fields)
    for q in qualifications:
        org.qualifications.append(
            OrganizationQualification(
                name=q["name"],
                number=q["number"],
                issued_on=date.fromisoformat(q["issued_on"]),
                valid_until=date.fromisoformat(q["valid_until"]),
            )
        )
    user = _account(organization=org, role="unit", is_org_admin=True, **admin)
    db.session.add_all([org, user])
    db.session.flush()
    org.licence_upload = uploads.record(licence_upload, user)
    audit.record("registered", user=user, obj=org)
    return org, user


def request_link(person: User, org: Organization) -> EnterpriseLink:
    """A person asks to be linked to an approved enterprise; its administrators are told."""
    link = EnterpriseLink(person_id=person.id, organization_id=org.id, status="pending")
    db.session.add(link)
    db.session.flush()
    audit.record("link_requested", user=person, obj=link)
    for admin_user in org.users:
        if admin_user.is_org_admin:
            notify_user(admin_user, _("%(name)s申请关联贵单位", name=person.real_name or person.username))
    return link


def update_contact(org: Organization, user: User, *, contact_name: str, phone: str, address: str) -> None:
    """我的机构信息 → 修改联系信息: the organisation's administrator keeps its contact person,
    phone and address current (the booking receipt and the public institution page show them).
    The reviewed identity (name, USCC, division) is not touched; the change is audited."""
    before = f"{org.contact_name}|{org.phone}|{org.address}"
    org.contact_name = contact_name.strip()
    org.phone = phone.strip()
    org.address = address.strip()
    audit.record("record_changed", user=user, obj=org, comment=f"contact: {before}")
