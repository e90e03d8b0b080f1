"""`make bench-load`: the production shape under load. gunicorn (2, then 4 sync workers) on
PostgreSQL with the benchmark data set, driven from loopback by wrk (Debian) for a bounded
time; request rate limits off. Prints one JSON object with the keys of issue 13.

DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/h_jobs_bench, created when missing),
BENCH_SCALE (default 1: 1,000,000 instruments), LOAD_SECONDS (default 10 per measurement),
LOAD_ROUNDS (default 3), LOAD_CONNECTIONS (default 32), LOAD_EXPORT_CONNECTIONS (default 4:
clients on the ledger page while the export runs).

The four routes are measured in LOAD_ROUNDS interleaved rounds (constant route, logged-in
constant route, public query, ledger page, then again): on a shared machine the CPU on offer
drifts from one quarter-minute to the next, so each round's ratio compares pages measured
seconds apart, and the keys give the median round (rps, p95 and ratio medians); the rounds
themselves are kept under `rounds`. The province's export alternates the same way with raw
XlsxWriter over its rows (`export_rounds`)."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PORT = int(os.environ.get("LOAD_PORT", "5099"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "10"))
ROUNDS = int(os.environ.get("LOAD_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("LOAD_CONNECTIONS", "32"))
# Clients on the ledger page while the export runs (people working meanwhile, not a flood).
EXPORT_CONNECTIONS = int(os.environ.get("LOAD_EXPORT_CONNECTIONS", "4"))
LUA = """
done = function(summary, latency, requests)
  io.write(string.format("P95_US %d\\n", latency:percentile(95)))
  io.write(string.format("P50_US %d\\n", latency:percentile(50)))
end
"""


def env() -> dict:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/h_jobs_bench")
    return dict(
        os.environ,
        DATABASE_URL=url,
        RATELIMIT_ENABLED="off",
        ECQS_CAPTCHA="off",
        ECQS_STAFF_2FA="off",
        SECRET_KEY="bench-load",
        ECQS_INSTANCE_DIR=str(OUT / "load_instance"),
        EXPORT_JOB_THRESHOLD="1000",  # the province export must run as a job at any BENCH_SCALE
    )


def ensure_database(url: str) -> None:
    parsed = urllib.parse.urlsplit(url)
    name = parsed.path.lstrip("/")
    import psycopg

    admin = parsed._replace(path="/postgres").geturl().replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def analyze(url: str) -> None:
    """The planner's statistics of the fresh data, as a live database has them: without them
    PostgreSQL plans from the empty tables' (the public query scanned all 20,000 enterprises
    instead of the USCC index: 5.8 ms instead of 0.1). Autovacuum gets there in its own time;
    the figures must not depend on when."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("ANALYZE")


