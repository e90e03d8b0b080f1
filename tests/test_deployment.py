"""What README promises about set-up and configuration stays true."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from ecqs import create_app, seeding
from ecqs.extensions import db
from ecqs.models import AuditEvent

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_documents_every_configuration_variable():
    source = (ROOT / "ecqs" / "config.py").read_text(encoding="utf-8")
    names = set(re.findall(r'os\.environ\.get\(\s*"([A-Z0-9_]+)"', source))
    names |= set(re.findall(r'_flag\(\s*"([A-Z0-9_]+)"', source))
    assert {"DATABASE_URL", "SECRET_KEY", "ECQS_CAPTCHA", "ECQS_STAFF_2FA"} <= names
    undocumented = sorted(n for n in names if f"`{n}`" not in README)
    assert undocumented == [], f"README.md does not document {undocumented}"


def test_readme_lists_every_demo_account_and_the_password():
    assert f"`{seeding.DEMO_PASSWORD}`" in README
    for username, *_rest in seeding.DEMO_USERS:
        assert f"| `{username}` |" in README, username


def test_readme_quick_start_commands_exist_in_the_makefile():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = ("run", "test", "setup", "lint", "fmt", "babel-extract", "babel-update", "bench", "serve-prod")
    for target in targets:
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), target
    assert "make run" in README and "make test" in README


def test_every_seed_file_names_its_source():
    for path in sorted((ROOT / "seed").glob("*.csv")) + sorted((ROOT / "seed").glob("*.txt")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# source:"), f"{path.name} does not start with '# source:'"


def test_trusted_proxy_gives_the_client_address_to_audit(app):
    proxied = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "proxy-test",
            "WTF_CSRF_ENABLED": False,
            "ECQS_CAPTCHA": False,
            "RATELIMIT_ENABLED": False,
            "ECQS_TRUSTED_PROXIES": 1,
        }
    )
    client = proxied.test_client()
    form = {"user_type": "person", "username": "nobody_here", "password": "Wrong@2026pass"}
    response = client.post(
        "/login",
        data=form,
        headers={"X-Forwarded-For": "203.0.113.7"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert response.status_code == 200
    db.session.rollback()
    ips = db.session.execute(
        select(AuditEvent.ip).where(AuditEvent.event == "login", AuditEvent.username == "nobody_here")
    ).scalars()
    assert list(ips) == ["203.0.113.7"]
    with proxied.app_context():
        db.engine.dispose()


def test_without_trusted_proxy_forwarded_for_is_ignored(client):
    form = {"user_type": "person", "username": "nobody_there", "password": "Wrong@2026pass"}
    headers = {"X-Forwarded-For": "203.0.113.7"}
    client.post("/login", data=form, headers=headers, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    ips = db.session.execute(
        select(AuditEvent.ip).where(AuditEvent.event == "login", AuditEvent.username == "nobody_there")
    ).scalars()
    assert list(ips) == ["10.1.2.3"]
