"""Published registrations 执业公示注册 and their deregistration 注册证书注销申请 (seed 004 §3.3.4):
creating a registration (record_registration, also what an approved publicity application
calls), filing a deregistration request, and the predicates grids, guards and public pages
share. Every refusal raises RegistryError with a Chinese message before anything is written;
statuses change only through the engine (ecqs.registry.workflows)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import case, func, select

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import (
    Organization,
    PersonnelProject,
    PractitionerDeregistration,
    PractitionerDeregistrationItem,
    PractitionerRegistration,
    PractitionerRegistrationItem,
    QualificationCertificate,
    User,
    utcnow,
)
from ecqs.registry.operations import RegistryError
from ecqs.services import audit, workdays

OPEN_DEREGISTRATION = ("draft", "submitted")
REASON_MAX = 200


# ---- predicates ---------------------------------------------------------------------------


def unit_ids(org_id: int) -> list[int]:
    """The unit and its branches (二级单位): practitioners of a branch count under the parent unit."""
    branches = db.session.execute(select(Organization.id).where(Organization.parent_id == org_id)).scalars()
    return [org_id, *branches]


def unit_condition(model_org_column, org_id: int):
    """Rows of the unit or of one of its branches: the condition every unit grid and guard uses.
    The unit ids are read first (one tiny indexed query), so the row lookup is an exact
    `organization_id IN (…)` on its index on every database — an OR with a subquery made
    PostgreSQL scan the whole table."""
    return model_org_column.in_(unit_ids(org_id))


def belongs_to(registration: PractitionerRegistration, org: Organization) -> bool:
    return registration.organization_id in unit_ids(org.id)


def registered_at(person_id_number: str) -> PractitionerRegistration | None:
    """The person's current registration (one unit per person), if any."""
    return db.session.execute(
        select(PractitionerRegistration).where(
            PractitionerRegistration.id_number == person_id_number,
            PractitionerRegistration.status == "registered",
        )
    ).scalar()


def open_deregistration(registration_id: int, except_id=None) -> PractitionerDeregistration | None:
    """A deregistration request not yet decided that already names this registration."""
    stmt = (
        select(PractitionerDeregistration)
        .join(PractitionerDeregistrationItem)
        .where(
            PractitionerDeregistrationItem.registration_id == registration_id,
            PractitionerDeregistration.status.in_(OPEN_DEREGISTRATION),
        )
    )
    if except_id is not None:
        stmt = stmt.where(PractitionerDeregistration.id != except_id)
    return db.session.execute(stmt.limit(1)).scalar()


def in_open_deregistration(registration_ids: list[int]) -> set[int]:
    """Which of these registrations an undecided deregistration request already names."""
    if not registration_ids:
        return set()
    return set(
        db.session.execute(
            select(PractitionerDeregistrationItem.registration_id)
            .join(PractitionerDeregistration)
            .where(
                PractitionerDeregistrationItem.registration_id.in_(registration_ids),
                PractitionerDeregistration.status.in_(OPEN_DEREGISTRATION),
            )
        ).scalars()
    )


def deregistration_problems(registration: PractitionerRegistration | None, org: Organization, except_id=None):
    """Why this registration may not be deregistered by this unit (Chinese), or None."""
    if registration is None or not belongs_to(registration, org):
        return _("该人员未在本单位注册，不能申请注销")
    if registration.status != "registered":
        return _("%(name)s 已注销，不能重复注销", name=registration.person_name)
    if open_deregistration(registration.id, except_id) is not None:
        return _("%(name)s 已在其他注销申请中，不能重复申请", name=registration.person_name)
    return None


def counts_by_status(org_id: int | None) -> dict[str, int]:
    """{status: n} of a unit (with its branches), or of every unit (None)."""
    stmt = select(PractitionerRegistration.status, func.count()).group_by(PractitionerRegistration.status)
    if org_id is not None:
        stmt = stmt.where(unit_condition(PractitionerRegistration.organization_id, org_id))
    return dict(db.session.execute(stmt).all())


def publicised_count(org: Organization) -> int:
    """单位首页: the unit's (and its branches') practitioners registered now."""
    return db.session.execute(
        select(func.count())
        .select_from(PractitionerRegistration)
        .where(
            unit_condition(PractitionerRegistration.organization_id, org.id),
            PractitionerRegistration.status == "registered",
        )
    ).scalar_one()


def counts_by_item(org_id: int | None) -> list[tuple[str, str, str, int, int]]:
    """Per registered item (code, name, level): (code, name, level, registered, deregistered)."""
    reg = PractitionerRegistration
    item = PractitionerRegistrationItem
    registered = func.sum(case((reg.status == "registered", 1), else_=0))
    deregistered = func.sum(case((reg.status == "deregistered", 1), else_=0))
    stmt = (
        select(item.project_code, item.project_name, item.level, registered, deregistered)
        .join(reg, reg.id == item.registration_id)
        .group_by(item.project_code, item.project_name, item.level)
        .order_by(item.project_code, item.project_name, item.level)
    )
    if org_id is not None:
        stmt = stmt.where(unit_condition(reg.organization_id, org_id))
    return [tuple(row) for row in db.session.execute(stmt).all()]


