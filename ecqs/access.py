"""Who may see which rows: ONE scope function per model, used by every door (list, count,
details, edit, delete, actions, export, file download, inbox)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import false, or_, select, true

from .models import (
    AuditEvent,
    Division,
    EnterpriseLink,
    Notice,
    Notification,
    Organization,
    SmsMessage,
    User,
)

Scope = Callable[[object, User], object]
SCOPES: dict[type, Scope] = {}


def scope_for(model: type):
    def register(fn: Scope) -> Scope:
        SCOPES[model] = fn
        return fn

    return register


def scoped(query, model: type, user: User):
    """Apply the model's scope to a Query or Select. Unknown models are denied by default."""
    if user is None or not getattr(user, "is_authenticated", False):
        return query.where(false())
    fn = SCOPES.get(model)
    if fn is None:
        return query.where(false())
    return fn(query, user)


def is_visible(obj, user: User) -> bool:
    from .extensions import db

    model = type(obj)
    pk = model.__mapper__.primary_key[0]
    stmt = scoped(select(pk).where(pk == getattr(obj, pk.key)), model, user)
    return db.session.execute(stmt).first() is not None


def business_user(user: User) -> bool:
    """Organisation users may use business functions only once their organisation is approved."""
    return user.org_approved


# M0 scopes --------------------------------------------------------------------------------------


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


@scope_for(Notification)
def _notifications(query, user):
    return query.where(Notification.user_id == user.id)


@scope_for(Division)
def _divisions(query, user):
    return query.where(true())


@scope_for(Notice)
def _notices(query, user):
    if user.role == "admin":
        return query
    return query.where(or_(Notice.audience == "all", Notice.audience == user.role))


@scope_for(SmsMessage)
def _sms(query, user):
    return query if user.role == "admin" else query.where(false())


@scope_for(AuditEvent)
def _audit(query, user):
    return query if user.role == "admin" else query.where(false())


# M1 scopes --------------------------------------------------------------------------------------

# (M1 scope functions go here)


# M2 scopes --------------------------------------------------------------------------------------

# (M2 scope functions go here)

from .models import LicenceApplication, LicenceItem, LicenceReviewFeedback  # noqa: E402

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
    if user.role == "reviewer" and user.organization_id:
        # Only applications addressed to the reviewer's own authority, and never drafts.
        return query.where(
            LicenceApplication.authority_id == user.organization_id, LicenceApplication.status != "draft"
        )
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
    if user.role == "reviewer" and user.organization_id:
        addressed = select(LicenceApplication.id).where(
            LicenceApplication.authority_id == user.organization_id
        )
        return query.where(LicenceReviewFeedback.application_id.in_(addressed))
    if user.role == "enterprise" and user.organization_id:
        own = select(LicenceApplication.id).where(LicenceApplication.organization_id == user.organization_id)
        return query.where(LicenceReviewFeedback.application_id.in_(own))
    return query.where(false())


# M3 scopes --------------------------------------------------------------------------------------

# (M3 scope functions go here)

from .models import PersonnelProject, QualificationApplication, QualificationCertificate  # noqa: E402


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
    if user.role == "reviewer" and user.organization_id:
        return query.where(QualificationApplication.authority_id == user.organization_id)
    return query.where(false())


@scope_for(QualificationCertificate)
def _qualification_certificates(query, user):
    if user.role == "admin":
        return query
    if user.role == "person":
        return query.where(QualificationCertificate.holder_id == user.id)
    if user.role == "reviewer" and user.organization_id:
        return query.where(QualificationCertificate.authority_id == user.organization_id)
    return query.where(false())
