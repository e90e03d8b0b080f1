"""Row scopes of the registry: a unit sees its own requests; association staff see all units'."""

from __future__ import annotations

from sqlalchemy import false, select, true

from ecqs.access import scope_for
from ecqs.models import (
    PractitionerDeregistration,
    PractitionerRegistration,
    PublicityApplication,
    PublicityApplicationItem,
    RealNameVerification,
    RegistryNotice,
    RegistryNoticeRead,
    UnitAccountAppeal,
    UnitChangeRequest,
    UnitQualificationRequest,
    UnitQuestion,
)
from ecqs.registry.registrations import unit_condition


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


@scope_for(UnitQuestion)
def _questions(query, user):
    return _own_unit(query, UnitQuestion, user)


@scope_for(RegistryNotice)
def _notices(query, user):
    # 公示通知 / 会员通知 are for inspection units and the association that publishes them.
    return query.where(true()) if user.role in ("unit", "association", "admin") else query.where(false())


@scope_for(RegistryNoticeRead)
def _notice_reads(query, user):
    return query if user.role == "admin" else query.where(RegistryNoticeRead.user_id == user.id)


@scope_for(UnitAccountAppeal)
def _appeals(query, user):
    # Filed anonymously; only association staff (and administrators) see them.
    return query if user.role in ("admin", "association") else query.where(false())


@scope_for(PublicityApplication)
def _publicity_applications(query, user):
    return _own_unit(query, PublicityApplication, user)


@scope_for(PublicityApplicationItem)
def _publicity_application_items(query, user):
    if user.role in ("admin", "association"):
        return query
    if user.role == "unit" and user.organization_id:
        return query.where(
            PublicityApplicationItem.application_id.in_(
                select(PublicityApplication.id).where(
                    PublicityApplication.organization_id == user.organization_id
                )
            )
        )
    return query.where(false())


@scope_for(RealNameVerification)
def _real_name_verifications(query, user):
    return _own_unit(query, RealNameVerification, user)


@scope_for(PractitionerRegistration)
def _registrations(query, user):
    # A unit sees its own and its branches' practitioners; staff see every unit's.
    if user.role in ("admin", "association"):
        return query
    if user.role == "unit" and user.organization_id:
        return query.where(unit_condition(PractitionerRegistration.organization_id, user.organization_id))
    return query.where(false())


@scope_for(PractitionerDeregistration)
def _deregistrations(query, user):
    return _own_unit(query, PractitionerDeregistration, user)
