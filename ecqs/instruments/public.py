"""信息查询服务 (seed 002 §5, no login): 强检器具信息 by enterprise name or USCC plus serial,
计量检定机构信息 with their authorisation scope, and the 强制检定器具目录."""

from __future__ import annotations

import functools

from flask import Blueprint, render_template, request
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import aliased

from ecqs.extensions import db, limiter
from ecqs.folded_templates import render_portal_page
from ecqs.i18n import gettext as _
from ecqs.instruments import rules
from ecqs.models import (
    BOOKING_ITEM_STATUS_LABELS,
    INSTRUMENT_STATUS_LABELS,
    VERIFICATION_RESULT_LABELS,
    BookingItem,
    Instrument,
    InstrumentItem,
    InstrumentKind,
    MetrologyAuthorization,
    Organization,
)

bp = Blueprint("instrument_public", __name__, url_prefix="/public/instruments")


@bp.route("/")
def index():
    return render_template("instruments/public_index.html")


@bp.route("/query")
@limiter.limit("30 per minute")
def query():
    """Exact enterprise name or USCC and exact serial: no browsing of other enterprises' ledgers."""
    enterprise = (request.args.get("enterprise") or "").strip()[:120]
    serial = (request.args.get("serial") or "").strip()[:60]
    rows, searched, message = [], False, None
    if enterprise or serial:
        searched = True
        if not enterprise or not serial:
            message = _("请同时填写企业名称（或统一社会信用代码）和出厂编号")
        else:
            rows = public_rows(enterprise, serial)
    return render_portal_page(
        "instruments/public_query.html",
        enterprise=enterprise,
        serial=serial,
        rows=rows,
        searched=searched,
        message=message,
        status_labels=INSTRUMENT_STATUS_LABELS,
        result_labels=VERIFICATION_RESULT_LABELS,
        item_labels=BOOKING_ITEM_STATUS_LABELS,
    )


@functools.cache
def _public_statement():
    """The public query's statement, built once (its construction costs more than its cached
    execution): the columns the page shows — the enterprise, the instrument and its kind, and
    its last verification (institution, date, result) through a correlated subquery."""
    last = (
        select(BookingItem.id)
        .where(BookingItem.instrument_id == Instrument.id, BookingItem.status == "verified")
        .order_by(BookingItem.verified_on.desc(), BookingItem.id.desc())
        .limit(1)
        .correlate(Instrument)
        .scalar_subquery()
    )
    verification, institution = aliased(BookingItem), aliased(Organization)
    return (
        select(
            Organization.name.label("enterprise"),
            Instrument.name,
            InstrumentKind.name.label("kind"),
            Instrument.model_spec,
            Instrument.serial_no,
            Instrument.manufacturer,
            Instrument.status,
            Instrument.valid_until,
            institution.name.label("verified_by"),
            verification.verified_on,
            verification.result,
        )
        .select_from(Instrument)
        .join(Organization, Instrument.organization_id == Organization.id)
        .join(InstrumentKind, Instrument.kind_id == InstrumentKind.id)
        .outerjoin(verification, verification.id == last)
        .outerjoin(institution, institution.id == verification.institution_id)
        .where(
            Organization.kind == "enterprise",
            Organization.status == "approved",
            or_(Organization.name == bindparam("enterprise"), Organization.uscc == bindparam("uscc")),
            Instrument.serial_no == bindparam("serial"),
        )
        .order_by(Instrument.id)
        .limit(20)
    )


def public_rows(enterprise: str, serial: str) -> list:
    """The public instrument query: exact enterprise name or USCC, exact serial; one statement
    of plain columns, no ORM objects."""
    params = {"enterprise": enterprise, "uscc": enterprise.upper(), "serial": serial}
    # Core execution (the ORM's statement handling is half the cost) on a pooled connection in
    # autocommit: one SELECT is its own snapshot, so no BEGIN and COMMIT round trips, and no
    # session to open and end (on PostgreSQL psycopg keeps the prepared statement all the same).
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return connection.execute(_public_statement(), params).all()


@bp.route("/institutions")
def institutions():
    name = (request.args.get("name") or "").strip()[:120]
    stmt = select(Organization).where(rules.approved_institution_condition())
    if name:
        stmt = stmt.where(Organization.name.contains(name))
    orgs = db.session.execute(stmt.order_by(Organization.name).limit(200)).scalars().all()
    scopes: dict[int, list] = {o.id: [] for o in orgs}
    if orgs:
        rows = db.session.execute(
            select(MetrologyAuthorization)
            .where(MetrologyAuthorization.institution_id.in_(list(scopes)))
            .order_by(MetrologyAuthorization.division_code, MetrologyAuthorization.kind_id)
        ).scalars()
        for auth in rows:
            scopes[auth.institution_id].append(auth)
    return render_template("instruments/public_institutions.html", orgs=orgs, scopes=scopes, name=name)


@bp.route("/catalogue")
def catalogue():
    items = db.session.execute(select(InstrumentItem).order_by(InstrumentItem.code)).scalars().all()
    kinds = db.session.execute(select(InstrumentKind).order_by(InstrumentKind.code)).scalars().all()
    return render_template("instruments/public_catalogue.html", items=items, kinds=kinds)
