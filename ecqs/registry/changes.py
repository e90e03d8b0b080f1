"""Applying an approved change request 单位信息变更 to the units, all at once (the engine's
effect runs inside the transition's transaction: either every row moves or none)."""

from __future__ import annotations

from sqlalchemy import select, update

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import (
    CHANGE_FIELD_LABELS,
    Organization,
    OrganizationQualification,
    PractitionerDeregistration,
    UnitChangeRequest,
    UnitQualificationRequest,
    User,
    utcnow,
)
from ecqs.registry import operations, rules
from ecqs.services import audit
from ecqs.workflows import GuardFailed


def check(request: UnitChangeRequest) -> None:
    """The filing rules again at approval time (the world may have moved since)."""
    org = request.organization
    try:
        if request.kind == "merge":
            operations.check_merge_partner(org, request.partner)
        if request.kind in ("info", "merge"):
            operations.check_requested_uscc(request.requested_values.get("uscc") or "", org)
        if request.kind == "split" and rules.uscc_taken(request.requested_values.get("uscc") or ""):
            raise operations.RegistryError(
                _("统一社会信用代码“%(uscc)s”已被其他单位使用", uscc=request.requested_values.get("uscc"))
            )
    except operations.RegistryError as exc:
        raise GuardFailed(str(exc)) from None


def _set_values(org: Organization, values: dict) -> None:
    for name in CHANGE_FIELD_LABELS:
        value = values.get(name)
        if value:
            setattr(org, name, value)


def apply(request: UnitChangeRequest, actor=None) -> None:
    org = request.organization
    if request.kind == "info":
        _set_values(org, request.requested_values)
        audit.record_change(actor, org, comment=request.number)
    elif request.kind == "merge":
        _merge(org, request.partner)
        _set_values(org, request.requested_values)
        audit.record_change(actor, org, comment=request.number)
    else:
        request.created_unit = _split(org, request.requested_values, request.split_branch_ids or [])
    db.session.flush()


def _merge(survivor: Organization, absorbed: Organization) -> None:
    """单位合并: the absorbed unit becomes a branch of the survivor; its branches, accounts and
    qualifications move to the survivor, so every registration counts under the survivor."""
    db.session.flush()
    db.session.execute(
        update(Organization).where(Organization.parent_id == absorbed.id).values(parent_id=survivor.id)
    )
    db.session.execute(
        update(User)
        .where(User.organization_id == absorbed.id)
        .values(organization_id=survivor.id, is_org_admin=False)
    )
    db.session.execute(
        update(OrganizationQualification)
        .where(OrganizationQualification.organization_id == absorbed.id)
        .values(organization_id=survivor.id)
    )
    db.session.execute(
        update(UnitQualificationRequest)
        .where(UnitQualificationRequest.organization_id == absorbed.id)
        .values(organization_id=survivor.id)
    )
    # Its registrations stay at the absorbed unit (now a branch, counted under the survivor);
    # its deregistration requests go on as the survivor's.
    db.session.execute(
        update(PractitionerDeregistration)
        .where(PractitionerDeregistration.organization_id == absorbed.id)
        .values(organization_id=survivor.id)
    )
    absorbed.parent_id = survivor.id
    db.session.flush()
    for org in (survivor, absorbed):
        db.session.expire(org, ["branches", "users", "qualifications"])


def _split(org: Organization, values: dict, branch_ids: list[int]) -> Organization:
    """单位拆分: a new unit (approved, with the requested name and USCC) takes the named branches."""
    new_unit = Organization(
        kind="unit",
        name=values["name"],
        uscc=values["uscc"],
        legal_rep_name=values.get("legal_rep_name") or None,
        address=values.get("address") or None,
        postcode=values.get("postcode") or None,
        contact_name=values.get("contact_name") or None,
        contact_mobile=values.get("contact_mobile") or None,
        division_code=org.division_code,
        cert_type=org.cert_type,
        status="approved",
        approved_at=utcnow(),
        submitted_at=utcnow(),
    )
    db.session.add(new_unit)
    db.session.flush()
    if branch_ids:
        own = set(
            db.session.execute(
                select(Organization.id).where(
                    Organization.parent_id == org.id, Organization.id.in_(branch_ids)
                )
            ).scalars()
        )
        if own != set(branch_ids):
            raise GuardFailed(_("拆分所列的二级单位已不属于本单位，请驳回后重新申请"))
        db.session.execute(
            update(Organization).where(Organization.id.in_(branch_ids)).values(parent_id=new_unit.id)
        )
    return new_unit
