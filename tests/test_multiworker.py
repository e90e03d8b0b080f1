"""Several gunicorn workers behave like one process: sessions, logout, lockout and the SMS quota
live in the database, not in a worker's memory.

gunicorn runs app.py (configured from the environment, CSRF on, as in production) with 2 sync
workers on a socket bound here to a free 127.0.0.1 port, against the test database (PostgreSQL
when DATABASE_URL is set, else the suite's SQLite file). Every response carries the answering
worker's pid. To choose which worker answers, the test holds the other one busy on an unfinished
request: a sync worker serves one connection at a time, so every new connection then goes to
the worker we want (each answer's pid is checked all the same).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.models import SmsCode, User, UserSession, utcnow
from tests.conftest import PASSWORD, make_mobile, make_user

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
TIMEOUT = 20  # seconds for one HTTP exchange
START_TIMEOUT = 60  # seconds for gunicorn and both workers to answer
HOLD_PATH = b"/static/js/ecqs.js"


@dataclass
class Reply:
    status: int
    headers: dict
    text: str

    @property
    def pid(self) -> int:
        return int(self.headers["x-worker-pid"])

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Browser:
    """One user agent: a cookie jar and plain urllib, one new connection per request."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None) -> Reply:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=TIMEOUT) as resp:
                headers = {k.lower(): v for k, v in resp.headers.items()}
                return Reply(resp.status, headers, resp.read().decode())
        except urllib.error.HTTPError as resp:  # 3xx (redirects are not followed), 4xx, 5xx
            body = resp.read().decode(errors="replace")
            return Reply(resp.code, {k.lower(): v for k, v in resp.headers.items()}, body)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def csrf_token(self, path: str = "/login") -> str:
        page = self.get(path)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page.text
        )
        assert match, f"no csrf_token on {path}: {page.status} {page.text[:300]}"
        return match.group(1)

    def login(self, username: str, password: str, user_type: str = "enterprise") -> Reply:
        token = self.csrf_token("/login")
        return self.request(
            "POST",
            "/login",
            {"csrf_token": token, "user_type": user_type, "username": username, "password": password},
        )

    def cookie(self, name: str = "session") -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)


