"""The Flask-Admin trap table of ARCHITECTURE.md: one test per trap, each failing if it reopens."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from flask_login import login_user
from sqlalchemy import select

from ecqs.admin_views.base import RoleView
from ecqs.extensions import db
from ecqs.models import AuditEvent, EnterpriseLink, Notice, Organization, Upload, User
from ecqs.services import xlsx_export
from tests.accounts.fixtures import (
    PDF_BYTES,
    PNG_BYTES,
    count,
    csrf_from,
    session_login,
    text,
    xlsx_rows,
)
from tests.conftest import make_org, make_user, recorded_statements

# ---- CSRF ---------------------------------------------------------------------------------------


def test_csrf_login_without_token_refused(strict_app):
    user = make_user("person")
    client = strict_app.test_client()
    response = client.post(
        "/login", data={"user_type": "person", "username": user.username, "password": "Test@2026pass"}
    )
    assert response.status_code in (200, 400)
    assert "页面已过期" in text(response) or response.status_code == 400
    assert count(AuditEvent, AuditEvent.event == "login", AuditEvent.result == "success") == 0
    assert client.get("/admin/").status_code == 302  # still anonymous


def test_csrf_create_delete_action_without_token_refused(strict_app):
    admin = make_user("admin")
    org = make_org(status="pending")
    notice = Notice(title="旧公告", body="内容", audience="all")
    db.session.add(notice)
    db.session.commit()
    client = strict_app.test_client()
    session_login(client, admin)
    assert client.get("/admin/organizations/").status_code == 200

    create = client.post("/admin/notices/new/", data={"title": "新公告", "body": "x", "audience": "all"})
    delete = client.post("/admin/notices/delete/", data={"id": notice.id})
    act = client.post("/admin/organizations/action/", data={"action": "wf_approve", "rowid": [org.id]})
    transition = client.post(f"/admin/organizations/transition/{org.id}/approve")
    for response in (create, delete, act, transition):
        assert response.status_code == 400
    assert count(Notice) == 1
    db.session.expire_all()
    assert db.session.get(Organization, org.id).status == "pending"

    # With the token from the page the same action goes through: the refusal above was CSRF.
    token = csrf_from(text(client.get("/admin/organizations/")))
    ok = client.post(
        "/admin/organizations/action/", data={"action": "wf_approve", "rowid": [org.id], "csrf_token": token}
    )
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organization, org.id).status == "approved"


def test_state_changes_refuse_get(client, login_as):
    login_as("admin")
    assert client.get("/logout").status_code == 405
    assert client.get("/admin/organizations/transition/1/approve").status_code == 405
    assert client.get("/admin/notices/delete/?id=1").status_code == 405


# ---- get_one: details / edit / delete / transition of another organisation's row --------------


def test_get_one_scoped_for_sub_accounts(client, login_as):
    me = login_as("enterprise")
    stranger = make_user("enterprise", is_org_admin=False, real_name="别人")
    for url in (
        f"/admin/subaccounts/details/?id={stranger.id}",
        f"/admin/subaccounts/edit/?id={stranger.id}",
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(
        f"/admin/subaccounts/edit/?id={stranger.id}",
        data={"username": stranger.username, "real_name": "被改", "mobile": stranger.mobile},
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(User, stranger.id).real_name == "别人"
    # The denial is in the audit trail.
    assert count(AuditEvent, AuditEvent.event == "access_denied", AuditEvent.user_id == me.id) >= 3


def test_get_one_scoped_for_association(client, login_as):
    login_as("association")
    enterprise = make_org(kind="enterprise", status="pending", name="企业甲")
    unit = make_org(kind="unit", status="pending")
    assert client.get(f"/admin/organizations/details/?id={unit.id}").status_code == 200
    for url in (
        f"/admin/organizations/details/?id={enterprise.id}",
        f"/admin/organizations/edit/?id={enterprise.id}",
        f"/admin/organizations/file/{enterprise.id}/licence_upload",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(f"/admin/organizations/edit/?id={enterprise.id}", data={"name": "改"}).status_code == 404
    )
    response = client.post(
        f"/admin/organizations/transition/{enterprise.id}/approve", data={"expected_state": "pending"}
    )
    assert response.status_code == 404
    db.session.expire_all()
    row = db.session.get(Organization, enterprise.id)
    assert (row.name, row.status) == ("企业甲", "pending")


def test_delete_of_other_tenant_row_refused(client, login_as):
    """No M0 grid lets a tenant delete; the base delete view still goes through the scope."""
    login_as("enterprise")
    stranger = make_user("enterprise", is_org_admin=False)
    response = client.post("/admin/subaccounts/delete/", data={"id": stranger.id})
    assert response.status_code in (302, 403, 404)
    assert db.session.get(User, stranger.id) is not None
    response = client.post("/admin/subaccounts/action/", data={"action": "delete", "rowid": [stranger.id]})
    assert response.status_code in (302, 403)
    assert count(User, User.id == stranger.id) == 1


# ---- actions: posted ids of another tenant are ignored --------------------------------------------


def test_action_ids_of_other_tenant_ignored(client, login_as):
    me = login_as("enterprise")
    mine = make_user("enterprise", org=me.organization, is_org_admin=False)
    stranger = make_user("enterprise", is_org_admin=False)
    response = client.post(
        "/admin/subaccounts/action/", data={"action": "disable", "rowid": [mine.id, stranger.id]}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, mine.id).active is False
    assert db.session.get(User, stranger.id).active is True


def test_workflow_action_ids_of_other_tenant_ignored(client, login_as):
    login_as("association")
    unit = make_org(kind="unit", status="pending")
    enterprise = make_org(kind="enterprise", status="pending")
    client.post(
        "/admin/organizations/action/", data={"action": "wf_approve", "rowid": [unit.id, enterprise.id]}
    )
    db.session.expire_all()
    assert db.session.get(Organization, unit.id).status == "approved"
    assert db.session.get(Organization, enterprise.id).status == "pending"
    denied = db.session.execute(
        select(AuditEvent).where(
            AuditEvent.event == "access_denied", AuditEvent.object_type == "Organization"
        )
    ).scalar_one()
    assert "1 ids out of scope" in denied.comment


def test_bad_action_ids_rejected(client, login_as):
    login_as("admin")
    response = client.post(
        "/admin/organizations/action/", data={"action": "wf_approve", "rowid": ["1 or 1=1"]}
    )
    assert response.status_code == 400


# ---- inline edit --------------------------------------------------------------------------------


def test_ajax_update_refused_on_every_grid(app, client, login_as):
    login_as("admin")
    org = make_org(name="原名")
    endpoints = [view.endpoint for view in app.extensions["admin"][0]._views if isinstance(view, RoleView)]
    assert "organizations" in endpoints and len(endpoints) >= 10
    for endpoint in endpoints:
        response = client.post(
            f"/admin/{endpoint}/ajax/update/", data={"list_form_pk": org.id, "name": "改名"}
        )
        assert response.status_code == 403, endpoint
    db.session.expire_all()
    assert db.session.get(Organization, org.id).name == "原名"


def test_no_editable_list_columns(app):
    for view in app.extensions["admin"][0]._views:
        if isinstance(view, RoleView):
            assert not view.column_editable_list, view.endpoint


# ---- relation fields --------------------------------------------------------------------------------


class _PickOrganization(RoleView):
    """A scoped form with a relation field (no M0 tenant form has one yet; later areas will)."""

    roles = frozenset({"enterprise", "admin"})
    form_columns = ("username", "organization")


def test_relation_select_lists_only_scoped_rows(app):
    mine = make_org(name="本单位")
    make_org(name="他单位")
    user = make_user("enterprise", org=mine)
    view = _PickOrganization(User, db.session, endpoint="pick_org_test")
    with app.test_request_context("/"):
        login_user(user)
        choices = [str(label) for _v, label, *_rest in view.create_form().organization.iter_choices()]
    assert "本单位" in choices and "他单位" not in choices
    admin = make_user("admin")
    with app.test_request_context("/"):
        login_user(admin)
        choices = [str(label) for _v, label, *_rest in view.create_form().organization.iter_choices()]
    assert "本单位" in choices and "他单位" in choices


def test_sub_account_form_has_no_organization_or_role_field(client, login_as):
    login_as("enterprise")
    page = text(client.get("/admin/subaccounts/new/"))
    assert 'name="username"' in page
    for forbidden in ('name="organization"', 'name="role"', 'name="is_org_admin"', 'name="password_hash"'):
        assert forbidden not in page


# ---- list count -----------------------------------------------------------------------------------


def test_audit_grid_issues_no_unbounded_count_query(client, login_as):
    """The big grid's total is a planner estimate (PostgreSQL) or a count bounded by a LIMIT
    (ecqs.services.grid_counts), never a count(*) over the whole table."""
    login_as("admin")
    with recorded_statements() as recorded:
        response = client.get("/admin/audit/")
    statements = [s.lower() for s in recorded]
    assert response.status_code == 200
    audit_queries = [s for s in statements if "audit_events" in s]
    assert audit_queries
    counts = [s for s in audit_queries if "count(" in s]
    assert all(" limit " in s for s in counts), counts


# ---- xlsx export ------------------------------------------------------------------------------------


def test_xlsx_export_typed_and_neutralised(client, login_as, monkeypatch):
    options = {}
    real_workbook = xlsx_export.xlsxwriter.Workbook

    def spy(path, opts):
        options.update(opts)
        return real_workbook(path, opts)

    monkeypatch.setattr(xlsx_export.xlsxwriter, "Workbook", spy)
    admin = login_as("admin")
    make_org(name="=1+1", address="@SUM(A1)")
    rows = xlsx_rows(client.get("/admin/organizations/export/xlsx/"))
    assert options["constant_memory"] is True
    assert options["strings_to_formulas"] is False and options["strings_to_urls"] is False
    header, *data = rows
    assert header[0] == "单位名称" and "审核状态" in header
    names = [r[0] for r in data]
    assert "'=1+1" in names and "=1+1" not in names
    submitted = data[names.index("'=1+1")][header.index("提交时间")]
    assert isinstance(submitted, datetime)
    # Audit grid: integer ids stay numbers.
    pending = make_org(status="pending")
    client.post("/admin/organizations/action/", data={"action": "wf_approve", "rowid": [pending.id]})
    rows = xlsx_rows(client.get("/admin/audit/export/xlsx/"))
    header, *data = rows
    ids = [r[header.index("对象编号")] for r in data if r[header.index("对象编号")] is not None]
    assert pending.id in ids and all(isinstance(v, int | float) for v in ids)
    assert any(r[header.index("用户")] == admin.username for r in data)


def test_neutralise_every_formula_start():
    for prefix in "=+-@{":
        assert xlsx_export.neutralise(prefix + "1") == "'" + prefix + "1"
    assert xlsx_export.neutralise("正常文本") == "正常文本"


def test_xlsx_export_only_scoped_and_filtered_rows(app, client, login_as):
    me = login_as("enterprise")
    make_user("enterprise", org=me.organization, is_org_admin=False, username="mine_sub")
    make_user("enterprise", is_org_admin=False, username="their_sub")
    rows = xlsx_rows(client.get("/admin/subaccounts/export/xlsx/"))
    usernames = {r[0] for r in rows[1:]}
    assert usernames == {me.username, "mine_sub"}
    client.post("/logout")

    login_as("admin")
    make_org(name="待审甲", status="pending")
    make_org(name="已过乙", status="approved")
    arg = _filter_arg(app, "organizations", "status", "equals")
    page = text(client.get(f"/admin/organizations/?{arg}=pending"))
    assert "待审甲" in page and "已过乙" not in page
    rows = xlsx_rows(client.get(f"/admin/organizations/export/xlsx/?{arg}=pending"))
    assert [r[0] for r in rows[1:]] == ["待审甲"]
    rows = xlsx_rows(client.get("/admin/organizations/export/xlsx/?search=已过"))
    assert [r[0] for r in rows[1:]] == ["已过乙"]


def _filter_arg(app, endpoint: str, column: str, operation: str) -> str:
    """The query parameter Flask-Admin uses for one filter of a grid."""
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == endpoint)
    for index, flt in enumerate(view._filters):
        if flt.column.key == column and str(flt.operation()) in {operation, _OPERATIONS.get(operation)}:
            return f"flt0_{view.get_filter_arg(index, flt)}"
    raise AssertionError(f"no {operation} filter on {endpoint}.{column}")


_OPERATIONS = {"equals": "等于"}


# ---- CSV ----------------------------------------------------------------------------------------


def test_csv_export_not_offered(client, login_as):
    login_as("admin")
    page = text(client.get("/admin/organizations/"))
    assert "export/xlsx" in page and "export/csv" not in page
    response = client.get("/admin/organizations/export/csv/")
    assert response.status_code == 302
    assert "text/csv" not in response.headers.get("Content-Type", "")


# ---- uploads ------------------------------------------------------------------------------------


def _save_upload(app, name: str, data: bytes):
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    from ecqs.services import uploads

    with app.test_request_context():
        row = uploads.save(FileStorage(BytesIO(data), filename=name))
        db.session.commit()
        return row


def test_upload_keeps_chinese_name_and_random_stored_name(app):
    from pathlib import Path

    first = _save_upload(app, "营业执照.pdf", PDF_BYTES)
    second = _save_upload(app, "营业执照.pdf", PDF_BYTES)
    assert first.original_name == second.original_name == "营业执照.pdf"
    assert first.stored_name != second.stored_name
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", first.stored_name)
    stored = Path(app.config["UPLOAD_DIR"]) / first.stored_name
    assert stored.read_bytes() == PDF_BYTES
    assert "static" not in str(stored.resolve())
    png = _save_upload(app, "C:\\照片\\执照.png", PNG_BYTES)
    assert png.original_name == "执照.png" and png.content_type == "image/png"


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("营业执照.pdf", b"<html><script>alert(1)</script></html>", "只能上传"),
        ("营业执照.exe", b"MZ\x90\x00" + b"\x00" * 100, "只能上传"),
        ("空.pdf", b"", "文件为空"),
        ("大.pdf", PDF_BYTES + b"0" * (5 * 1024 * 1024), "不能超过 5 MB"),
    ],
)
def test_upload_refused_by_content(app, name, data, message):
    from ecqs.services import uploads

    with pytest.raises(uploads.UploadError, match=message):
        _save_upload(app, name, data)
    db.session.rollback()
    assert count(Upload) == 0


def test_upload_over_limit_is_413(client):
    big = PDF_BYTES + b"0" * (5 * 1024 * 1024 + 10)
    from io import BytesIO

    response = client.post(
        "/register/enterprise",
        data={"username": "bigfile", "licence": (BytesIO(big), "营业执照.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "5 MB" in text(response)
    assert count(Upload) == 0 and count(Organization) == 0


def test_download_only_through_scoped_view(app, client, login_as):
    upload = _save_upload(app, "营业执照.pdf", PDF_BYTES)
    owner_org = make_org(licence_upload_id=upload.id)
    owner = make_user("enterprise", org=owner_org)

    login_as(owner)
    response = client.get(f"/admin/my_org/file/{owner_org.id}/licence_upload")
    assert response.status_code == 200 and response.data == PDF_BYTES
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/admin/my_org/file/{owner_org.id}/password_hash").status_code == 404
    client.post("/logout")

    login_as("enterprise")  # another enterprise
    assert client.get(f"/admin/my_org/file/{owner_org.id}/licence_upload").status_code == 404
    assert client.get(f"/admin/organizations/file/{owner_org.id}/licence_upload").status_code == 403
    client.post("/logout")

    anonymous = app.test_client()
    assert anonymous.get(f"/admin/my_org/file/{owner_org.id}/licence_upload").status_code == 302
    # There is no route serving the upload directory directly.
    assert anonymous.get(f"/uploads/{upload.stored_name}").status_code == 404
    assert anonymous.get(f"/static/{upload.stored_name}").status_code == 404


# ---- translations and flask-babel -------------------------------------------------------------------


def test_flask_admin_ui_in_chinese(client, login_as):
    login_as("admin")
    page = text(client.get("/admin/organizations/"))
    for chinese in ("列表", "添加筛选器", "导出"):
        assert chinese in page, chinese
    assert ">List<" not in page and "Add Filter" not in page
    page = text(client.get("/admin/notices/new/"))
    assert "保存" in page and ">Save<" not in page


def test_english_switch(client, login_as):
    login_as("admin")
    client.post("/lang/en", data={"next": "/admin/organizations/"})
    page = text(client.get("/admin/organizations/"))
    assert "Add Filter" in page


def test_language_switches_back_and_forth_within_one_app_context(client, login_as):
    """The request's catalogue is kept on Flask-Babel's context (ecqs/extensions.py); a switch
    of language still changes template text, Flask-Admin text and our lazy labels both ways.
    Served, every request has its own app context; here the test's context spans the requests,
    so Flask-Babel's per-request locale is dropped by hand (refresh) as a new request would."""
    from flask_babel import refresh

    login_as("admin")
    for lang, expected, absent in (
        ("zh_Hans_CN", ("添加筛选器", "单位/机构管理"), "Add Filter"),
        ("en", ("Add Filter", "Organisations"), "添加筛选器"),
        ("zh_Hans_CN", ("添加筛选器", "单位/机构管理"), "Add Filter"),
    ):
        client.post(f"/lang/{lang}", data={"next": "/admin/organizations/"})
        refresh()
        page = text(client.get("/admin/organizations/"))
        refresh()
        assert all(word in page for word in expected), (lang, expected)
        assert absent not in page, lang


def test_flask_babel_initialised(app):
    assert "babel" in app.extensions
    from ecqs import create_app

    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    assert "babel" in other.extensions


def test_links_grid_for_enterprise(client, login_as):
    me = login_as("enterprise")
    person = make_user("person")
    db.session.add(EnterpriseLink(person_id=person.id, organization_id=me.organization_id))
    db.session.commit()
    assert person.real_name in text(client.get("/admin/links/"))
