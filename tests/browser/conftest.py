"""Browser fixtures: a real server on a free 127.0.0.1 port and Playwright driving the system Chromium.

The server is a second app built with the test database of tests/conftest.py (same database URL,
upload and instance folders, captcha and staff SMS factor off) but with CSRF ON, since the real
pages carry their tokens. Without /usr/bin/chromium the browser tests are skipped with a reason,
except in CI (CI=true), where they fail: CI must never pass without running them.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from ecqs import create_app
from ecqs.extensions import db

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--lang=zh-CN",  # the browser's own widgets (file chooser button) in Chinese, as for a real user
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no", "off"}


def _unavailable(reason: str):
    if in_ci():
        pytest.fail(f"CI=true but the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk; .ci/run does it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - requirements.txt pins playwright
        _unavailable(f"Playwright for Python is not installed: {exc}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    context.close()


@contextmanager
def serving(app, **overrides):
    """Base URL of a threaded werkzeug server over the test database, CSRF on; `overrides`
    change the live app's settings (the jobs flow lowers the job thresholds)."""
    live = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            "INSTANCE_DIR": app.config["INSTANCE_DIR"],
            "SECRET_KEY": "test-secret-live",
            "WTF_CSRF_ENABLED": True,
            "ECQS_CAPTCHA": False,
            "ECQS_STAFF_2FA": False,
            "RATELIMIT_ENABLED": False,
            "GRID_CACHE_SECONDS": 0,  # every page computes afresh (tests/views/test_list_rows.py turns it on)
            **overrides,
        }
    )
    server = make_server("127.0.0.1", 0, live, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with live.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="module")
def live_server(app):
    """Base URL of a threaded werkzeug server over the test database, CSRF on."""
    with serving(app) as base:
        yield base


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
