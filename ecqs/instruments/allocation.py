"""Which metrology institution verifies an instrument: the one whose authorisation 授权范围
covers the instrument's kind and its usage division, the most specific division first (county,
then city, then province); among equals the one with the fewest open items, then the oldest.

Pure queries (the rule itself is in rules.py): the booking workflow performs the allocation."""

from __future__ import annotations

from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.instruments import rules
from ecqs.models import BookingItem, Instrument, MetrologyAuthorization, Organization


def open_load(institution_ids) -> dict[int, int]:
    """Items each institution still has to handle (待受理 + 已受理)."""
    ids = list(institution_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(BookingItem.institution_id, func.count(BookingItem.id))
        .where(BookingItem.institution_id.in_(ids), BookingItem.status.in_(("allocated", "accepted")))
        .group_by(BookingItem.institution_id)
    )
    return {institution_id: n for institution_id, n in rows}


def authorised_institutions(kind_id: int, division_code: str) -> list[int]:
    """Ids of the approved institutions authorised at the most specific level that has any."""
    divisions = rules.candidate_divisions(division_code)
    rows = db.session.execute(
        select(MetrologyAuthorization.institution_id, MetrologyAuthorization.division_code)
        .join(Organization, Organization.id == MetrologyAuthorization.institution_id)
        .where(rules.authorised_condition(kind_id, division_code))
    ).all()
    if not rows:
        return []
    best_rank = min(divisions.index(code) for _i, code in rows)
    return sorted({i for i, code in rows if divisions.index(code) == best_rank})


def find_institution(
    instrument: Instrument, load: dict[int, int] | None = None, candidates: dict | None = None
) -> Organization | None:
    """The approved metrology institution authorised for this instrument, or None.

    `load` (institution id → open items) lets a caller allocating many items keep the balance
    in memory; it is filled on first use and incremented for the institution returned.
    `candidates` caches the authorised institutions per (kind, division) across those items."""
    key = (instrument.kind_id, instrument.usage_division_code)
    if candidates is None:
        candidates = {}
    if key not in candidates:
        candidates[key] = authorised_institutions(*key)
    ids = candidates[key]
    if not ids:
        return None
    if load is None:
        load = {}
    missing = [i for i in ids if i not in load]
    if missing:
        counts = open_load(missing)
        for i in missing:
            load[i] = counts.get(i, 0)
    chosen = min(ids, key=lambda i: (load[i], i))
    load[chosen] += 1
    return db.session.get(Organization, chosen)
