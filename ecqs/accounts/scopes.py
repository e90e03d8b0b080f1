"""Row scopes of accounts and organisations."""

from __future__ import annotations

from sqlalchemy import false, or_, true

from ecqs.access import (
    scope_for,
)
from ecqs.models import (
    Division,
    EnterpriseLink,
    Organization,
    User,
)


@scope_for(Organization)
def _organizations(query, user):
    if user.role == "admin":
        return query
    if user.role == "association":
        return query.where(Organization.kind == "unit")
    if user.organization_id:
        # Own organisation and its branches (二级单位).
        return query.where(
            or_(Organization.id == user.organization_id, Organization.parent_id == user.organization_id)
        )
    return query.where(false())


@scope_for(User)
def _users(query, user):
    if user.role == "admin":
        return query
    if user.organization_id and user.is_org_admin:
        return query.where(User.organization_id == user.organization_id)
    return query.where(User.id == user.id)


@scope_for(EnterpriseLink)
def _links(query, user):
    if user.role == "admin":
        return query
    if user.role == "person":
        return query.where(EnterpriseLink.person_id == user.id)
    if user.role == "enterprise" and user.organization_id:
        return query.where(EnterpriseLink.organization_id == user.organization_id)
    return query.where(false())


@scope_for(Division)
def _divisions(query, user):
    return query.where(true())
