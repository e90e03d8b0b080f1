"""Rules of the instruments domain, each written once as a SQL condition (for queries that
offer or pick) and a Python predicate (for guards that check a chosen row).

- An approved metrology institution: an organisation of kind 计量技术机构 whose registration
  was approved. The allocation, the authorisation form, the public institution list and the
  allocation guard all ask this.
- Authorised for a kind and a division: an approved institution holding a 授权范围 row for the
  instrument's kind in the usage division or one of its ancestors (city, province).
"""

from __future__ import annotations

from sqlalchemy import and_, select

from ecqs.extensions import db
from ecqs.models import MetrologyAuthorization, Organization


def approved_institution_condition(org=Organization):
    """SQL: the organisation (or an alias of it) is an approved metrology institution."""
    return and_(org.kind == "metrology", org.status == "approved")


def is_approved_institution(org) -> bool:
    """Python: the same rule for one loaded organisation."""
    return org is not None and org.kind == "metrology" and org.status == "approved"


def candidate_divisions(code: str) -> list[str]:
    """The division itself and its ancestors, most specific first: 610113 → 610113, 610100, 610000."""
    chain = [code, code[:4] + "00", code[:2] + "0000"]
    return list(dict.fromkeys(chain))


def authorised_condition(kind_id: int, division_code: str):
    """SQL over MetrologyAuthorization joined to Organization: an approved institution's
    authorisation covering this kind in this division or an ancestor of it."""
    return and_(
        MetrologyAuthorization.kind_id == kind_id,
        MetrologyAuthorization.division_code.in_(candidate_divisions(division_code)),
        approved_institution_condition(),
    )


def is_authorised(institution, kind_id: int, division_code: str) -> bool:
    """Python: this institution is approved and authorised for the kind in the division."""
    if not is_approved_institution(institution):
        return False
    stmt = (
        select(MetrologyAuthorization.id)
        .join(Organization, Organization.id == MetrologyAuthorization.institution_id)
        .where(Organization.id == institution.id, authorised_condition(kind_id, division_code))
    )
    return db.session.execute(stmt.limit(1)).first() is not None
