"""python -m bench.registry: the practitioner registry at two scales in ONE run.

The same database is measured twice: first with 5,000 registrations (50 units × 100), then
after growing it to 500,000 registrations across 5,000 units (each unit 100 people, one registered
item each). The measured unit (the first, `bench_unit`) has the same 100 people at both scales,
so an exact, indexed lookup costs the same at both and any scan shows up as a ratio well above
1.2. Measured, as medians of BENCH_REPEAT requests through the Flask test client:

- `public_name_id_ms`: POST /public/practitioners, exact name + ID number (a row in the middle);
- `public_number_ms`: the same page by certificate number;
- `unit_grid_ms`: the unit's 注册人员综合查询 first page (/admin/unit_registered/), logged in.

Each line printed is one JSON object; the query plans of the three lookups are printed too.
DATABASE_URL (PostgreSQL) or, by default, a fresh SQLite file bench/out/registry.db. The
database is emptied and rebuilt at the start of each run, unless BENCH_REUSE=1 and it still
holds the large data of a previous run: then the large scale is measured first and the data is
cut down to the small scale (DELETE of the other units, ANALYZE) and measured in the same run."""

from __future__ import annotations

import json
import logging
import os
import random
import statistics
import time
from datetime import date, timedelta

from sqlalchemy import insert, select, text

from bench import generate

SMALL_UNITS, PER_UNIT = 50, 100
LARGE_UNITS = int(os.environ.get("BENCH_LARGE_UNITS", "5000"))  # fewer for a smoke run
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红文斌宇浩凯鹏飞振凌山峰"


def emit(**values) -> None:
    print(json.dumps(values, ensure_ascii=False), flush=True)


def config() -> dict:
    url = os.environ.get("DATABASE_URL")
    path = generate.OUT / "registry.db"
    generate.OUT.mkdir(parents=True, exist_ok=True)
    cfg = generate.bench_config(path)
    if url:
        cfg["SQLALCHEMY_DATABASE_URI"] = url.replace("postgresql://", "postgresql+psycopg://", 1)
    elif path.exists() and not reuse():
        path.unlink()
    return cfg


def reuse() -> bool:
    return os.environ.get("BENCH_REUSE") == "1" or os.environ.get("BENCH_PAIR") == "1"


def shrink(app) -> None:
    """Cut the large data down to the small scale's units (their ids are the same)."""
    from ecqs.extensions import db

    last = 1_000_000 + SMALL_UNITS
    with app.app_context():
        db.session.execute(
            text(
                "DELETE FROM practitioner_registration_items WHERE registration_id IN "
                f"(SELECT id FROM practitioner_registrations WHERE organization_id >= {last})"
            )
        )
        db.session.execute(text(f"DELETE FROM practitioner_registrations WHERE organization_id >= {last}"))
        db.session.execute(text(f"DELETE FROM organizations WHERE id >= {last} AND kind = 'unit'"))
        db.session.commit()
    analyze(app)


def analyze(app) -> None:
    from ecqs.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()


def id_number(i: int) -> str:
    from ecqs.services import seed_files

    # Unique per i: region from i // 100000, the rest from i % 100000 (only the length is checked).
    return seed_files.make_id_number(
        f"{110101 + i // 100_000:06d}19{70 + i % 30:02d}{1 + i % 12:02d}{i % 100_000:05d}"
    )


def person_name(rnd: random.Random) -> str:
    return rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.randint(1, 2)))


def add_units(app, start: int, stop: int, rnd: random.Random) -> None:
    """Units [start, stop) with PER_UNIT registrations each (one item each), by bulk INSERT."""
    from ecqs.extensions import db
    from ecqs.models import (
        Organization,
        PersonnelProject,
        PractitionerRegistration,
        PractitionerRegistrationItem,
        utcnow,
    )
    from ecqs.services import seed_files

    with app.app_context():
        projects = db.session.execute(select(PersonnelProject.id, PersonnelProject.code)).all()
        projects = [(pid, code) for pid, code in projects if code][:20]
        now, today = utcnow(), date.today()
        first_org = 1_000_000
        orgs = [
            {
                "id": first_org + u,
                "kind": "unit",
                "name": f"基准检验单位{u:05d}",
                "uscc": seed_files.make_uscc(f"12110000MB{u:07d}"),
                "division_code": "110101",
                "status": "approved",
                "submitted_at": now,
                "approved_at": now,
                "version": 1,
            }
            for u in range(start, stop)
        ]
        for chunk in range(0, len(orgs), 5000):
            db.session.execute(insert(Organization), orgs[chunk : chunk + 5000])
        regs, items = [], []
        for u in range(start, stop):
            for k in range(PER_UNIT):
                i = u * PER_UNIT + k + 1
                pid, code = projects[i % len(projects)]
                registered_on = today - timedelta(days=i % 1500)
                regs.append(
                    {
                        "id": i,
                        "number": f"ZS{registered_on:%Y}{i:08d}",
                        "person_name": person_name(rnd),
                        "id_number": id_number(i),
                        "mobile": f"139{i:08d}",
                        "organization_id": first_org + u,
                        "status": "registered" if i % 10 else "deregistered",
                        "registered_on": registered_on,
                        "valid_until": registered_on + timedelta(days=1826),
                        "deregistered_on": None if i % 10 else today,
                        "created_at": now,
                        "version": 1,
                    }
                )
                items.append(
                    {
                        "registration_id": i,
                        "project_id": pid,
                        "project_code": code,
                        "project_name": "",
                        "level": code.split("-")[-1],
                        "added_on": registered_on,
                    }
                )
                if len(regs) >= 20_000:
                    db.session.execute(insert(PractitionerRegistration), regs)
                    db.session.execute(insert(PractitionerRegistrationItem), items)
                    regs, items = [], []
        if regs:
            db.session.execute(insert(PractitionerRegistration), regs)
            db.session.execute(insert(PractitionerRegistrationItem), items)
        db.session.commit()
    analyze(app)


