"""One export measured in a fresh process: seconds and peak resident memory above the baseline.

python -m bench.probe {ours|flask_admin|raw} DB_PATH  → one JSON object on stdout."""

from __future__ import annotations

import json
import logging
import resource
import sys
import time
from pathlib import Path


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> None:
    """Reset the process's peak RSS (VmHWM), so that login's password hashing does not count."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def raw_export(app, org_id: int, path: str) -> int:
    """XlsxWriter constant_memory writing the same query result, no app code around it."""
    import xlsxwriter
    from sqlalchemy import select

    from ecqs.extensions import db
    from ecqs.models import Division, Instrument, InstrumentItem, InstrumentKind

    with app.app_context():
        stmt = (
            select(
                Instrument.name,
                Instrument.instrument_type,
                InstrumentItem.name,
                InstrumentKind.name,
                InstrumentKind.code,
                Instrument.model_spec,
                Instrument.measuring_range,
                Instrument.accuracy_class,
                Instrument.serial_no,
                Instrument.manufacturer,
                Instrument.origin,
                Division.name,
                Instrument.usage_division_code,
                Instrument.usage_place,
                Instrument.purchase_date,
                Instrument.quantity,
                Instrument.purpose,
                Instrument.delivery_mode,
                Instrument.valid_until,
                Instrument.status,
            )
            .join(InstrumentKind, InstrumentKind.id == Instrument.kind_id)
            .join(InstrumentItem, InstrumentItem.id == InstrumentKind.item_id)
            .join(Division, Division.code == Instrument.usage_division_code)
            .where(Instrument.organization_id == org_id)
            .order_by(Instrument.id.desc())
        )
        wb = xlsxwriter.Workbook(path, {"constant_memory": True})
        ws = wb.add_worksheet()
        date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        n = 0
        for r, row in enumerate(db.session.execute(stmt).yield_per(5000), start=1):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, int):
                    ws.write_number(r, c, value)
                elif hasattr(value, "year"):
                    ws.write_datetime(r, c, value, date_fmt)
                else:
                    ws.write_string(r, c, value)
            n += 1
        wb.close()
        return n


def main() -> None:
    which, db_path = sys.argv[1], Path(sys.argv[2]).resolve()
    logging.disable(logging.WARNING)
    from bench import generate, plain_views
    from ecqs import create_app

    app = create_app(generate.bench_config(db_path))
    plain_views.register(app)
    from sqlalchemy import select

    from ecqs.extensions import db
    from ecqs.models import User

    with app.app_context():
        org_id = db.session.execute(select(User.organization_id).where(User.username == "bench_big")).scalar()
    client = app.test_client()
    client.post(
        "/login", data={"user_type": "enterprise", "username": "bench_big", "password": generate.PASSWORD}
    )
    url = {"ours": "/admin/instruments/export/xlsx/", "flask_admin": "/admin/bench_plain_ledger/export/xlsx/"}
    reset_peak()
    baseline = rss_bytes()
    started = time.perf_counter()
    if which == "raw":
        raw_export(app, org_id, str(generate.OUT / "raw.xlsx"))
        size = (generate.OUT / "raw.xlsx").stat().st_size
    else:
        response = client.get(url[which])
        body = response.get_data()
        assert response.status_code == 200, (which, response.status_code, body[:300])
        size, _rows = len(body), None
    seconds = time.perf_counter() - started
    peak = max(peak_bytes() - baseline, 0)
    print(
        json.dumps(
            {"which": which, "s": round(seconds, 2), "peak_mib": round(peak / 2**20, 1), "bytes": size}
        )
    )


if __name__ == "__main__":
    main()
