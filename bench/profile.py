"""What one request of `make bench-load` costs, in process (`python -m bench.profile`): for the
trivial route, the public instrument query and the enterprise's first ledger page, on the
database of bench/load.py (PostgreSQL h_jobs_bench by default, the same settings): the
milliseconds per request, the Python function calls per request (cProfile's count: the same on a
busy and on a quiet machine), the SQL statements per request (with their share of the time) and
cProfile's top functions by own time and the main cumulative items (session, queries,
template). Prints text; bench/RESULTS.md quotes it.

PROFILE_REPEAT (default 200) requests per route after 10 warm-up requests."""

from __future__ import annotations

import cProfile
import io
import logging
import os
import pstats
import re
import time
from collections import Counter

from sqlalchemy import event, select

from bench import load

REPEAT = int(os.environ.get("PROFILE_REPEAT", "200"))
# Cumulative items worth naming: where a page's time goes, grouped by layer.
LAYERS = {
    "session (load + save)": ("sessions.py", "open_session", "save_session"),
    "login user load": ("_load_user", "load_user"),
    "SQL execute (driver)": ("do_execute", "execute"),
    "template rendering": ("render_template", "render"),
}


def routes(app) -> dict:
    from ecqs.extensions import db
    from ecqs.models import Instrument, Organization, User

    with app.app_context():
        user = db.session.execute(select(User).where(User.username == "bench_enterprise")).scalar_one()
        uscc = db.session.get(Organization, user.organization_id).uscc
        serial = db.session.execute(
            select(Instrument.serial_no).where(Instrument.organization_id == user.organization_id).limit(1)
        ).scalar_one()
    return {
        "trivial": ("/bench/trivial", False),
        "public_query": (f"/public/instruments/query?enterprise={uscc}&serial={serial}", False),
        "ledger_page": ("/admin/instruments/", True),
    }


def main() -> None:
    logging.disable(logging.WARNING)
    os.environ.update(load.env())
    from bench import generate
    from bench.load_app import app
    from ecqs.extensions import db

    app.config["WTF_CSRF_ENABLED"] = False
    statements: Counter = Counter()
    timing: Counter = Counter()

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn, cursor, statement, params, context, executemany):
        context._bench_started = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn, cursor, statement, params, context, executemany):
        key = re.sub(r"\s+", " ", statement)[:110]
        statements[key] += 1
        timing[key] += time.perf_counter() - context._bench_started

    logged_in = app.test_client()
    logged_in.post(
        "/login",
        data={"user_type": "enterprise", "username": "bench_enterprise", "password": generate.PASSWORD},
    )
    anonymous = app.test_client()
    for name, (url, needs_login) in routes(app).items():
        client = logged_in if needs_login else anonymous
        for _ in range(10):
            assert client.get(url).status_code == 200, url
        statements.clear()
        timing.clear()
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(REPEAT):
            client.get(url).get_data()
        profiler.disable()
        elapsed = time.perf_counter() - started
        print(f"\n## {name}: {url}\n")
        print(f"{elapsed / REPEAT * 1000:.2f} ms per request under cProfile ({REPEAT} requests)")
        # Without the profiler's overhead:
        started = time.perf_counter()
        for _ in range(REPEAT):
            client.get(url).get_data()
        print(f"{(time.perf_counter() - started) / REPEAT * 1000:.2f} ms per request without the profiler")
        total_sql = sum(timing.values())
        print(
            f"{sum(statements.values()) / (2 * REPEAT):.1f} SQL statements per request, "
            f"{total_sql / (2 * REPEAT) * 1000:.2f} ms of SQL per request:"
        )
        for key, count in statements.most_common(12):
            print(f"  {count / (2 * REPEAT):4.1f}×  {timing[key] / count * 1000:6.2f} ms  {key}")
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        # Python function calls per request: deterministic, unlike times on a shared machine.
        print(f"{stats.total_calls / REPEAT:.0f} Python function calls per request")
        stats.sort_stats("tottime").print_stats(15)
        print("\ntop 15 by own time:")
        print("\n".join(line for line in out.getvalue().splitlines() if re.match(r"\s+\d", line)))
        out = io.StringIO()
        stats.stream = out
        stats.sort_stats("cumulative").print_stats(60)
        print("\nmain cumulative items (ms per request):")
        for line in out.getvalue().splitlines():
            match = re.match(r"\s*\S+\s+\S+\s+\S+\s+([\d.]+)\s+\S+\s+(.*)$", line)
            if match and any(word in match.group(2) for words in LAYERS.values() for word in words):
                print(f"  {float(match.group(1)) / REPEAT * 1000:7.2f}  {match.group(2)[-100:]}")


if __name__ == "__main__":
    main()