def median_ms(fn, repeat: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


KEYS = ("public_name_id_ms", "public_number_ms", "unit_grid_ms")


def probes(app, client) -> tuple[int, dict]:
    """(number of registrations, {key: one request as a callable}) for one database."""
    from ecqs.extensions import db
    from ecqs.models import PractitionerRegistration

    with app.app_context():
        total = db.session.execute(select(db.func.count(PractitionerRegistration.id))).scalar()
        target = db.session.get(PractitionerRegistration, 25 * PER_UNIT + 37)  # a unit in the middle
        name, idn, number = target.person_name, target.id_number, target.number

    def post(data, expect):
        def run():
            response = client.post("/public/practitioners", data=data)
            body = response.get_data(as_text=True)
            assert response.status_code == 200 and expect in body, (response.status_code, body[:300])

        return run

    def grid():
        response = client.get("/admin/unit_registered/")
        assert response.status_code == 200 and "基准检验单位00000" in response.get_data(as_text=True)

    return total, dict(
        zip(
            KEYS,
            (post({"name": name, "id_number": idn}, number), post({"number": number}, number), grid),
            strict=True,
        )
    )


def measure(app, client, repeat: int) -> dict:
    total, calls = probes(app, client)
    return {"registrations": total, **{key: median_ms(fn, repeat) for key, fn in calls.items()}}


def measure_pair(small_side, large_side, repeat: int) -> tuple[dict, dict]:
    """Both scales side by side, requests interleaved (small, large, large, small, …) so that
    the shared machine's load falls on both alike."""
    (small_total, small_calls), (large_total, large_calls) = probes(*small_side), probes(*large_side)
    small, large = {"registrations": small_total}, {"registrations": large_total}
    for key in KEYS:
        for fn in (small_calls[key], large_calls[key]) * 3:
            fn()
        times = {"small": [], "large": []}
        for i in range(repeat):
            order = (("small", small_calls[key]), ("large", large_calls[key]))
            for side, fn in order if i % 2 == 0 else order[::-1]:
                started = time.perf_counter()
                fn()
                times[side].append((time.perf_counter() - started) * 1000)
        small[key] = round(statistics.median(times["small"]), 2)
        large[key] = round(statistics.median(times["large"]), 2)
    return small, large


def plans(app) -> dict:
    """The database's plan of each lookup (SQLite EXPLAIN QUERY PLAN / PostgreSQL EXPLAIN)."""
    from ecqs.extensions import db
    from ecqs.models import PractitionerRegistration as R
    from ecqs.registry.registrations import unit_condition

    out = {}
    with app.app_context():
        stmts = {
            "name_id": select(R.id).where(R.person_name == "张三", R.id_number == "110101197001000011"),
            "number": select(R.id).where(R.number == "ZS202500000001"),
            "unit_grid": select(R.id)
            .where(unit_condition(R.organization_id, 1_000_000))
            .order_by(R.registered_on.desc())
            .limit(20),
        }
        dialect = db.engine.dialect
        for key, stmt in stmts.items():
            sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            prefix = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
            rows = db.session.execute(text(prefix + sql)).all()
            out[key] = " | ".join(str(r[-1]) for r in rows)
    return out


def small_config(cfg: dict) -> dict:
    """The small scale's own database beside the large one: a second SQLite file, or on
    PostgreSQL the schema reg_small of the same database (search_path)."""
    url = cfg["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        path = generate.OUT / "registry_small.db"
        if path.exists():
            path.unlink()
        return {**cfg, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}
    sep = "&" if "?" in url else "?"
    return {**cfg, "SQLALCHEMY_DATABASE_URI": f"{url}{sep}options=-csearch_path%3Dreg_small"}


def login(app):
    client = app.test_client()
    response = client.post(
        "/login", data={"user_type": "institution", "username": "bench_unit", "password": generate.PASSWORD}
    )
    assert response.status_code == 302, response.status_code
    return client


def fill(app, units: int, rnd) -> None:
    from ecqs import seeding
    from ecqs.extensions import db
    from ecqs.models import User

    with app.app_context():
        db.drop_all()
        db.create_all()
        seeding.load_reference()
    add_units(app, 0, units, rnd)
    with app.app_context():
        user = User(username="bench_unit", role="unit", organization_id=1_000_000, is_org_admin=True)
        user.real_name = "基准单位管理员"
        user.set_password(generate.PASSWORD)
        db.session.add(user)
        db.session.commit()


def pair_main() -> None:
    """BENCH_PAIR=1: the large database of a previous run (BENCH_REUSE keeps it; built when
    missing) and a fresh small one side by side, measured interleaved in one run."""
    from ecqs import create_app
    from ecqs.extensions import db

    repeat = int(os.environ.get("BENCH_REPEAT", "30"))
    cfg = config()
    large_app = create_app(cfg)
    with large_app.app_context():
        have = (
            db.inspect(db.engine).has_table("practitioner_registrations")
            and db.session.execute(text("SELECT count(*) FROM practitioner_registrations")).scalar()
        )
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("CREATE SCHEMA IF NOT EXISTS reg_small"))
            db.session.commit()
    if have != LARGE_UNITS * PER_UNIT:
        fill(large_app, LARGE_UNITS, random.Random(2026))
    small_app = create_app(small_config(cfg))
    with small_app.app_context():
        if db.engine.dialect.name == "postgresql":  # never drop the large tables by mistake
            assert db.session.execute(text("SELECT current_schema()")).scalar() == "reg_small"
    fill(small_app, SMALL_UNITS, random.Random(2026))
    small, large = measure_pair((small_app, login(small_app)), (large_app, login(large_app)), repeat)
    emit(database=cfg["SQLALCHEMY_DATABASE_URI"].split("://")[0], mode="pair, interleaved")
    emit(scale="small", **small)
    emit(scale="large", **large)
    emit(ratio={k: round(large[k] / small[k], 2) for k in KEYS})
    emit(plans=plans(large_app))


def main() -> None:
    if os.environ.get("BENCH_PAIR") == "1":
        logging.disable(logging.WARNING)
        pair_main()
        return
    logging.disable(logging.WARNING)
    from ecqs import create_app, seeding
    from ecqs.extensions import db
    from ecqs.models import User

    repeat = int(os.environ.get("BENCH_REPEAT", "30"))
    app = create_app(config())
    rnd = random.Random(2026)
    started = time.perf_counter()
    with app.app_context():
        have = (
            db.inspect(db.engine).has_table("practitioner_registrations")
            and db.session.execute(text("SELECT count(*) FROM practitioner_registrations")).scalar()
        )
    reused = reuse() and have == LARGE_UNITS * PER_UNIT
    if not reused:
        with app.app_context():
            db.drop_all()
            db.create_all()
            seeding.load_reference()
        add_units(app, 0, SMALL_UNITS, rnd)
        with app.app_context():
            user = User(username="bench_unit", role="unit", organization_id=1_000_000, is_org_admin=True)
            user.real_name = "基准单位管理员"
            user.set_password(generate.PASSWORD)
            db.session.add(user)
            db.session.commit()
    client = app.test_client()
    response = client.post(
        "/login", data={"user_type": "institution", "username": "bench_unit", "password": generate.PASSWORD}
    )
    assert response.status_code == 302, response.status_code
    emit(
        database=app.config["SQLALCHEMY_DATABASE_URI"].split("://")[0],
        reused=reused,
        generated_s=round(time.perf_counter() - started, 1),
    )
    if reused:
        large = measure(app, client, repeat)
        emit(scale="large", **large)
        emit(plans=plans(app))
        shrink(app)
        small = measure(app, client, repeat)
        emit(scale="small", **small)
    else:
        small = measure(app, client, repeat)
        emit(scale="small", **small)
        started = time.perf_counter()
        add_units(app, SMALL_UNITS, LARGE_UNITS, rnd)
        emit(grown_s=round(time.perf_counter() - started, 1))
        large = measure(app, client, repeat)
        emit(scale="large", **large)
        emit(plans=plans(app))
    emit(
        ratio={
            k: round(large[k] / small[k], 2)
            for k in ("public_name_id_ms", "public_number_ms", "unit_grid_ms")
        }
    )


if __name__ == "__main__":
    main()
