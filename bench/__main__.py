"""python -m bench: generate (or reuse) the data, then print one JSON object per line.

Every pair is measured in the same run on the same data: our view and the plain Flask-Admin
view (bench/plain_views.py) as the same user on the same page; exports in fresh processes so
that peak memory is theirs alone. BENCH_SCALE (default 1) shrinks the data; BENCH_REPEAT
(default 30) sets the repetitions of the page timings; BENCH_ONLY=pages stops after the page
timings (the ledger, the reviewer grid and the reviewer statistics page)."""

from __future__ import annotations

import io
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time

from bench import generate, plain_views


def emit(**values) -> None:
    print(json.dumps(values, ensure_ascii=False), flush=True)


def median_ms(client, url: str, repeat: int) -> float:
    for _ in range(3):  # warm caches, templates, the session
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        response.get_data()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return round(statistics.median(times), 2)


def login(app, username: str, user_type: str):
    client = app.test_client()
    response = client.post(
        "/login", data={"user_type": user_type, "username": username, "password": generate.PASSWORD}
    )
    assert response.status_code == 302, (username, response.status_code)
    return client


def import_file(rows: int) -> bytes:
    import xlsxwriter

    from ecqs.instruments.ledger_import import HEADERS

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"constant_memory": True})
    ws = wb.add_worksheet("强检器具信息")
    ws.write_string(0, 0, "说明")
    for c, h in enumerate(HEADERS):
        ws.write_string(1, c, h)
    base = [
        "压力表",
        "工作计量器具",
        "0101",
        "(0-1) MPa",
        "(0-1) MPa",
        "1.6",
        None,
        "上海银普仪表有限公司",
        "国产",
        "610113",
        "锅炉房",
        "2024-01-15",
        1,
        "安全防护",
        "送检",
        "2027-06-30",
    ]
    stamp = int(time.time())
    for r in range(rows):
        for c, v in enumerate(base):
            if c == 6:
                ws.write_string(r + 2, c, f"IMP{stamp}-{r:06d}")
            elif isinstance(v, int):
                ws.write_number(r + 2, c, v)
            else:
                ws.write_string(r + 2, c, v)
    wb.close()
    return buf.getvalue()


def statistics_timings(app, reviewer, repeat: int) -> dict:
    """The reviewer's 统计分析 page of instruments (every GROUP BY of the page, the rendering
    included) against a bare count(*) of the same scope: the floor of any figure over it."""
    from sqlalchemy import func, select

    from ecqs import access
    from ecqs.extensions import db
    from ecqs.models import Instrument, User

    page_ms = median_ms(reviewer, "/admin/statistics/instruments/", repeat)
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == "bench_reviewer")).scalar_one()
        stmt = access.scoped(select(func.count()).select_from(Instrument), Instrument, user)
        rows = db.session.execute(stmt).scalar()
        times = []
        for _ in range(max(5, repeat // 3)):
            started = time.perf_counter()
            db.session.execute(stmt).scalar()
            times.append((time.perf_counter() - started) * 1000)
    count_ms = round(statistics.median(times), 2)
    return {
        "scope_rows": rows,
        "statistics_page_ms": page_ms,
        "scoped_count_ms": count_ms,
        "ratio_to_count": round(page_ms / count_ms, 2) if count_ms else None,
        "target_ms": 300,
    }


def main() -> None:
    logging.disable(logging.WARNING)
    s = generate.scale()
    repeat = int(os.environ.get("BENCH_REPEAT", "30"))
    path = generate.db_path(s)
    from ecqs import create_app

    app = create_app(generate.bench_config(path))
    _ledger_view, reviewer_view = plain_views.register(app)
    n = generate.generate(app, s, log=lambda m: print(m, file=sys.stderr))
    emit(
        bench="setup",
        scale=s,
        instruments=n["instruments"],
        enterprises=n["enterprises"],
        database="sqlite",
        python=platform.python_version(),
        machine=f"{platform.machine()} {os.cpu_count()} cpu",
    )

    enterprise = login(app, "bench_enterprise", "enterprise")
    emit(
        bench="ledger_list",
        ledger_list_ms=median_ms(enterprise, "/admin/instruments/", repeat),
        flask_admin_list_ms=median_ms(enterprise, "/admin/bench_plain_ledger/", repeat),
    )

    reviewer = login(app, "bench_reviewer", "staff")
    plain_url = "/admin/bench_plain_reviewer/?" + "&".join(
        f"{k}={v}" for k, v in plain_views.overdue_args(reviewer_view).items()
    )
    emit(
        bench="reviewer_overdue",
        reviewer_list_ms=median_ms(reviewer, "/admin/instrument_supervision/?flt0_4=overdue", repeat),
        flask_admin_filter_ms=median_ms(reviewer, plain_url, repeat),
    )

    emit(bench="reviewer_statistics", **statistics_timings(app, reviewer, repeat))
    if os.environ.get("BENCH_ONLY") == "pages":
        return

    results = {}
    for which in ("ours", "flask_admin", "raw"):
        out = subprocess.run(
            [sys.executable, "-m", "bench.probe", which, str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        results[which] = json.loads(out.stdout.strip().splitlines()[-1])
    emit(
        bench="export",
        rows=n["big"],
        export_100k_s=results["ours"]["s"],
        export_100k_peak_mib=results["ours"]["peak_mib"],
        flask_admin_xlsx_100k_s=results["flask_admin"]["s"],
        flask_admin_xlsx_100k_peak_mib=results["flask_admin"]["peak_mib"],
        xlsxwriter_raw_100k_s=results["raw"]["s"],
        xlsxwriter_raw_100k_peak_mib=results["raw"]["peak_mib"],
    )

    importer = login(app, "bench_importer", "enterprise")
    data = import_file(n["import_rows"])
    started = time.perf_counter()
    response = importer.post(
        "/admin/instruments/import/",
        data={"file": (io.BytesIO(data), "导入.xlsx")},
        content_type="multipart/form-data",
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 302, response.get_data(as_text=True)[-500:]
    emit(bench="import", rows=n["import_rows"], import_10k_s=round(elapsed, 2))


if __name__ == "__main__":
    main()
