"""M2 reference and demo data: the production licence catalogue (seed/licence_items.csv) and a
demo application of demo_enterprise in the middle of its procedure. Both idempotent."""

from __future__ import annotations

import logging

from sqlalchemy import select

from .extensions import db
from .models import LicenceItem

log = logging.getLogger("ecqs.licence_seed")

APPROVAL_CODES = {"国家": "national", "省级": "provincial"}


def item_key(row) -> tuple[str, str, str, str, str]:
    """The catalogue's natural key (category, type, item, sub-item, level)."""
    if isinstance(row, LicenceItem):
        return (row.equipment_category, row.licence_type, row.item, row.sub_item or "", row.level or "")
    return (row["equipment_category"], row["licence_type"], row["item"], row["sub_item"], row["level"])


def load_licence_items() -> int:
    """Insert catalogue rows of seed/licence_items.csv that are missing; never overwrites what
    administrators changed since (they maintain the catalogue in the grid and by import)."""
    from .seeding import read_csv

    existing = {item_key(item) for item in db.session.execute(select(LicenceItem)).scalars()}
    added = 0
    for row in read_csv("licence_items.csv"):
        row = {k: (v or "").strip() for k, v in row.items()}
        if item_key(row) in existing:
            continue
        db.session.add(
            LicenceItem(
                equipment_category=row["equipment_category"],
                licence_type=row["licence_type"],
                item=row["item"],
                sub_item=row["sub_item"],
                level=row["level"],
                approval=APPROVAL_CODES[row["approval"]],
                notes=row["notes"] or None,
                active=True,
            )
        )
        existing.add(item_key(row))
        added += 1
    db.session.flush()
    return added
