"""单位首页 (seed 004 §3.1): what the unit's home page shows beside the inbox: user information,
the number of publicised practitioners (registered now; the unit's branches count under it),
branches, and qualifications expiring within 30 days."""

from __future__ import annotations

from sqlalchemy import select

from ecqs.extensions import db
from ecqs.models import RegistryNotice, RegistryNoticeRead, UnitQualificationRequest
from ecqs.registry import registrations, rules


def unit_home(user) -> dict | None:
    org = user.organization
    if user.role != "unit" or org is None or not org.is_approved:
        return None
    top = org.parent or org
    expiring = [
        q
        for q in db.session.execute(
            select(UnitQualificationRequest)
            .where(
                UnitQualificationRequest.organization_id == top.id,
                UnitQualificationRequest.status == "approved",
            )
            .order_by(UnitQualificationRequest.valid_until)
        ).scalars()
        if rules.expiry_flag(q.valid_until)
    ]
    return {
        "unit": top,
        "publicised": registrations.publicised_count(top),
        "branches": rules.branch_count(top),
        "expiring": expiring,
        "is_admin": rules.is_unit_admin(user),
        "notices": notices_for(user),
    }


def notices_for(user, limit: int = 10) -> list[tuple[RegistryNotice, bool]]:
    """Newest first, each with its read mark for this user."""
    rows = (
        db.session.execute(
            select(RegistryNotice)
            .order_by(RegistryNotice.published_at.desc(), RegistryNotice.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
    read = set(
        db.session.execute(
            select(RegistryNoticeRead.notice_id).where(
                RegistryNoticeRead.user_id == user.id,
                RegistryNoticeRead.notice_id.in_([n.id for n in rows] or [0]),
            )
        ).scalars()
    )
    return [(n, n.id in read) for n in rows]
