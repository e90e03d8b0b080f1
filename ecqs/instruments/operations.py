"""Operations of the instruments domain: the one home for creating records that enter a
workflow (a 预约单 and its items, a 授权范围). Plain functions over model objects: they check
the rule, add and flush, write the audit event; the request commits once."""

from __future__ import annotations

from sqlalchemy import select

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.instruments import rules
from ecqs.instruments import workflows as instrument_workflows
from ecqs.models import Booking, BookingItem, MetrologyAuthorization
from ecqs.services import audit, workdays


class OperationRefused(Exception):
    """A refused operation; str(exc) is the Chinese message shown to the user."""


def booking_number(booking: Booking) -> str:
    """预约单号: YY + the date of creation + the row id, six digits."""
    return f"YY{workdays.today():%Y%m%d}{booking.id:06d}"


def create_booking(organization_id: int, actor) -> Booking:
    """A new 待提交 booking of the organisation, numbered."""
    booking = Booking(organization_id=organization_id, created_by_id=actor.id, status="draft")
    db.session.add(booking)
    db.session.flush()
    booking.number = booking_number(booking)
    audit.record("record_created", user=actor, obj=booking)
    return booking


def add_instruments(booking: Booking, instrument_ids) -> None:
    """Put instruments (already chosen through the actor's scope) on a draft booking as 待预约
    items; an instrument already in another open booking fails at commit (unique index)."""
    for instrument_id in instrument_ids:
        db.session.add(BookingItem(booking_id=booking.id, instrument_id=instrument_id, status="pending"))


def grant_authorisation(institution, kinds, division_code: str, actor, province_prefix: str = ""):
    """授权范围: authorise an approved metrology institution for each kind in a division (a
    reviewer only within its province). Returns the new rows (existing ones are skipped) and
    how many 待预约 items could then be allocated."""
    if not rules.is_approved_institution(institution):
        raise OperationRefused(_("请选择已通过审核的计量技术机构"))
    if province_prefix and not division_code.startswith(province_prefix):
        raise OperationRefused(_("只能授权本省范围内的行政区划"))
    if not kinds or any(k is None for k in kinds):
        raise OperationRefused(_("请选择授权种别"))
    created = []
    for kind in kinds:
        exists_already = db.session.execute(
            select(MetrologyAuthorization.id).where(
                MetrologyAuthorization.institution_id == institution.id,
                MetrologyAuthorization.kind_id == kind.id,
                MetrologyAuthorization.division_code == division_code,
            )
        ).first()
        if exists_already:
            continue
        row = MetrologyAuthorization(
            institution_id=institution.id,
            kind_id=kind.id,
            division_code=division_code,
            created_by_id=actor.id,
        )
        db.session.add(row)
        db.session.flush()
        audit.record("record_created", user=actor, obj=row)
        created.append(row)
    if not created:
        raise OperationRefused(_("所选授权已存在"))
    return created, instrument_workflows.retry_unallocated(actor)
