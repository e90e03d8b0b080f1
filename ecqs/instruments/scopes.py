"""Row scopes of the instruments domain, and whose ledger a user works on."""

from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy import false, select, true

from ecqs.access import (
    division_range,
    scope_for,
    unindexed,
    within_reviewer_province,
)
from ecqs.extensions import db
from ecqs.models import (
    Booking,
    BookingItem,
    EnterpriseLink,
    Instrument,
    InstrumentItem,
    InstrumentKind,
    InstrumentReminder,
    MetrologyAuthorization,
    Organization,
    User,
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


@scope_for(InstrumentItem)
def _instrument_items(query, user):
    return query.where(true())


@scope_for(InstrumentKind)
def _instrument_kinds(query, user):
    return query.where(true())


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
