"""Row scopes of personnel qualification."""

from __future__ import annotations

from sqlalchemy import false, true

from ecqs.access import (
    scope_for,
)
from ecqs.models import (
    PersonnelProject,
    QualificationApplication,
    QualificationCertificate,
)
from ecqs.qualifications.rules import reviewed_authority


@scope_for(PersonnelProject)
def _personnel_projects(query, user):
    # The catalogue is public reference data for every signed-in user (the project chooser).
    return query.where(true())


@scope_for(QualificationApplication)
def _qualification_applications(query, user):
    if user.role == "admin":
        return query
    if user.role == "person":
        return query.where(QualificationApplication.applicant_id == user.id)
    if (authority_id := reviewed_authority(user)) is not None:
        return query.where(QualificationApplication.authority_id == authority_id)
    return query.where(false())


@scope_for(QualificationCertificate)
def _qualification_certificates(query, user):
    if user.role == "admin":
        return query
    if user.role == "person":
        return query.where(QualificationCertificate.holder_id == user.id)
    if (authority_id := reviewed_authority(user)) is not None:
        return query.where(QualificationCertificate.authority_id == authority_id)
    return query.where(false())
