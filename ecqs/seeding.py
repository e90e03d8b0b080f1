"""`flask seed`: loads reference data from seed/ and the demo accounts, then each domain's
reference and demo loaders; idempotent (safe to run again). This module orchestrates; the
domains' loaders never import it (they read seed/ through ecqs.services.seed_files)."""

from __future__ import annotations

from sqlalchemy import select

from ecqs import workflows
from ecqs.config import SEED_DIR  # noqa: F401  (tests read seed files next to read_csv)
from ecqs.documents import catalogue as document_catalogue
from ecqs.extensions import db
from ecqs.instruments import catalogue as instrument_catalogue
from ecqs.instruments.demo import load_instrument_demo
from ecqs.licences.seed import load_licence_demo, load_licence_items
from ecqs.models import Division, Organization, User, utcnow
from ecqs.qualifications import catalogue as personnel_catalogue
from ecqs.qualifications.demo import qualification_applications
from ecqs.registry.application_demo import load_application_demo
from ecqs.registry.demo import load_registry_demo
from ecqs.services.seed_files import DEMO_PASSWORD, make_id_number, make_uscc, read_csv


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
    """Reference loaders of each domain, in load order (a domain adds one line)."""
    return {
        "divisions": load_divisions,
        "instrument_catalogue": lambda: instrument_catalogue.load_seed(read_csv("instrument_catalogue.csv")),
        "licence_items": load_licence_items,
        "personnel_projects": lambda: personnel_catalogue.load_personnel_projects(
            read_csv("personnel_projects.csv")
        ),
        "application_documents": document_catalogue.load_seed,
    }


# Demo-data loaders of each domain, run after the demo accounts exist (a domain adds one line).
DEMO_LOADERS = (
    load_instrument_demo,
    load_licence_demo,
    qualification_applications,
    load_registry_demo,
    load_application_demo,
)


def load_reference() -> dict:
    counts = {name: loader() for name, loader in _area_loaders().items()}
    db.session.commit()
    return counts


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
        {
            "address": "西安市未央区凤城八路 1 号",
            "phone": "029-86000007",
            "contact_name": "计量机构管理员",
            "contact_mobile": "13800000007",
        },
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
            "contact_position": "质量负责人",
            "member_type": "member",
            "taxpayer_name": "陕西省特种设备检验检测研究院",
            "bank_name": "中国工商银行西安南关支行",
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
        else:
            # A database seeded before a demo field existed gets it (what users typed stays).
            for attr, value in extra.items():
                if getattr(org, attr) is None:
                    setattr(org, attr, value)
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
    for loader in DEMO_LOADERS:
        created[loader.__name__] = loader()
        db.session.commit()
    return created