def wrk(url: str, cookie: str | None = None, seconds: int = SECONDS, connections: int = CONNECTIONS) -> dict:
    """rps and p95 (ms) of `url` with `connections` connections; the CPU share wrk took."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(LUA)
    # --timeout 10s: a slow reply is counted in the latencies, not dropped as a 2 s timeout.
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", fh.name, url]
    if cookie:
        args[1:1] = ["-H", f"Cookie: {cookie}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.unlink(fh.name)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    return {
        "rps": round(rps, 1),
        "p95_ms": round(int(re.search(r"P95_US (\d+)", out).group(1)) / 1000, 1),
        "p50_ms": round(int(re.search(r"P50_US (\d+)", out).group(1)) / 1000, 1),
        "errors": (int(non2xx.group(1)) if non2xx else 0) + (int(timeouts.group(1)) if timeouts else 0),
        "wrk_cpu_share": round(cpu / (seconds * (os.cpu_count() or 1)), 3),
    }


def _median(values: list):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def median_measurement(measurements: list[dict]) -> dict:
    """The median of each figure over the rounds (errors summed, the generator's largest share)."""
    return {
        "rps": _median([m["rps"] for m in measurements]),
        "p95_ms": _median([m["p95_ms"] for m in measurements]),
        "p50_ms": _median([m["p50_ms"] for m in measurements]),
        "errors": sum(m["errors"] for m in measurements),
        "wrk_cpu_share": max(m["wrk_cpu_share"] for m in measurements),
    }


def login(base: str, username: str, user_type: str) -> str:
    from bench.generate import PASSWORD

    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{base}/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode(
        {
            "user_type": user_type,
            "username": username,
            "password": PASSWORD,
            "captcha": "",
            "csrf_token": token,
        }
    ).encode()
    opener.open(f"{base}/login", data=data, timeout=30).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def start(cmd: list[str], environ: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        cmd, cwd=ROOT, env=environ, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )


def gunicorn_command(workers: int, port: int, tree: Path = ROOT) -> list[str]:
    """gunicorn with `workers` sync workers serving bench.load_app from source tree `tree` on
    127.0.0.1:`port` (the environment must put `tree` on PYTHONPATH when it is not this one)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--chdir",
        str(tree),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--no-control-socket",
        "bench.load_app:app",
    ]


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGINT if "consumer" in " ".join(proc.args) else signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_up(base: str) -> None:
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/bench/trivial", timeout=2).read()
            return
        except Exception:
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not start")


def main() -> None:
    environ = env()
    OUT.mkdir(parents=True, exist_ok=True)
    ensure_database(environ["DATABASE_URL"])
    os.environ.update(environ)
    from sqlalchemy import select

    from bench import generate
    from ecqs import create_app
    from ecqs.extensions import db
    from ecqs.models import Instrument, Organization, User

    s = generate.scale()
    app = create_app()
    started = time.perf_counter()
    n = generate.generate(app, s, log=lambda m: print(m, file=sys.stderr))
    analyze(environ["DATABASE_URL"])
    print(f"data ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    with app.app_context():
        enterprise = db.session.execute(select(User).where(User.username == "bench_enterprise")).scalar_one()
        uscc = db.session.get(Organization, enterprise.organization_id).uscc
        serial = db.session.execute(
            select(Instrument.serial_no)
            .where(Instrument.organization_id == enterprise.organization_id)
            .limit(1)
        ).scalar_one()
        db.engine.dispose()

    base = f"http://127.0.0.1:{PORT}"
    result: dict = {
        "scale": s,
        "instruments": n["instruments"],
        "connections": CONNECTIONS,
        "seconds_per_measurement": SECONDS,
        "rounds_per_measurement": ROUNDS,
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    public = f"{base}/public/instruments/query?enterprise={uscc}&serial={serial}"
    for workers in (2, 4):
        server = start(gunicorn_command(workers, PORT), environ, OUT / f"gunicorn_{workers}.log")
        try:
            wait_up(base)
            cookie = login(base, "bench_enterprise", "enterprise")
            rounds = []
            for _ in range(ROUNDS):
                rounds.append(
                    {
                        "trivial": wrk(f"{base}/bench/trivial"),
                        # The same constant route with the enterprise's session cookie: the
                        # ceiling of a logged-in page (session row and user loaded per request).
                        "trivial_in": wrk(f"{base}/bench/trivial", cookie),
                        "query": wrk(public),
                        "ledger": wrk(f"{base}/admin/instruments/", cookie),
                    }
                )
            trivial, trivial_in, query, ledger = (
                median_measurement([r[name] for r in rounds])
                for name in ("trivial", "trivial_in", "query", "ledger")
            )
            suffix = "" if workers == 2 else "_4w"
            per_round = [
                {f"{name}_rps": r[name]["rps"] for name in ("trivial", "trivial_in", "query", "ledger")}
                | {
                    "public_query_to_trivial": round(r["query"]["rps"] / r["trivial"]["rps"], 3),
                    "ledger_page_to_trivial": round(r["ledger"]["rps"] / r["trivial"]["rps"], 3),
                }
                for r in rounds
            ]
            result[f"rounds{suffix}"] = per_round
            result.update(
                {
                    f"trivial_rps{suffix}": trivial["rps"],
                    f"trivial_p95_ms{suffix}": trivial["p95_ms"],
                    f"trivial_logged_in_rps{suffix}": trivial_in["rps"],
                    f"trivial_logged_in_p95_ms{suffix}": trivial_in["p95_ms"],
                    f"public_query_rps{suffix}": query["rps"],
                    f"public_query_p95_ms{suffix}": query["p95_ms"],
                    f"ledger_page_rps{suffix}": ledger["rps"],
                    f"ledger_page_p95_ms{suffix}": ledger["p95_ms"],
                    f"public_query_to_trivial{suffix}": _median(
                        [r["public_query_to_trivial"] for r in per_round]
                    ),
                    f"ledger_page_to_trivial{suffix}": _median(
                        [r["ledger_page_to_trivial"] for r in per_round]
                    ),
                    f"errors{suffix}": sum(m["errors"] for m in (trivial, trivial_in, query, ledger)),
                    f"generator_cpu_share{suffix}": max(
                        m["wrk_cpu_share"] for m in (trivial, trivial_in, query, ledger)
                    ),
                }
            )
            if workers == 2:
                result.update(export_figures(app, base, environ, cookie))
        finally:
            stop(server)
        print(json.dumps(result, ensure_ascii=False), file=sys.stderr)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, ensure_ascii=False))


def raw_xlsxwriter(path: str, rows) -> int:
    import xlsxwriter

    wb = xlsxwriter.Workbook(path, {"constant_memory": True})
    ws = wb.add_worksheet()
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    n = 0
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, int | float):
                ws.write_number(r, c, value)
            elif hasattr(value, "year"):
                ws.write_datetime(r, c, value, date_fmt)
            else:
                ws.write_string(r, c, str(value))
        n += 1
    wb.close()
    return n


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_export_job(app, base: str, cookie: str, consumer_pid: int) -> tuple[float, int, float]:
    """Start the provincial reviewer's export (a job: over the threshold) and wait for the
    consumer to finish it; its seconds from the job's started/finished times, its rows and the
    consumer's CPU seconds meanwhile (less sensitive than wall time to a busy machine)."""
    from ecqs.extensions import db
    from ecqs.models import Job

    request = urllib.request.Request(
        f"{base}/admin/instrument_supervision/export/xlsx/", headers={"Cookie": cookie}
    )
    location = ""
    cpu_before = cpu_seconds(consumer_pid)
    try:
        urllib.request.build_opener(_NoRedirect).open(request, timeout=120)
    except urllib.error.HTTPError as exc:
        location = exc.headers.get("Location", "")
    job_id = int(re.search(r"/my_exports/(\d+)/", location).group(1))
    with app.app_context():
        while True:
            db.session.rollback()
            job = db.session.get(Job, job_id)
            if job.status in {"done", "failed"}:
                break
            time.sleep(0.5)
        assert job.status == "done", job.error
        seconds, rows = (job.finished_at - job.started_at).total_seconds(), job.total
        db.session.remove()
    return seconds, rows, cpu_seconds(consumer_pid) - cpu_before


def raw_export(app) -> tuple[float, float, int]:
    """Raw XlsxWriter over the very rows the job writes (the grid's scoped query, every cell
    computed by the database), in this process: no formats beyond dates, no formula
    neutralisation, no progress; the floor for any export of those rows. Wall seconds, CPU
    seconds, rows."""
    from flask import g
    from sqlalchemy import select

    from ecqs.extensions import db
    from ecqs.models import User

    with app.app_context(), app.test_request_context("/admin/instrument_supervision/export/xlsx/"):
        view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "instrument_supervision")
        g._login_user = db.session.execute(select(User).where(User.username == "bench_reviewer")).scalar_one()
        columns = view.get_export_columns()
        started, cpu_started = time.perf_counter(), time.process_time()
        written = raw_xlsxwriter(str(OUT / "raw_export.xlsx"), view.iter_export_rows(columns))
        raw, raw_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        db.session.remove()
    return raw, raw_cpu, written


