"""Predicates of the registry, read alike by grids, guards, operations and pages."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.models import CHANGE_FIELD_LABELS, Organization, UnitChangeRequest, User
from ecqs.services import workdays

REVIEW_WORKING_DAYS = 3  # seed 004 §2.1 and §2.3.2: reviewed within three working days
EXPIRY_WARNING_DAYS = 30  # qualifications are flagged this many days ahead


def review_deadline(submitted_at) -> date | None:
    return workdays.add_working_days(submitted_at, REVIEW_WORKING_DAYS) if submitted_at else None


def is_overdue(deadline: date | None, pending: bool = True) -> bool:
    return pending and deadline is not None and deadline < workdays.today()


def expiry_flag(valid_until: date | None, today: date | None = None) -> str | None:
    """'expired', 'expiring' (within 30 days) or None."""
    if valid_until is None:
        return None
    today = today or workdays.today()
    if valid_until < today:
        return "expired"
    if valid_until <= today + timedelta(days=EXPIRY_WARNING_DAYS):
        return "expiring"
    return None


def is_unit_admin(user: User) -> bool:
    """The unit's admin account of an approved, top-level unit: the only one that manages the
    unit's sub-accounts, branches, change requests and qualifications (seed 004 §3.2.2/3)."""
    return (
        getattr(user, "is_authenticated", False)
        and user.role == "unit"
        and user.is_org_admin
        and user.active
        and user.organization is not None
        and user.organization.is_approved
        and user.organization.parent_id is None
    )


def current_values(org: Organization) -> dict:
    return {name: getattr(org, name) or "" for name in CHANGE_FIELD_LABELS}


def changed_fields(current: dict, requested: dict) -> list[str]:
    return [name for name in CHANGE_FIELD_LABELS if (requested.get(name) or "") != (current.get(name) or "")]


def open_change_request(org: Organization) -> UnitChangeRequest | None:
    return db.session.execute(
        select(UnitChangeRequest).where(
            UnitChangeRequest.organization_id == org.id, UnitChangeRequest.status == "pending"
        )
    ).scalar()


def uscc_taken(uscc: str, except_org_id: int | None = None) -> bool:
    stmt = select(Organization.id).where(Organization.uscc == uscc)
    if except_org_id is not None:
        stmt = stmt.where(Organization.id != except_org_id)
    return db.session.execute(stmt).first() is not None


def branch_ids(org: Organization) -> list[int]:
    return list(db.session.execute(select(Organization.id).where(Organization.parent_id == org.id)).scalars())


def branch_count(org: Organization) -> int:
    return db.session.execute(
        select(func.count()).select_from(Organization).where(Organization.parent_id == org.id)
    ).scalar_one()
