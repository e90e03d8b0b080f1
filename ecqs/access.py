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
from flask import g, has_request_context  # noqa: E402
from sqlalchemy.ext.compiler import compiles  # noqa: E402
from sqlalchemy.sql.functions import FunctionElement  # noqa: E402

from .models import (  # noqa: E402
    Booking,
    BookingItem,
    Instrument,
    InstrumentItem,
    InstrumentKind,
    InstrumentReminder,
    MetrologyAuthorization,
)

LEDGER_ROLES = frozenset({"enterprise", "person"})


def instrument_org_id(user: User) -> int | None:
    """The enterprise whose ledger and bookings this user works on: an enterprise user's own
    (approved) organisation, or for a person the enterprise of an approved link (seed 003
    appendix 2). None for everyone else."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if user.role == "enterprise":
        return user.organization_id if user.org_approved else None
    if user.role != "person":
        return None
    cache = g.setdefault("_instrument_org", {}) if has_request_context() else {}
    if user.id not in cache:
        from .extensions import db

        cache[user.id] = db.session.execute(
            select(EnterpriseLink.organization_id)
            .join(Organization, Organization.id == EnterpriseLink.organization_id)
            .where(
                EnterpriseLink.person_id == user.id,
                EnterpriseLink.status == "approved",
                Organization.status == "approved",
                Organization.kind == "enterprise",
            )
            .limit(1)
        ).scalar()
    return cache[user.id]


def works_for(user: User, organization_id: int | None) -> bool:
    return organization_id is not None and instrument_org_id(user) == organization_id


def reviewer_province(user: User):
    """'' for a national reviewer (everything), '61' for the bureau of 陕西省, None otherwise."""
    if user.role != "reviewer" or user.organization is None or not user.org_approved:
        return None
    org = user.organization
    if org.kind != "authority":
        return None
    if org.authority_level == "national":
        return ""
    if org.authority_level == "provincial" and org.division_code:
        return org.division_code[:2]
    return None


def division_range(column, prefix: str):
    """Index-friendly 'division code starts with prefix' for 6-digit GB/T 2260 codes."""
    return column.between(prefix.ljust(6, "0"), prefix.ljust(6, "9"))


class unindexed(FunctionElement):
    """A column SQLite must not use an index for (`+column`; plain elsewhere).

    A province holds a large share of all instruments: for its grid ('newest first, 20 rows')
    walking the primary key backwards finds 20 matches at once, while SQLite, given an index
    on the division, reads and sorts every row of the province. PostgreSQL's planner weighs
    this itself."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column):
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _unindexed_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element, compiler, **kw):
    return "+" + compiler.process(element.clauses, **kw)


@scope_for(InstrumentItem)
def _instrument_items(query, user):
    return query.where(true())


@scope_for(InstrumentKind)
def _instrument_kinds(query, user):
    return query.where(true())


def within_reviewer_province(query, user, condition):
    """A reviewer sees rows of its authority's province: `condition(prefix)` filters them; a
    national authority ('' prefix) sees all, a reviewer without an authority sees nothing."""
    prefix = reviewer_province(user)
    if prefix is None:
        return query.where(false())
    if prefix == "":
        return query
    return query.where(condition(prefix))


@scope_for(Instrument)
def _instruments(query, user):
    if user.role == "admin":
        return query
    if user.role in LEDGER_ROLES:
        org_id = instrument_org_id(user)
        return query.where(Instrument.organization_id == org_id) if org_id else query.where(false())
    if user.role == "reviewer":
        return within_reviewer_province(
            query, user, lambda prefix: division_range(unindexed(Instrument.usage_division_code), prefix)
        )
    if user.role == "metrology" and user.organization_id and user.org_approved:
        return query.where(
            Instrument.id.in_(
                select(BookingItem.instrument_id).where(BookingItem.institution_id == user.organization_id)
            )
        )
    return query.where(false())


@scope_for(MetrologyAuthorization)
def _metrology_authorizations(query, user):
    if user.role == "admin":
        return query
    if user.role == "reviewer":
        return within_reviewer_province(
            query, user, lambda prefix: division_range(MetrologyAuthorization.division_code, prefix)
        )
    if user.role == "metrology" and user.organization_id:
        return query.where(MetrologyAuthorization.institution_id == user.organization_id)
    return query.where(false())


def _instruments_in_province(prefix: str):
    return select(Instrument.id).where(division_range(Instrument.usage_division_code, prefix))


@scope_for(Booking)
def _bookings(query, user):
    if user.role == "admin":
        return query
    if user.role in LEDGER_ROLES:
        org_id = instrument_org_id(user)
        return query.where(Booking.organization_id == org_id) if org_id else query.where(false())
    if user.role == "reviewer":
        return within_reviewer_province(
            query,
            user,
            lambda prefix: Booking.id.in_(
                select(BookingItem.booking_id).where(
                    BookingItem.instrument_id.in_(_instruments_in_province(prefix))
                )
            ),
        )
    return query.where(false())


@scope_for(BookingItem)
def _booking_items(query, user):
    if user.role == "admin":
        return query
    if user.role in LEDGER_ROLES:
        org_id = instrument_org_id(user)
        if not org_id:
            return query.where(false())
        return query.where(
            BookingItem.booking_id.in_(select(Booking.id).where(Booking.organization_id == org_id))
        )
    if user.role == "metrology" and user.organization_id and user.org_approved:
        return query.where(BookingItem.institution_id == user.organization_id)
    if user.role == "reviewer":
        return within_reviewer_province(
            query, user, lambda prefix: BookingItem.instrument_id.in_(_instruments_in_province(prefix))
        )
    return query.where(false())


@scope_for(InstrumentReminder)
def _instrument_reminders(query, user):
    return query if user.role == "admin" else query.where(false())


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