class Gunicorn:
    def __init__(self, env: dict, log_path: Path):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.base = f"http://{HOST}:{self.port}"
        self.log_path = log_path
        fd = self.listener.fileno()
        self.log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers=2",
                "--worker-class=sync",
                f"--bind=fd://{fd}",
                "--timeout=120",
                "--graceful-timeout=5",
                "--no-control-socket",  # gunicorn 27 otherwise claims ~/.gunicorn/gunicorn.ctl
                f"--chdir={ROOT}",
                "tests.multiworker_wsgi:app",
            ],
            env=env,
            pass_fds=(fd,),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        self.workers = self._wait_for_both_workers()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _wait_for_both_workers(self) -> set[int]:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"gunicorn exited:\n{self.log_text()}"
            try:
                held = self.hold()
                other = self.probe()
                first = self.release(held)
            except OSError:
                time.sleep(0.3)
                continue
            if first != other:
                return {first, other}
            time.sleep(0.3)
        raise AssertionError(
            f"gunicorn's two workers did not both answer in {START_TIMEOUT}s:\n{self.log_text()}"
        )

    # -- choosing the worker -----------------------------------------------------------------

    def hold(self) -> socket.socket:
        """Start a request and leave it unfinished: the worker that accepts it is busy."""
        conn = socket.create_connection((HOST, self.port), timeout=TIMEOUT)
        conn.sendall(b"GET " + HOLD_PATH + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        return conn

    def release(self, conn: socket.socket) -> int:
        """Finish the held request; return the pid of the worker that held it."""
        try:
            conn.sendall(b"Connection: close\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            conn.close()
        match = re.search(rb"(?i)x-worker-pid:\s*(\d+)", data)
        assert match, f"no worker pid in the held response: {data[:200]!r}"
        return int(match.group(1))

    def probe(self) -> int:
        with urllib.request.urlopen(self.base + HOLD_PATH.decode(), timeout=TIMEOUT) as resp:
            return int(resp.headers["X-Worker-Pid"])

    @contextmanager
    def worker(self, pid: int):
        """Inside the block, every new connection is answered by worker `pid`."""
        assert pid in self.workers
        for _attempt in range(5):
            held = self.hold()
            free = self.probe()
            if free != pid:
                # `held` is on the worker we want: occupy the other one, then free ours.
                other = self.hold()
                time.sleep(0.2)  # let the free worker accept `other`
                self.release(held)
                held, free = other, self.probe()
            if free == pid:
                try:
                    yield
                finally:
                    self.release(held)
                return
            self.release(held)
        raise AssertionError(f"could not steer requests to worker {pid}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.listener.close()
        self.log.close()


def start_gunicorn(app, folder: Path, **settings: str) -> Gunicorn:
    """gunicorn over the test database, configured from the environment as in production."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ECQS_", "RATELIMIT_", "SMS_", "SESSION_"))
    }
    env.update(
        {
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "multiworker-secret",  # every worker (and host) must share it
            "ECQS_INSTANCE_DIR": str(folder / "instance"),
            "UPLOAD_DIR": str(folder / "uploads"),
            "ECQS_CAPTCHA": "off",
            "ECQS_STAFF_2FA": "off",
            "RATELIMIT_ENABLED": "off",
            "SMS_DAILY_LIMIT": "3",
            "PYTHONUNBUFFERED": "1",
            **settings,
        }
    )
    return Gunicorn(env, folder / "gunicorn.log")


@pytest.fixture(scope="module")
def gunicorn(app, tmp_path_factory):
    server = start_gunicorn(app, tmp_path_factory.mktemp("multiworker"))
    try:
        yield server
    finally:
        server.stop()


def _fresh(model, **where):
    db.session.rollback()
    return db.session.execute(select(model).filter_by(**where)).scalar_one()


def test_one_login_works_on_every_worker(gunicorn):
    user = make_user("enterprise")
    a, b = sorted(gunicorn.workers)
    ua = Browser(gunicorn.base)
    with gunicorn.worker(a):
        reply = ua.login(user.username, PASSWORD)
        assert reply.pid == a
        assert reply.status == 302 and reply.location.endswith("/admin/"), reply.text[:500]
    for pid in (b, a):
        with gunicorn.worker(pid):
            home = ua.get("/admin/")
            assert home.pid == pid
            assert home.status == 200, (home.status, home.location)
            assert "待办事项" in home.text and user.username in home.text
    # An anonymous agent is sent to the login page by both workers.
    for pid in (a, b):
        with gunicorn.worker(pid):
            reply = Browser(gunicorn.base).get("/admin/")
            assert reply.pid == pid and reply.status == 302 and "/login" in reply.location


def test_logout_on_one_worker_ends_the_session_on_all(gunicorn):
    user = make_user("enterprise")
    a, b = sorted(gunicorn.workers)
    ua = Browser(gunicorn.base)
    with gunicorn.worker(b):
        assert ua.login(user.username, PASSWORD).status == 302
    stolen = ua.cookie()
    assert stolen
    with gunicorn.worker(a):
        home = ua.get("/admin/")
        assert home.status == 200 and home.pid == a
        logout_form = r'action="/logout"[^>]*>\s*<input[^>]*name="csrf_token"[^>]*value="([^"]+)"'
        token = re.search(logout_form, home.text)
        assert token, "no logout form on the home page"
        out = ua.request("POST", "/logout", {"csrf_token": token.group(1)})
        assert out.pid == a and out.status == 302 and "/login" in out.location
    assert _fresh(UserSession, user_id=user.id).ended_at is not None
    # The old session cookie, replayed, is refused by both workers: the session ended server-side.
    for pid in (a, b):
        replay = Browser(gunicorn.base)
        replay.jar.set_cookie(_cookie("session", stolen))
        with gunicorn.worker(pid):
            reply = replay.get("/admin/")
            assert reply.pid == pid and reply.status == 302 and "/login" in reply.location


def _cookie(name: str, value: str) -> http.cookiejar.Cookie:
    return http.cookiejar.Cookie(
        0, name, value, None, False, HOST, False, False, "/", True, False, None, False, None, None, {}
    )


def test_five_failures_spread_over_workers_lock_the_account_everywhere(gunicorn):
    user = make_user("enterprise")
    a, b = sorted(gunicorn.workers)
    answered = []
    for attempt, pid in enumerate((a, b, a, b, a), start=1):
        with gunicorn.worker(pid):
            reply = Browser(gunicorn.base).login(user.username, "Wrong@2026pass")
            answered.append(reply.pid)
            assert reply.status == 200, reply.location
            expected = "账号已锁定" if attempt == 5 else "用户名或密码错误"
            assert expected in reply.text, (attempt, reply.text[:500])
    assert answered == [a, b, a, b, a]  # failures counted by both workers add up to 5
    locked = _fresh(User, id=user.id)
    assert locked.locked_until is not None and locked.locked_until > utcnow()
    for pid in (b, a):
        with gunicorn.worker(pid):
            reply = Browser(gunicorn.base).login(user.username, PASSWORD)  # right password, still locked
            assert reply.pid == pid and reply.status == 200
            assert "账号已锁定" in reply.text
    db.session.rollback()
    assert db.session.execute(select(func.count(UserSession.token)).filter_by(user_id=user.id)).scalar() == 0


def test_sms_daily_quota_holds_across_workers(gunicorn):
    mobile = make_mobile()
    a, b = sorted(gunicorn.workers)
    results = []
    for pid in (a, b, a, b, a):
        ua = Browser(gunicorn.base)
        with gunicorn.worker(pid):
            token = ua.csrf_token("/login")
            reply = ua.request(
                "POST",
                "/sms/send",
                {"mobile": mobile, "purpose": "register"},
                headers={"X-CSRFToken": token},
            )
            assert reply.pid == pid
            results.append((reply.status, json.loads(reply.text)))
    assert [status for status, _ in results] == [200, 200, 200, 429, 429], results
    assert all(body["ok"] for _, body in results[:3])
    assert all("上限" in body["message"] for _, body in results[3:])
    db.session.rollback()
    assert db.session.execute(select(func.count(SmsCode.id)).filter_by(mobile=mobile)).scalar() == 3


REDIS_URL = "redis://127.0.0.1:6379/13"  # a database of its own, emptied by this test


def _redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis on 127.0.0.1:6379 ({exc}); the ecqsdb:// case still runs")
    client.flushdb()
    return client


@pytest.mark.parametrize("storage", ["ecqsdb://", REDIS_URL])
def test_rate_limits_are_shared_by_workers(app, tmp_path_factory, storage):
    """POST /sms/send allows 10 requests a minute per address, counted over both workers."""
    redis_client = _redis_or_skip() if storage.startswith("redis") else None
    server = start_gunicorn(
        app, tmp_path_factory.mktemp("ratelimit"), RATELIMIT_ENABLED="on", RATELIMIT_STORAGE_URI=storage
    )
    try:
        a, b = sorted(server.workers)
        ua = Browser(server.base)
        token = ua.csrf_token("/login")
        statuses = []
        for n in range(11):
            pid = (a, b)[n % 2]
            with server.worker(pid):
                # An invalid mobile: refused before any SMS code, but still counted by the limiter.
                reply = ua.request(
                    "POST", "/sms/send", {"mobile": "123", "purpose": "register"}, {"X-CSRFToken": token}
                )
                assert reply.pid == pid
                statuses.append(reply.status)
        assert statuses == [400] * 10 + [429], statuses  # 5 answers each, then the 11th is refused
        with server.worker(a):
            assert ua.request("POST", "/sms/send", {"mobile": "123"}, {"X-CSRFToken": token}).status == 429
    finally:
        server.stop()
        if redis_client is not None:
            redis_client.flushdb()


def _quota_race(base: str) -> tuple[list[int], str]:
    """Two codes one after the other, then two requests at the same moment for the third."""
    mobile = make_mobile()
    agents = [Browser(base) for _ in range(4)]
    tokens = [ua.csrf_token("/login") for ua in agents]

    def send(i: int) -> int:
        form = {"mobile": mobile, "purpose": "register"}
        return agents[i].request("POST", "/sms/send", form, {"X-CSRFToken": tokens[i]}).status

    statuses = [send(0), send(1)]
    start = threading.Barrier(2, timeout=TIMEOUT)
    raced: dict[int, int] = {}

    def race(i: int) -> None:
        start.wait()
        raced[i] = send(i)

    threads = [threading.Thread(target=race, args=(i,)) for i in (2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=2 * TIMEOUT)
    return statuses + sorted(raced.values()), mobile


def test_sms_quota_holds_when_workers_race(gunicorn):
    """Two requests at the same moment (on both workers) cannot both take the last code."""
    for _round in range(8):
        statuses, mobile = _quota_race(gunicorn.base)
        db.session.rollback()
        codes = db.session.execute(select(func.count(SmsCode.id)).filter_by(mobile=mobile)).scalar()
        assert (statuses, codes) == ([200, 200, 200, 429], 3)
