"""The Alembic migrations build the schema the models describe.

`flask db upgrade` runs, as `make run` does, on a fresh SQLite file; alembic's autogenerate
comparison of that database with the models' metadata must then find nothing to do. When this
fails after a model change, regenerate the migration (`flask --app app db migrate`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from ecqs.extensions import db

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _flask(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def upgraded_sqlite(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECQS_")}
    env.update({"DATABASE_URL": url, "ECQS_INSTANCE_DIR": str(tmp_path / "instance"), "SECRET_KEY": "m"})
    result = _flask("db", "upgrade", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return url


@pytest.fixture
def upgraded_postgres():
    """A scratch PostgreSQL database upgraded by `flask db upgrade` (on the server of the suite's
    DATABASE_URL), dropped afterwards; skipped when the suite runs on SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: the suite runs on SQLite")
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"migrated_{os.getpid()}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    scratch = base.set(database=name).render_as_string(hide_password=False)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECQS_")}
        env.update({"DATABASE_URL": scratch, "SECRET_KEY": "m"})
        result = _flask("db", "upgrade", env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        yield scratch
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "render_as_batch": True,
                    "include_name": lambda name, type_, parent: (
                        not (type_ == "table" and name == "alembic_version")
                    ),
                },
            )
            return compare_metadata(context, db.metadata)
    finally:
        engine.dispose()


def test_flask_db_upgrade_builds_every_table(upgraded_sqlite):
    engine = create_engine(upgraded_sqlite)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert "alembic_version" in tables
    missing = sorted(set(db.metadata.tables) - tables)
    assert missing == [], f"tables the models have and the migrations do not create: {missing}"


def test_migrations_match_the_models(upgraded_sqlite):
    diff = _differences(upgraded_sqlite)
    assert diff == [], (
        "the migrations and the models differ; regenerate the migration "
        "(flask --app app db migrate):\n" + "\n".join(map(str, diff))
    )


def test_migrations_match_the_models_on_postgresql(upgraded_postgres):
    """The same on PostgreSQL, where constraints Alembic leaves out (use_alter) are missed
    silently: the uploads' uploader foreign key was, until its own migration."""
    diff = _differences(upgraded_postgres)
    assert diff == [], "the migrations and the models differ on PostgreSQL:\n" + "\n".join(map(str, diff))