def export_figures(app, base: str, environ: dict, ledger_cookie: str) -> dict:
    """The provincial reviewer's export as a job in a real consumer process, in LOAD_ROUNDS
    rounds of the job alone and raw XlsxWriter over the same rows, in alternating order
    (measured seconds apart: the machine's drift between the two is what a one-off comparison
    measured before; the keys give the median round), then once while wrk loads the ledger page
    with EXPORT_CONNECTIONS clients (a few people working while the export runs), against the
    same page and clients without the export."""
    consumer = start(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "app",
            "jobs",
            "consumer",
            "--workers",
            "1",
            "--no-periodic",
        ],
        environ,
        OUT / "consumer.log",
    )
    ledger = f"{base}/admin/instruments/"
    rounds: list[dict] = []
    try:
        time.sleep(3)
        cookie = login(base, "bench_reviewer", "staff")
        for n in range(ROUNDS):
            # Job then raw, then raw then job: the first of a pair meets a colder database cache
            # and, on a drifting machine, a different CPU; alternating cancels that out.
            if n % 2 == 0:
                job_s, rows, job_cpu = run_export_job(app, base, cookie, consumer.pid)
                raw_s, raw_cpu, written = raw_export(app)
            else:
                raw_s, raw_cpu, written = raw_export(app)
                job_s, rows, job_cpu = run_export_job(app, base, cookie, consumer.pid)
            rounds.append(
                {
                    "job_s": round(job_s, 2),
                    "raw_s": round(raw_s, 2),
                    "to_raw": round(job_s / raw_s, 3),
                    # CPU seconds of the consumer during the job vs this process during raw
                    # (the database's own work excluded on both sides).
                    "job_cpu_s": round(job_cpu, 2),
                    "raw_cpu_s": round(raw_cpu, 2),
                    "to_raw_cpu": round(job_cpu / raw_cpu, 3) if raw_cpu else None,
                    "rows": rows,
                    "raw_rows": written,
                }
            )
        quiet = wrk(ledger, ledger_cookie, seconds=min(SECONDS, 10), connections=EXPORT_CONNECTIONS)
        # wrk windows of up to 10 s on the ledger page for as long as the export runs.
        windows: list[dict] = []
        finished = threading.Event()

        def load_during_export() -> None:
            while not finished.is_set():
                windows.append(
                    wrk(ledger, ledger_cookie, seconds=min(SECONDS, 10), connections=EXPORT_CONNECTIONS)
                )

        loader = threading.Thread(target=load_during_export)
        loader.start()
        try:
            loaded_s, _rows, _cpu = run_export_job(app, base, cookie, consumer.pid)
        finally:
            finished.set()
            loader.join()
    finally:
        stop(consumer)

    def median_of(key: str):
        values = [r[key] for r in rounds if r[key] is not None]
        return _median(values) if values else None

    return {
        "export_rows": rounds[0]["rows"],
        "raw_rows": rounds[0]["raw_rows"],
        "export_job_400k_s": median_of("job_s"),
        "xlsxwriter_raw_400k_s": median_of("raw_s"),
        "export_job_to_raw": median_of("to_raw"),
        "export_job_400k_cpu_s": median_of("job_cpu_s"),
        "xlsxwriter_raw_400k_cpu_s": median_of("raw_cpu_s"),
        "export_job_to_raw_cpu": median_of("to_raw_cpu"),
        "export_rounds": rounds,
        "export_job_400k_under_load_s": round(loaded_s, 2),
        "export_connections": EXPORT_CONNECTIONS,
        "page_without_export_p95_ms": quiet["p95_ms"],
        "page_without_export_rps": quiet["rps"],
        # The worst window's p95 (a window ending after the export is included: conservative).
        "page_during_export_p95_ms": max(w["p95_ms"] for w in windows),
        "page_during_export_p95_ms_windows": [w["p95_ms"] for w in windows],
        "page_during_export_rps": round(sum(w["rps"] for w in windows) / len(windows), 1),
        "page_during_export_errors": sum(w["errors"] for w in windows),
    }


if __name__ == "__main__":
    main()
