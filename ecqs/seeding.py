"""Loads reference data from seed/ and the demo accounts; idempotent (safe to run again)."""

from __future__ import annotations

import csv

from sqlalchemy import select
from stdnum.cn import ric, uscc

from ecqs import workflows
from ecqs.config import SEED_DIR
from ecqs.extensions import db
from ecqs.models import Division, Organization, User, utcnow

DEMO_PASSWORD = "Demo@2026ecqs"  # noqa: S105  (documented demo password; demo data only)


def read_csv(name: str) -> list[dict]:
    """Rows of a seed CSV whose first line is a '# source:' header."""
    with (SEED_DIR / name).open(encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return list(csv.DictReader(lines))


def load_divisions() -> int:
    existing = set(db.session.execute(select(Division.code)).scalars())
    rows = sorted(read_csv("divisions.csv"), key=lambda r: int(r["level"]))
    added = 0
    for row in rows:
        if row["code"] in existing:
            continue
        db.session.add(
            Division(
                code=row["code"],
                name=row["name"],
                level=int(row["level"]),
                parent_code=row["parent_code"] or None,
            )
        )
        added += 1
        if added % 1000 == 0:
            db.session.flush()
    db.session.flush()
    return added


def _area_loaders() -> dict:
    """Reference loaders of each business area, in load order (areas add one line each)."""
    loaders = {"divisions": load_divisions}
    # M1 reference loaders
    from ecqs.instruments.catalogue import load_seed as load_instrument_catalogue

    loaders["instrument_catalogue"] = lambda: load_instrument_catalogue(read_csv("instrument_catalogue.csv"))

    # M2 reference loaders
    from ecqs.licences.seed import load_licence_items

    loaders["licence_items"] = load_licence_items

    # M3 reference loaders
    from ecqs.qualifications.catalogue import load_personnel_projects

    loaders["personnel_projects"] = lambda: load_personnel_projects(read_csv("personnel_projects.csv"))

    return loaders


def _area_demo_loaders() -> list:
    """Demo-data loaders of each business area, run after the demo accounts exist."""
    loaders = []
    # M1 demo loaders
    from ecqs.instruments.demo import load_instrument_demo

    loaders.append(load_instrument_demo)

    # M2 demo loaders
    from ecqs.licences.seed import load_licence_demo

    loaders.append(load_licence_demo)

    # M3 demo loaders
    from ecqs.qualifications.demo import qualification_applications

    loaders.append(qualification_applications)

    # M4 demo loaders
    from ecqs.registry.demo import load_registry_demo

    loaders.append(load_registry_demo)

    return loaders


def load_reference() -> dict:
    counts = {name: loader() for name, loader in _area_loaders().items()}
    db.session.commit()
    return counts


def make_uscc(first17: str) -> str:
    return first17 + uscc.calc_check_digit(first17)


def make_id_number(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")  # stdnum drops the last character


DEMO_ORGS = [
    # key, kind, name, uscc first 17, division, extra
    (
        "samr",
        "authority",
        "国家市场监督管理总局",
        "11100000MB0143028",
        "110000",
        {"authority_level": "national"},
    ),
    (
        "sn_bureau",
        "authority",
        "陕西省市场监督管理局",
        "11610000MB2961420",
        "610000",
        {"authority_level": "provincial"},
    ),
    ("casei", "association", "中国特种设备检验协会", "51100000500013059", "110000", {}),
    (
        "enterprise",
        "enterprise",
        "西安示范锅炉制造有限公司",
        "91610113MA6U12345",
        "610113",
        {"legal_form": "legal", "enterprise_type": "company", "address": "西安市雁塔区科技路 1 号"},
    ),
    (
        "metrology",
        "metrology",
        "陕西省计量科学研究院",
        "12610000435200123",
        "610000",
        {"address": "西安市未央区"},
    ),
    ("assessor", "assessor", "示范特种设备鉴定评审中心", "12100000400011223", "110000", {}),
    (
        "unit",
        "unit",
        "陕西省特种设备检验检测研究院",
        "12610000435201234",
        "610000",
        {
            "cert_type": "综合检验机构",
            "cert_level": "省级",
            "cert_industry": "质检",
            "postcode": "710048",
            "phone": "029-86000000",
        },
    ),
]

DEMO_USERS = [
    # username, role, org key, real name, id first 17, mobile
    ("admin", "admin", None, "系统管理员", "11010119800101001", "13800000001"),
    ("samr_reviewer", "reviewer", "samr", "总局审批员", "11010119800101002", "13800000002"),
    ("sn_reviewer", "reviewer", "sn_bureau", "陕西审批员", "61011319850101003", "13800000003"),
    ("casei_staff", "association", "casei", "协会审核员", "11010119800101004", "13800000004"),
    ("demo_enterprise", "enterprise", "enterprise", "企业管理员", "61011319850101005", "13800000005"),
    ("demo_person", "person", None, "张三", "61011319900101006", "13800000006"),
    ("demo_metrology", "metrology", "metrology", "计量机构管理员", "61011319850101007", "13800000007"),
    ("demo_assessor", "assessor", "assessor", "评审机构管理员", "11010119800101008", "13800000008"),
    ("demo_unit", "unit", "unit", "执业单位管理员", "61011319850101009", "13800000009"),
]


def load_demo() -> dict:
    """One approved organisation and one account per role, password DEMO_PASSWORD."""
    created = {"organizations": 0, "users": 0}
    orgs: dict[str, Organization] = {}
    for key, kind, name, first17, division, extra in DEMO_ORGS:
        code = make_uscc(first17)
        org = db.session.execute(select(Organization).where(Organization.uscc == code)).scalar()
        if org is None:
            org = Organization(
                kind=kind,
                name=name,
                uscc=code,
                division_code=division,
                status="pending",
                submitted_at=utcnow(),
                **extra,
            )
            db.session.add(org)
            db.session.flush()
            created["organizations"] += 1
        orgs[key] = org
    system = None
    for username, role, org_key, real_name, id17, mobile in DEMO_USERS:
        user = db.session.execute(select(User).where(User.username == username)).scalar()
        if user is None:
            user = User(
                username=username,
                role=role,
                organization=orgs.get(org_key),
                is_org_admin=org_key is not None,
                real_name=real_name,
                id_number=make_id_number(id17),
                mobile=mobile,
            )
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
            db.session.flush()
            created["users"] += 1
        if role == "admin":
            system = user
    # Demo organisations are approved through the same workflow staff use.
    for org in orgs.values():
        if org.status == "pending":
            workflows.transition(org, "approve", system, comment="演示数据")
    db.session.commit()
    for loader in _area_demo_loaders():
        created[loader.__name__] = loader()
        db.session.commit()
    return created
