"""Fixtures: one database per test session, emptied (except reference data) after each test.

DATABASE_URL selects PostgreSQL; otherwise a temporary SQLite file is used."""

from __future__ import annotations

import contextlib
import itertools
import os
import re

import pytest
from sqlalchemy import event, text
from stdnum.cn import ric, uscc

from ecqs import create_app
from ecqs.extensions import db
from ecqs.models import Organization, User, utcnow

# Each domain's fixtures are a pytest plugin: every test may ask for them by name.
pytest_plugins = [
    "tests.instruments.fixtures",
    "tests.licences.fixtures",
    "tests.qualifications.fixtures",
    "tests.registry.fixtures",
    "tests.registry.application_fixtures",
]

PASSWORD = "Test@2026pass"
REFERENCE_TABLES = {"divisions"}
_seq = itertools.count(1)


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
            "UPLOAD_DIR": str(instance / "uploads"),
            "INSTANCE_DIR": str(instance),
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "ECQS_CAPTCHA": False,
            "ECQS_STAFF_2FA": False,
            "RATELIMIT_ENABLED": False,
            "GRID_CACHE_SECONDS": 0,  # every page computes afresh (tests/views/test_list_rows.py turns it on)
            "HUEY_IMMEDIATE": True,  # jobs run in the request; tests/jobs/ also runs a real consumer
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        from ecqs import seeding

        seeding.load_reference()
        # Like the other catalogues, 申请材料目录 is loaded by the tests that need it (the
        # `document_catalogue` fixture); without it no document is required, in every test.
        db.session.execute(text("DELETE FROM document_requirements"))
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean(app):
    ctx = app.app_context()
    ctx.push()
    yield
    db.session.rollback()
    db.session.remove()
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            # uploads -> users -> organizations -> uploads is a cycle: check the keys at commit.
            conn.execute(text("PRAGMA defer_foreign_keys=ON"))
            for table in tables:
                conn.execute(table.delete())
    ctx.pop()


@pytest.fixture
def client(app):
    return app.test_client()


def make_uscc(n: int | None = None) -> str:
    n = next(_seq) if n is None else n
    first17 = f"91610113MA{n:07d}"
    return first17 + uscc.calc_check_digit(first17)


def make_id_number(n: int | None = None) -> str:
    n = next(_seq) if n is None else n
    first17 = f"61011319900101{n % 1000:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")  # stdnum drops the last character


def make_mobile() -> str:
    return f"139{next(_seq):08d}"


@contextlib.contextmanager
def recorded_statements():
    """The SQL statements sent to the database inside the block, as a list of strings."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def make_org(kind="enterprise", status="approved", **kw) -> Organization:
    n = next(_seq)
    org = Organization(
        kind=kind,
        name=kw.pop("name", f"测试单位{n}"),
        uscc=kw.pop("uscc", make_uscc(n)),
        division_code=kw.pop("division_code", "610113"),
        status=status,
        approved_at=utcnow() if status == "approved" else None,
        submitted_at=utcnow(),
        contact_name="联系人",
        contact_mobile=make_mobile(),
        **kw,
    )
    db.session.add(org)
    db.session.commit()
    return org


def make_user(role="enterprise", org=None, is_org_admin=True, **kw) -> User:
    n = next(_seq)
    if org is None and role in {"enterprise", "metrology", "assessor", "unit", "reviewer", "association"}:
        kind = {"reviewer": "authority"}.get(role, role)
        org = make_org(kind=kind)
    user = User(
        username=kw.pop("username", f"user{n}"),
        role=role,
        organization=org,
        is_org_admin=is_org_admin if org is not None else False,
        real_name=kw.pop("real_name", f"用户{n}"),
        id_number=kw.pop("id_number", make_id_number(n)),
        mobile=kw.pop("mobile", make_mobile()),
        **kw,
    )
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


USER_TYPE = {
    "person": "person",
    "enterprise": "enterprise",
    "metrology": "institution",
    "assessor": "institution",
    "unit": "institution",
    "reviewer": "staff",
    "association": "staff",
    "admin": "staff",
}


def login(client, user: User, password: str = PASSWORD):
    return client.post(
        "/login",
        data={
            "user_type": USER_TYPE[user.role],
            "username": user.username,
            "password": password,
            "captcha": "",
        },
    )


@pytest.fixture
def login_as(client):
    """login_as(role or user) -> the logged-in User."""

    def _login(who="admin", **kw):
        user = who if isinstance(who, User) else make_user(who, **kw)
        response = login(client, user)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return _login


def flashes(response) -> str:
    return " ".join(re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S))


# ---- M0 additions (accounts, organisations) ---------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing(app):
    """scrypt costs ~70 ms per hash; the suite hashes thousands of test passwords."""
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"


@pytest.fixture(scope="module")
def strict_app(app):
    """A second app on the same database with the production switches on: CSRF, captcha and
    the staff SMS factor (the session app turns them off)."""
    strict = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            "INSTANCE_DIR": app.config["INSTANCE_DIR"],
            "SECRET_KEY": "strict-secret",
            "WTF_CSRF_ENABLED": True,
            "ECQS_CAPTCHA": True,
            "ECQS_STAFF_2FA": True,
            "RATELIMIT_ENABLED": False,
            "GRID_CACHE_SECONDS": 0,  # every page computes afresh (tests/views/test_list_rows.py turns it on)
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    yield strict
    with strict.app_context():
        db.session.remove()
        db.engine.dispose()
