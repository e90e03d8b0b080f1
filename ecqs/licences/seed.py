"""Licence reference and demo data: the production licence catalogue (seed/licence_items.csv) and a
demo application of demo_enterprise in the middle of its procedure. Both idempotent."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from ecqs import workflows
from ecqs.documents import samples as document_samples
from ecqs.extensions import db
from ecqs.licences import form as licence_form
from ecqs.licences import operations as licence_applications
from ecqs.models import LicenceApplication, LicenceItem, User
from ecqs.services import workdays
from ecqs.services.seed_files import read_csv

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


DEMO_FORM = {
    "site": {
        "production_address": "西安市雁塔区科技路 1 号 3 号厂房",
        "floor_area": "5200",
        "main_equipment": "数控车床 12 台；阀门试压台 3 台；自动焊机 4 台",
        "test_equipment": "压力校验台 2 台；硬度计 1 台；超声波测厚仪 1 台",
    },
    "staff": {
        "technical_lead": "王工",
        "quality_engineer": "李工",
        "employees": "186",
        "technicians": "32",
        "certified_workers": "18",
    },
    "quality": {
        "manual_version": "QM-2025-A/0",
        "manual_effective": "2025-09-01",
        "quality_policy": "质量第一",
    },
    "products": {"product_name": "弹簧直接载荷式安全阀", "product_model": "A42Y-16C DN50", "performance": ""},
    "remarks": {"remarks": ""},
    "declaration": {"pledge": "y", "signatory": "张总", "signed_on": "2026-01-05"},
}


def _demo_items(*criteria) -> list[int] | None:
    """Ids of the 制造 licence items matching each (item, level, approval), or None if any is missing."""
    rows = [
        db.session.execute(
            select(LicenceItem)
            .where(
                LicenceItem.item == name,
                LicenceItem.level == level,
                LicenceItem.licence_type == "制造",
                LicenceItem.approval == approval,
            )
            .order_by(LicenceItem.id)
        )
        .scalars()
        .first()
        for name, level, approval in criteria
    ]
    return [r.id for r in rows] if all(rows) else None


def _submitted_demo_application(enterprise, item_ids) -> LicenceApplication:
    """demo_enterprise fills every page of the form and submits, through the operations."""
    application = licence_applications.create(enterprise.organization, enterprise, "first", "制造", item_ids)
    basic = licence_form.values_of(application, "basic")
    basic.update({"postcode": "710065", "legal_rep": "张总", "contact_phone": enterprise.mobile})
    basic["contact_name"] = basic.get("contact_name") or enterprise.real_name
    basic["address"] = basic.get("address") or "西安市雁塔区科技路 1 号"
    licence_form.save_page(application, "basic", basic)
    for key, values in DEMO_FORM.items():
        licence_form.save_page(application, key, values)
    document_samples.attach_samples(application, enterprise, optional=True)
    workflows.transition(application, "submit", enterprise)
    return application


def load_licence_demo() -> int:
    """demo_enterprise's applications: to 陕西省市场监督管理局 one waiting for 初审 and one in the
    middle of the procedure (accepted, demo_assessor engaged and proposing review dates); to
    国家市场监督管理总局 one for a nationally approved item (锅炉 A), waiting for samr_reviewer."""
    users = {
        u.username: u
        for u in db.session.execute(
            select(User).where(User.username.in_(("demo_enterprise", "sn_reviewer", "demo_assessor")))
        ).scalars()
    }
    if len(users) < 3:
        log.warning("demo accounts missing; no demo licence applications")
        return 0
    enterprise = users["demo_enterprise"]
    created = _provincial_demo(enterprise, users["sn_reviewer"], users["demo_assessor"])
    national = licence_applications.national_authority()
    addressed = select(LicenceApplication.id).where(
        LicenceApplication.organization_id == enterprise.organization_id,
        LicenceApplication.authority_id == (national.id if national else None),
    )
    if national is not None and not db.session.execute(addressed).first():
        item_ids = _demo_items(("锅炉", "A", "national"))
        if item_ids is None:
            log.warning("licence catalogue not loaded; no national demo licence application")
        else:
            application = _submitted_demo_application(enterprise, item_ids)
            log.info("demo licence application %s (national, submitted)", application.number)
            created += 1
    return created


def _provincial_demo(enterprise, reviewer, assessor) -> int:
    provincial = select(LicenceApplication.id).where(
        LicenceApplication.organization_id == enterprise.organization_id
    )
    national = licence_applications.national_authority()
    if national is not None:
        provincial = provincial.where(LicenceApplication.authority_id != national.id)
    if db.session.execute(provincial).first():
        return 0
    first = _demo_items(("紧急切断阀", "B", "provincial"))
    second = _demo_items(("安全阀", "B", "provincial"), ("紧急切断阀", "A", "provincial"))
    if first is None or second is None:
        log.warning("licence catalogue not loaded; no demo licence applications")
        return 0
    waiting = _submitted_demo_application(enterprise, first)
    running = _submitted_demo_application(enterprise, second)
    workflows.transition(
        running,
        "accept",
        reviewer,
        comment="演示数据",
        assessor_org_id=assessor.organization_id,
        contact_name=assessor.real_name,
        contact_phone=assessor.mobile,
    )
    workflows.transition(running, "engage", enterprise)
    start = workdays.add_working_days(workdays.today(), 5)
    workflows.transition(running, "propose_dates", assessor, start=start, end=start + timedelta(days=1))
    db.session.flush()
    log.info("demo licence applications %s (submitted) and %s (engaged)", waiting.number, running.number)
    return 2
