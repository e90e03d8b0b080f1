"""Row scopes of the registry: a unit sees its own requests; association staff see all units'."""

from __future__ import annotations

from sqlalchemy import false

from ecqs.access import scope_for
from ecqs.models import UnitChangeRequest, UnitQualificationRequest


def _own_unit(query, model, user):
    if user.role in ("admin", "association"):
        return query
    if user.role == "unit" and user.organization_id:
        return query.where(model.organization_id == user.organization_id)
    return query.where(false())


@scope_for(UnitChangeRequest)
def _change_requests(query, user):
    return _own_unit(query, UnitChangeRequest, user)


@scope_for(UnitQualificationRequest)
def _qualification_requests(query, user):
    return _own_unit(query, UnitQualificationRequest, user)
