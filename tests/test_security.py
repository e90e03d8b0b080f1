"""Security baseline of M0: headers and CSP, escaping, local redirects only, audit events and the
append-only audit table, no internals in error messages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, select, update

from ecqs.extensions import db
from ecqs.models import AuditEvent, Division, Notice
from ecqs.services import audit
from tests.accounts.fixtures import count, text
from tests.conftest import login, make_org, make_user

XSS = "<img src=x onerror=alert(1)>"


# ---- headers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/login", "/register", "/register/enterprise", "/admin/", "/admin/organizations/"]
)
def test_security_headers_and_script_nonces(client, url):
    if url.startswith("/admin"):
        login(client, make_user("admin"))
    response = client.get(url)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", csp).group(1)
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp.split("style-src")[0]
    assert "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in (
        "same-origin",
        "strict-origin-when-cross-origin",
        "no-referrer",
    )
    assert response.headers["X-Frame-Options"] == "DENY"
    page = text(response)
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag, tag
    # A new nonce on every response.
    assert nonce not in client.get(url).headers["Content-Security-Policy"]


def test_no_inline_handlers_on_grid_buttons(client):
    login(client, make_user("admin"))
    make_org(status="pending")
    db.session.add(Notice(title="公告", body="x", audience="all"))
    db.session.commit()
    for url in ("/admin/organizations/", "/admin/notices/"):
        page = text(client.get(url))
        assert "modelActions.execute" not in page and "safeConfirm" not in page
        assert 'data-model-action="' in page
    assert 'data-confirm="' in text(client.get("/admin/notices/"))


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://localhost")
    assert "max-age=" in secure.headers["Strict-Transport-Security"]


def test_logged_in_pages_not_cached(client):
    login(client, make_user("person"))
    assert client.get("/admin/").headers["Cache-Control"] == "no-store"


# ---- escaping -----------------------------------------------------------------------------------


def test_stored_markup_is_escaped_everywhere(client):
    org = make_org(name=XSS, address=XSS, status="rejected")
    org.reject_reason = XSS
    member = make_user("enterprise", org=org, real_name=XSS)
    db.session.add(Notice(title=XSS, body=XSS, audience="all"))
    db.session.commit()

    login(client, member)
    pages = [
        client.get("/admin/"),
        client.get("/admin/my_org/"),
        client.get(f"/admin/my_org/details/?id={org.id}"),
    ]
    client.post("/logout")
    login(client, make_user("admin"))
    pages += [
        client.get("/admin/organizations/"),
        client.get(f"/admin/organizations/details/?id={org.id}"),
        client.get("/admin/users/"),
        client.get(f"/admin/users/details/?id={member.id}"),
        client.get("/admin/notices/"),
        client.get("/admin/"),
    ]
    for response in pages:
        page = text(response)
        assert response.status_code == 200
        assert XSS not in page, response.request.path
        assert "&lt;img src=x onerror=alert(1)&gt;" in page, response.request.path


# ---- redirects ----------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["//evil.com/", "https://evil.com/", "/\\evil.com"])
def test_workflow_return_url_only_local(client, target):
    org = make_org(status="pending")
    login(client, make_user("admin"))
    response = client.post(
        f"/admin/organizations/transition/{org.id}/approve",
        query_string={"url": target},
        data={"expected_state": "pending"},
    )
    assert response.status_code == 302
    assert "evil.com" not in response.headers["Location"]


def test_unauthenticated_redirect_keeps_local_next(client):
    response = client.get("/admin/users/?page=2")
    location = response.headers["Location"]
    assert location.startswith("/login?next=")
    assert "evil" not in location


# ---- audit ------------------------------------------------------------------------------------------


def test_denial_and_failure_events(client):
    user = make_user("enterprise")
    login(client, user, password="Wrong#Pass2026")
    login(client, user)
    client.get("/admin/audit/")
    client.get("/admin/my_org/details/?id=999999")
    events = db.session.execute(
        select(AuditEvent.event, AuditEvent.result, AuditEvent.user_id).order_by(AuditEvent.id)
    ).all()
    assert ("login", "failure", user.id) in events
    assert ("login", "success", user.id) in events
    denials = [e for e in events if e.event == "access_denied"]
    assert len(denials) == 2 and all(e.result == "failure" and e.user_id == user.id for e in denials)
    at = db.session.execute(select(AuditEvent.at)).scalars().first()
    assert at.tzinfo is not None  # time with offset


def test_audit_table_is_append_only(app):
    with app.test_request_context():
        audit.record("login", result="success")
        db.session.commit()
    event = db.session.execute(select(AuditEvent)).scalar_one()
    event.result = "failure"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.execute(select(AuditEvent)).scalar_one())
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    for statement in (update(AuditEvent).values(result="failure"), delete(AuditEvent)):
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.execute(statement)
        db.session.rollback()
    assert db.session.execute(select(AuditEvent.result)).scalar_one() == "success"


def test_audit_grid_read_only(client):
    login(client, make_user("admin"))
    event_id = db.session.execute(select(AuditEvent.id)).scalars().first()
    assert client.get(f"/admin/audit/edit/?id={event_id}").status_code == 302
    client.post("/admin/audit/delete/", data={"id": event_id})
    client.post("/admin/audit/action/", data={"action": "delete", "rowid": [event_id]})
    assert count(AuditEvent, AuditEvent.id == event_id) == 1
    page = text(client.get("/admin/audit/"))
    assert 'data-model-action="delete"' not in page


# ---- no internals in messages; odd ids ------------------------------------------------------------


def test_integrity_error_message_shows_no_sql(client):
    login(client, make_user("admin"))
    page = text(
        client.post(
            "/admin/divisions/new/",
            data={"code": "999999", "name": "不存在", "level": "3", "parent_code": "888888"},
            follow_redirects=True,
        )
    )
    assert "INSERT" not in page and "sqlite" not in page.lower() and "psycopg" not in page
    assert "保存失败" in page
    assert db.session.get(Division, "999999") is None


@pytest.mark.parametrize("bad_id", ["abc", "1 OR 1=1", "9" * 40, "%00"])
def test_odd_ids_are_404(client, bad_id):
    login(client, make_user("admin"))
    expected = 400 if bad_id == "%00" else 404  # NUL is refused before any view runs
    for url in ("/admin/organizations/details/", "/admin/organizations/edit/", "/admin/users/details/"):
        assert client.get(url, query_string={"id": bad_id.replace("%00", "\x00")}).status_code == expected
    assert client.get(f"/admin/organizations/file/{bad_id}/licence_upload").status_code == expected


def test_nul_bytes_refused_and_never_break_the_audit(app, client):
    response = client.post("/register/person", data={"username": "abc\x00def", "real_name": "x"})
    assert response.status_code == 400
    assert count(AuditEvent) == 0
    with app.test_request_context():
        audit.record("access_denied", object_type="X:\x00", comment="GET /\x00")
        audit.record_now("access_denied", object_type="Y:\x00", comment="GET /\x00")
        db.session.commit()
    stored = set(db.session.execute(select(AuditEvent.object_type)).scalars())
    assert stored == {"X:\\x00", "Y:\\x00"}


def test_masking_in_lists_and_exports(client):
    from tests.accounts.fixtures import xlsx_rows

    org = make_org(legal_rep_id_number="61011319900101123X")
    org.contact_mobile = "13812345678"
    db.session.commit()
    login(client, make_user("admin"))
    page = text(client.get("/admin/organizations/"))
    assert "13812345678" not in page and "138****5678" in page
    rows = xlsx_rows(client.get("/admin/organizations/export/xlsx/"))
    flat = " ".join(str(v) for row in rows for v in row)
    assert "13812345678" not in flat and "61011319900101123X" not in flat
    assert "610************23X" in flat
    assert org.id
