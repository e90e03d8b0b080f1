"""信息查询服务 (seed 002 §5, no login): 强检器具信息 by enterprise name or USCC plus serial,
计量检定机构信息 with their authorisation scope, and the 强制检定器具目录."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, joinedload

from ecqs.extensions import db, limiter
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
            # The organisation comes with the join, the kind in the same statement: one query
            # for the rows the template shows, plus each row's last verification.
            stmt = (
                select(Instrument)
                .join(Instrument.organization)
                .options(contains_eager(Instrument.organization), joinedload(Instrument.kind))
                .where(
                    Organization.kind == "enterprise",
                    Organization.status == "approved",
                    or_(Organization.name == enterprise, Organization.uscc == enterprise.upper()),
                    Instrument.serial_no == serial,
                )
                .order_by(Instrument.id)
                .limit(20)
            )
            for inst in db.session.execute(stmt).scalars():
                last = db.session.execute(
                    select(BookingItem)
                    .where(BookingItem.instrument_id == inst.id, BookingItem.status == "verified")
                    .order_by(BookingItem.verified_on.desc(), BookingItem.id.desc())
                    .limit(1)
                ).scalar()
                rows.append((inst, last))
    return render_template(
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
