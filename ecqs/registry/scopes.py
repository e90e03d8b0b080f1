"""Row scopes of the registry: a unit sees its own requests; association staff see all units'."""

from __future__ import annotations

from sqlalchemy import false

from ecqs.access import scope_for
from ecqs.models import UnitChangeRequest, UnitQualificationRequest


def _unit_rows(model):
    def scope(query, user):
        if user.role in ("admin", "association"):
            return query
        if user.role == "unit" and user.organization_id:
            return query.where(model.organization_id == user.organization_id)
        return query.where(false())

    return scope


scope_for(UnitChangeRequest)(_unit_rows(UnitChangeRequest))
scope_for(UnitQualificationRequest)(_unit_rows(UnitQualificationRequest))