def counts_by_unit() -> list[tuple[str, str, int, int]]:
    """Staff: per top-level unit (name, USCC, registered, deregistered), branches included."""
    reg = PractitionerRegistration
    top = func.coalesce(Organization.parent_id, Organization.id)
    registered = func.sum(case((reg.status == "registered", 1), else_=0))
    deregistered = func.sum(case((reg.status == "deregistered", 1), else_=0))
    per_top = (
        select(top.label("top_id"), registered.label("registered"), deregistered.label("deregistered"))
        .join(Organization, Organization.id == reg.organization_id)
        .group_by(top)
        .subquery()
    )
    stmt = (
        select(Organization.name, Organization.uscc, per_top.c.registered, per_top.c.deregistered)
        .join(per_top, per_top.c.top_id == Organization.id)
        .order_by(per_top.c.registered.desc(), Organization.name)
    )
    return [tuple(row) for row in db.session.execute(stmt).all()]


# ---- creation -----------------------------------------------------------------------------


def _registration_number(row: PractitionerRegistration) -> str:
    return f"ZS{row.registered_on:%Y}{row.id:08d}"


def record_registration(
    person: User,
    unit: Organization,
    items: Iterable,
    registered_on: date,
    valid_until: date,
) -> PractitionerRegistration:
    """Publish a practitioner's registration 已注册 at `unit` (a unit or one of its branches).

    `items` are QualificationCertificates (the item is the certificate's project and level) or
    (PersonnelProject, level) pairs. One unit per person: someone already registered is refused.
    """
    if person is None or not person.id_number or not person.real_name:
        raise RegistryError(_("执业人员须有姓名和身份证号"))
    if unit is None or unit.kind != "unit" or not unit.is_approved:
        raise RegistryError(_("只能在已通过审核的执业单位注册"))
    if valid_until <= registered_on:
        raise RegistryError(_("有效期应晚于注册日期"))
    current = registered_at(person.id_number)
    if current is not None:
        raise RegistryError(
            _("%(name)s 已在“%(unit)s”注册", name=person.real_name, unit=current.organization.name)
        )
    rows, seen = [], set()
    for entry in items:
        if isinstance(entry, QualificationCertificate):
            project, level, cert = entry.project, entry.level, entry
        else:
            project, level = entry
            cert = None
        if not isinstance(project, PersonnelProject):
            raise RegistryError(_("注册项目无效"))
        if project.id in seen:
            raise RegistryError(_("同一项目只能注册一个级别"))
        seen.add(project.id)
        rows.append(
            PractitionerRegistrationItem(
                project_id=project.id,
                project_code=project.code or "",
                project_name=project.name or "",
                level=level or "",
                certificate_id=cert.id if cert else None,
                added_on=registered_on,
            )
        )
    if not rows:
        raise RegistryError(_("请至少选择一个注册项目"))
    registration = PractitionerRegistration(
        number="-",
        person_id=person.id,
        person_name=person.real_name,
        id_number=person.id_number,
        mobile=person.mobile,
        organization_id=unit.id,
        registered_on=registered_on,
        valid_until=valid_until,
        items=rows,
    )
    db.session.add(registration)
    db.session.flush()
    registration.number = _registration_number(registration)
    audit.record("record_created", obj=registration, username=person.username)
    return registration


def _require_unit_account(actor: User) -> Organization:
    if getattr(actor, "role", None) != "unit" or not actor.org_approved or actor.organization is None:
        raise RegistryError(_("只有已通过审核的执业单位可以办理此业务"))
    if actor.organization.parent_id is not None:
        raise RegistryError(_("二级单位人员的注销由上级单位申请"))
    return actor.organization


def file_deregistration(
    actor: User,
    reasons: dict,
    contact_name: str | None = None,
    contact_phone: str | None = None,
) -> PractitionerDeregistration:
    """申请注销: `reasons` maps registration ids to the reason 注销原因 of each. Only registered
    practitioners of the actor's unit (or its branches) not already named in an open request."""
    org = _require_unit_account(actor)
    if not reasons:
        raise RegistryError(_("请选择要注销的注册人员"))
    try:
        wanted = {int(k): (v or "").strip() for k, v in reasons.items()}
    except (TypeError, ValueError):
        raise RegistryError(_("请选择要注销的注册人员")) from None
    registrations = {
        r.id: r
        for r in db.session.execute(
            select(PractitionerRegistration).where(PractitionerRegistration.id.in_(list(wanted)))
        ).scalars()
    }
    items = []
    for reg_id, reason in wanted.items():
        registration = registrations.get(reg_id)
        problem = deregistration_problems(registration, org)
        if problem:
            raise RegistryError(problem)
        if not reason:
            raise RegistryError(_("请填写 %(name)s 的注销原因", name=registration.person_name))
        if len(reason) > REASON_MAX:
            raise RegistryError(_("注销原因不能超过 %(n)d 个字", n=REASON_MAX))
        items.append(PractitionerDeregistrationItem(registration_id=reg_id, reason=reason))
    contact_name = (contact_name or actor.real_name or org.contact_name or "").strip()
    contact_phone = (contact_phone or actor.mobile or org.phone or "").strip()
    if len(contact_name) > 50 or len(contact_phone) > 30:
        raise RegistryError(_("联系人不能超过 50 个字，联系电话不能超过 30 个字"))
    row = PractitionerDeregistration(
        number="-",
        organization_id=org.id,
        contact_name=contact_name,
        contact_phone=contact_phone,
        created_by_id=actor.id,
        created_at=utcnow(),
        items=items,
    )
    db.session.add(row)
    db.session.flush()
    row.number = f"D{workdays.today():%Y%m%d}{row.id:06d}"
    audit.record("record_created", user=actor, obj=row, comment=str(len(items)))
    return row


def clean_courier_number(value: str | None) -> str:
    value = (value or "").strip().upper()
    if not value:
        raise RegistryError(_("请填写快递单号"))
    if not (6 <= len(value) <= 40) or not value.replace("-", "").isalnum():
        raise RegistryError(_("快递单号应为 6 至 40 位字母或数字"))
    return value
