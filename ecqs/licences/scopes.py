"""Row scopes of production licence applications."""

from __future__ import annotations

from sqlalchemy import false, select, true

from ecqs.access import (
    scope_for,
)
from ecqs.licences.rules import reviewable
from ecqs.models import (
    LicenceApplication,
    LicenceItem,
    LicenceReviewFeedback,
)

# An assessment institution sees an application once the applicant has engaged it.
LICENCE_ASSESSOR_STATES = ("engaged", "scheduled", "reviewed", "granted", "refused")


@scope_for(LicenceItem)
def _licence_items(query, user):
    # The catalogue is public reference data; only administrators get its grid (view roles).
    return query.where(true())


@scope_for(LicenceApplication)
def _licence_applications(query, user):
    if user.role == "admin":
        return query
    if user.role == "enterprise" and user.organization_id:
        return query.where(LicenceApplication.organization_id == user.organization_id)
    if (addressed := reviewable(user)) is not None:
        # Only applications addressed to the reviewer's own authority, and never drafts.
        return query.where(addressed)
    if user.role == "assessor" and user.organization_id:
        return query.where(
            LicenceApplication.assessor_org_id == user.organization_id,
            LicenceApplication.status.in_(LICENCE_ASSESSOR_STATES),
        )
    return query.where(false())


@scope_for(LicenceReviewFeedback)
def _licence_feedbacks(query, user):
    # 此表仅审批人员可见: the authority's reviewers (and the applicant who wrote it); never the
    # assessment institution.
    if user.role == "admin":
        return query
    if (addressed := reviewable(user)) is not None:
        reviewed = select(LicenceApplication.id).where(addressed)
        return query.where(LicenceReviewFeedback.application_id.in_(reviewed))
    if user.role == "enterprise" and user.organization_id:
        own = select(LicenceApplication.id).where(LicenceApplication.organization_id == user.organization_id)
        return query.where(LicenceReviewFeedback.application_id.in_(own))
    return query.where(false())
