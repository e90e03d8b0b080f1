"""Benchmark data: Faker zh_CN enterprises and instruments in a SQLite file under bench/out/.

At BENCH_SCALE=1: 1,000,000 instruments across 20,000 enterprises, 40 % of the enterprises in
陕西省 (the provincial reviewer's province), one big enterprise holding 100,000 instruments (the
export measurements), about a quarter of the instruments overdue. Generated once per scale and
reused."""

from __future__ import annotations

import os
import random
import time
from datetime import timedelta
from pathlib import Path

from faker import Faker
from sqlalchemy import func, insert, select

OUT = Path(__file__).resolve().parent / "out"
PASSWORD = "Bench@2026ecqs"


def scale() -> float:
    return float(os.environ.get("BENCH_SCALE", "1"))


def sizes(s: float) -> dict:
    total = max(int(1_000_000 * s), 2_000)
    return {
        "instruments": total,
        "enterprises": max(int(20_000 * s), 20),
        "big": max(int(100_000 * s), 1_000),
        "export_rows": max(int(100_000 * s), 1_000),
        "import_rows": 10_000,
    }


def db_path(s: float) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    return OUT / f"bench_{s:g}.db"


def bench_config(path: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "WTF_CSRF_ENABLED": False,
        "ECQS_CAPTCHA": False,
        "ECQS_STAFF_2FA": False,
        "RATELIMIT_ENABLED": False,
        "SECRET_KEY": "bench",
        "INSTANCE_DIR": str(OUT / "instance"),
        "UPLOAD_DIR": str(OUT / "uploads"),
    }


def generate(app, s: float, log=print) -> dict:
    """Fill the database (idempotent: skips when the instruments are already there)."""
    from ecqs import seeding
    from ecqs.extensions import db
    from ecqs.models import Division, Instrument, InstrumentKind, Organization, User, utcnow
    from ecqs.services import workdays

    n = sizes(s)
    with app.app_context():
        db.create_all()
        have = db.session.execute(select(func.count(Instrument.id))).scalar()
        if have >= n["instruments"]:
            return n
        started = time.perf_counter()
        seeding.load_reference()
        fake = Faker("zh_CN")
        Faker.seed(2026)
        rnd = random.Random(2026)
        counties = db.session.execute(select(Division.code).where(Division.level == 3)).scalars().all()
        shaanxi = [c for c in counties if c.startswith("61")]
        elsewhere = [c for c in counties if not c.startswith("61")]
        kinds = db.session.execute(select(InstrumentKind.id)).scalars().all()
        now = utcnow()

        def uscc(i: int) -> str:
            return seeding.make_uscc(f"91{610000 + i % 90000:06d}MA{i:07d}"[:17])

        orgs = []
        for i in range(n["enterprises"]):
            division = rnd.choice(shaanxi) if i % 5 < 2 else rnd.choice(elsewhere)
            orgs.append(
                {
                    "kind": "enterprise",
                    "name": f"{fake.company()}{i}",
                    "uscc": uscc(i),
                    "division_code": division,
                    "status": "approved",
                    "submitted_at": now,
                    "approved_at": now,
                    "version": 1,
                    "contact_mobile": f"139{i:08d}",
                }
            )
        # The provincial bureau and its reviewer.
        orgs.append(
            {
                "kind": "authority",
                "name": "陕西省市场监督管理局（基准）",
                "uscc": uscc(999_999),
                "division_code": "610000",
                "authority_level": "provincial",
                "status": "approved",
                "submitted_at": now,
                "approved_at": now,
                "version": 1,
            }
        )
        for chunk in range(0, len(orgs), 5000):
            db.session.execute(insert(Organization), orgs[chunk : chunk + 5000])
        db.session.commit()
        org_rows = db.session.execute(
            select(Organization.id, Organization.division_code)
            .where(Organization.kind == "enterprise")
            .order_by(Organization.id)
        ).all()
        big_org = org_rows[0]
        manufacturers = [fake.company() for _ in range(200)]
        names = ["压力表", "精密压力表", "数字压力计", "压力变送器", "电接点压力表"]
        today = workdays.today()
        statuses = ["in_use"] * 90 + ["stopped"] * 7 + ["scrapped"] * 3
        rest = n["instruments"] - n["big"]
        per_org = [0] * len(org_rows)
        per_org[0] = n["big"]
        others = len(org_rows) - 1
        for j in range(rest):
            per_org[1 + j % others] += 1
        batch, seq = [], 0
        for (org_id, division), count in zip(org_rows, per_org, strict=True):
            for _k in range(count):
                seq += 1
                batch.append(
                    {
                        "organization_id": org_id,
                        "name": rnd.choice(names),
                        "instrument_type": "working",
                        "kind_id": kinds[seq % len(kinds)],
                        "model_spec": "(0-1.6) MPa",
                        "measuring_range": "(0-1.6) MPa",
                        "accuracy_class": rnd.choice(["1.0", "1.6", "2.5"]),
                        "serial_no": f"SN{seq:08d}",
                        "manufacturer": rnd.choice(manufacturers),
                        "origin": "domestic" if seq % 10 else "imported",
                        "usage_division_code": division,
                        "usage_place": rnd.choice(["锅炉房", "一号车间", "二号车间", "储气罐区", "泵房"]),
                        "purchase_date": today - timedelta(days=rnd.randint(100, 3000)),
                        "quantity": 1,
                        "purpose": rnd.choice(["safety", "safety", "trade", "environment", "medical"]),
                        "delivery_mode": "send" if seq % 4 else "onsite",
                        "valid_until": today + timedelta(days=rnd.randint(-200, 600)),
                        "status": rnd.choice(statuses),
                        "created_at": now,
                        "version": 1,
                    }
                )
                if len(batch) >= 20_000:
                    db.session.execute(insert(Instrument), batch)
                    batch = []
        if batch:
            db.session.execute(insert(Instrument), batch)
        db.session.commit()
        # Accounts used by the measurements.
        typical = org_rows[len(org_rows) // 2]
        importer = org_rows[-1]
        bureau = db.session.execute(select(Organization.id).where(Organization.kind == "authority")).scalar()
        for username, role, org_id in (
            ("bench_enterprise", "enterprise", typical[0]),
            ("bench_big", "enterprise", big_org[0]),
            ("bench_importer", "enterprise", importer[0]),
            ("bench_reviewer", "reviewer", bureau),
        ):
            user = User(
                username=username, role=role, organization_id=org_id, is_org_admin=True, real_name=username
            )
            user.set_password(PASSWORD)
            db.session.add(user)
        db.session.commit()
        log(f"generated {n['instruments']} instruments in {time.perf_counter() - started:.1f} s")
    return n
