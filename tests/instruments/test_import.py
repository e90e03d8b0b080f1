"""批量导入: the template, the all-or-nothing rule, the error report and every refusal."""

from __future__ import annotations

import io
import re
import time
import zipfile
from datetime import date

import openpyxl
import pytest
from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.instruments.ledger_import import HEADERS
from ecqs.models import AuditEvent, Instrument, Upload
from ecqs.services import xlsx_import
from tests.conftest import make_org, make_user
from tests.instruments.fixtures import (
    link_person,
    make_instrument,
    template_row,
    upload,
    xlsx_bytes,
)

pytestmark = pytest.mark.usefixtures("instrument_kinds")
URL = "/admin/instruments/import/"


def count(org=None):
    stmt = select(func.count(Instrument.id))
    if org is not None:
        stmt = stmt.where(Instrument.organization_id == org.id)
    return db.session.execute(stmt).scalar_one()


def test_template_has_instructions_dropdowns_and_reference_sheets(client, login_as):
    login_as("enterprise")
    response = client.get("/admin/instruments/import/template/")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames[:3] == ["强检器具信息", "强检器具目录", "行政区划信息"]
    ws = wb["强检器具信息"]
    assert "填写说明" in ws.cell(1, 1).value
    assert [ws.cell(2, c).value for c in range(1, len(HEADERS) + 1)] == HEADERS
    sources = {dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert any("强检器具目录" in s for s in sources) and any("选项" in s for s in sources)
    assert len(sources) >= 5  # type, kind code, origin, division, purpose, delivery
    catalogue_codes = [r[2] for r in wb["强检器具目录"].iter_rows(min_row=2, values_only=True)]
    assert catalogue_codes == ["0101", "0102"]
    divisions = {r[0]: r[2] for r in wb["行政区划信息"].iter_rows(min_row=2, values_only=True)}
    assert divisions["610113"] == "陕西省西安市雁塔区"


def test_the_downloaded_template_imports_once_filled(client, login_as):
    user = login_as("enterprise")
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/admin/instruments/import/template/").data))
    ws = wb["强检器具信息"]
    for c, value in enumerate(template_row("T-1"), start=1):
        ws.cell(3, c, value)
    buf = io.BytesIO()
    wb.save(buf)
    response = upload(client, URL, buf.getvalue())
    assert response.status_code == 302
    assert count(user.organization) == 1


def test_clean_file_imports_every_row_in_one_go(client, login_as):
    user = login_as("enterprise")
    rows = [template_row(f"S{i:05d}") for i in range(500)]
    rows[3] = template_row(
        "S-IMPORTED", **{"器具产地*": "进口", "器具用途*": "贸易结算", "送检方式*": "现场检定"}
    )
    response = upload(client, URL, xlsx_bytes(rows))
    assert response.status_code == 302
    assert "导入成功，共导入 500 条" in client.get("/admin/instruments/").get_data(as_text=True)
    assert count(user.organization) == 500
    row = db.session.execute(select(Instrument).where(Instrument.serial_no == "S-IMPORTED")).scalar_one()
    assert (row.origin, row.purpose, row.delivery_mode, row.status) == (
        "imported",
        "trade",
        "onsite",
        "in_use",
    )
    assert row.purchase_date == date(2024, 1, 15) and row.created_by_id == user.id
    assert (
        db.session.execute(
            select(AuditEvent.comment).where(AuditEvent.event == "instrument_import")
        ).scalar_one()
        == "500 rows imported"
    )


def test_one_bad_row_among_many_imports_nothing(client, login_as):
    user = login_as("enterprise")
    rows = [template_row(f"S{i:05d}") for i in range(300)]
    rows[150] = template_row("S-BAD", **{"器具数量*": 0, "使用地点行政区划代码*": "999999"})
    response = upload(client, URL, xlsx_bytes(rows))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "全部数据均未导入" in page
    assert "行政区划代码“999999”不存在" in page and "器具数量" in page
    assert count(user.organization) == 0
    # Excel row number: 2 header rows, row index 150 → line 153.
    assert "<td>153</td>" in page
    report_url = re.search(r'id="import-report" href="([^"]+)"', page).group(1)
    report = client.get(report_url)
    assert report.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(report.data), read_only=True).active
    lines = list(ws.iter_rows(values_only=True))
    assert lines[0] == ("行号", "列名", "错误信息", "单元格内容")
    assert {(r[0], r[1]) for r in lines[1:]} == {(153, "器具数量"), (153, "使用地点行政区划代码")}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"器具名称*": None}, "不能为空"),
        ({"强检器具种别代码*": "9999"}, "种别代码“9999”不存在"),
        ({"器具产地*": "火星"}, "只能填写：国产、进口"),
        ({"器具数量*": "两台"}, "必须是整数"),
        ({"器具数量*": 1.5}, "之间的整数"),
        ({"购置时间": "2024-13-45"}, "不是有效日期"),
        ({"购置时间": "2999-01-01"}, "不能晚于今天"),
        ({"有效期至": "明年"}, "不是有效日期"),
        ({"出厂编号*": "x" * 61}, "不能超过 60 个字符"),
        ({"器具类型*": "标准器"}, "只能填写：工作计量器具"),
    ],
)
def test_each_column_is_validated(client, login_as, change, message):
    user = login_as("enterprise")
    rows = [template_row("OK-1"), template_row("BAD", **change)]
    page = upload(client, URL, xlsx_bytes(rows)).get_data(as_text=True)
    assert message in page
    assert count(user.organization) == 0


def test_numeric_codes_and_excel_dates_are_accepted(client, login_as):
    user = login_as("enterprise")
    rows = [
        template_row(
            12345,
            **{"使用地点行政区划代码*": 610113, "购置时间": "2024/02/29", "有效期至": "2027年1月31日"},
        )
    ]
    assert upload(client, URL, xlsx_bytes(rows)).status_code == 302
    row = db.session.execute(
        select(Instrument).where(Instrument.organization_id == user.organization.id)
    ).scalar_one()
    assert (row.serial_no, row.usage_division_code, row.valid_until) == ("12345", "610113", date(2027, 1, 31))


def test_duplicate_serials_in_file_and_against_the_ledger(client, login_as):
    user = login_as("enterprise")
    make_instrument(user.organization, serial_no="EXISTING", valid_until=date(2026, 12, 31))
    rows = [template_row("DUP"), template_row("DUP"), template_row("EXISTING", 有效期至="2035-01-01")]
    page = upload(client, URL, xlsx_bytes(rows)).get_data(as_text=True)
    assert "与第 3 行重复" in page
    assert "出厂编号“EXISTING”（种别代码 0101）已存在于台账中" in page
    assert count(user.organization) == 1
    # 有效期至 cannot be changed by importing the same instrument again.
    existing = db.session.execute(select(Instrument).where(Instrument.serial_no == "EXISTING")).scalar_one()
    assert existing.valid_until == date(2026, 12, 31)


def test_same_serial_of_another_enterprise_is_not_a_duplicate(client, login_as):
    user = login_as("enterprise")
    make_instrument(make_org(), serial_no="SHARED")
    assert upload(client, URL, xlsx_bytes([template_row("SHARED")])).status_code == 302
    assert count(user.organization) == 1


def refused(client, data, filename="器具.xlsx"):
    response = upload(client, URL, data, filename)
    assert response.status_code == 400
    return response.get_data(as_text=True)


def test_non_xlsx_and_malformed_files_are_refused(client, login_as):
    user = login_as("enterprise")
    assert "只能导入" in refused(client, b"a,b,c\n", "器具.csv")
    assert "不是有效的 Excel" in refused(client, b"not a zip at all")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "hi")
    assert "不是有效的 Excel" in refused(client, buf.getvalue())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<broken")
        zf.writestr("xl/workbook.xml", "<broken")
    assert "无法读取" in refused(client, buf.getvalue())
    assert "请选择" in refused(client, b"", "")
    assert count(user.organization) == 0


def test_template_from_elsewhere_is_refused(client, login_as):
    login_as("enterprise")
    headers = list(HEADERS)
    headers[2] = "器具种别"
    assert "表头与本系统的导入模板不一致" in refused(client, xlsx_bytes([template_row("A")], headers=headers))
    assert "表头与本系统的导入模板不一致" in refused(client, xlsx_bytes([], headers=[*HEADERS, "备注"]))


def test_formulas_are_refused(client, login_as):
    user = login_as("enterprise")
    page = refused(client, xlsx_bytes([template_row("A"), template_row("B")], formula_at=(3, 12)))
    assert "第 4 行“器具数量”含有公式" in page
    assert count(user.organization) == 0


def test_too_many_rows_is_refused(client, login_as, monkeypatch):
    login_as("enterprise")
    monkeypatch.setattr(xlsx_import, "MAX_ROWS", 5)
    page = refused(client, xlsx_bytes([template_row(f"R{i}") for i in range(6)]))
    assert "数据超过 5 行" in page


def test_too_large_file_is_refused(app, client, login_as, monkeypatch):
    login_as("enterprise")
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 10_000)
    data = padded(xlsx_bytes([template_row("R1")]), 20_000)
    assert "文件超过" in refused(client, data)


def test_zip_bomb_is_refused_before_parsing(client, login_as):
    login_as("enterprise")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * (50 * 1024 * 1024))
    assert "压缩比过高" in refused(client, buf.getvalue())


def padded(data: bytes, size: int) -> bytes:
    """The same workbook with an incompressible extra part: a genuinely large .xlsx."""
    import os

    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr(zipfile.ZipInfo("docProps/padding.bin"), os.urandom(size))
    return buf.getvalue()


def test_file_over_5_mb_passes_the_global_limit_on_the_import_only(app, client, login_as):
    """MAX_CONTENT_LENGTH stays 5 MB elsewhere; the import endpoint accepts up to 20 MB, even with
    CSRF protection reading the form before the view."""
    user = login_as("enterprise")
    big = padded(xlsx_bytes([template_row("BIG-1")]), 6 * 1024 * 1024)
    assert len(big) > 6 * 1024 * 1024
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get(URL).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post(
            URL,
            data={"csrf_token": token, "file": (io.BytesIO(big), "器具.xlsx")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 302, response.status_code
        other = client.post(
            "/admin/instruments/new/",
            data={"csrf_token": token, "file": (io.BytesIO(big), "器具.xlsx")},
            content_type="multipart/form-data",
        )
        assert other.status_code == 413
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert count(user.organization) == 1


def test_body_far_over_the_limit_gets_a_chinese_message(app, client, login_as, monkeypatch):
    login_as("enterprise")
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1024 * 1024)
    response = upload(client, URL, padded(xlsx_bytes([template_row("A")]), 2 * 1024 * 1024))
    assert response.status_code == 413
    assert "文件超过 1 MB" in response.get_data(as_text=True)
    assert count() == 0


def test_error_report_is_only_for_its_uploader(client, login_as):
    user = login_as("enterprise")
    page = upload(client, URL, xlsx_bytes([template_row("A", **{"器具数量*": 0})])).get_data(as_text=True)
    report_url = re.search(r'id="import-report" href="([^"]+)"', page).group(1)
    client.post("/logout")
    colleague = make_user("enterprise", org=user.organization, is_org_admin=False)
    login_as(colleague)
    assert client.get(report_url).status_code == 404
    # Nor can anybody fetch another upload (a business licence) through the report door.
    licence = Upload(
        stored_name="x.pdf", original_name="营业执照.pdf", content_type="application/pdf", size=1, sha256=""
    )
    db.session.add(licence)
    db.session.commit()
    assert client.get(f"/admin/instruments/import/report/{licence.id}/").status_code == 404


def test_linked_person_imports_into_the_enterprise(client, login_as):
    org = make_org()
    person = make_user("person")
    link_person(person, org)
    login_as(person)
    assert upload(client, URL, xlsx_bytes([template_row("P-1")])).status_code == 302
    assert count(org) == 1


@pytest.mark.parametrize("role", ["metrology", "reviewer", "admin", "person"])
def test_other_roles_cannot_import(client, login_as, role):
    login_as(role)
    assert upload(client, URL, xlsx_bytes([template_row("X")])).status_code == 403
    assert client.get("/admin/instruments/import/template/").status_code == 403
    assert count() == 0


def test_ten_thousand_rows_import_quickly(client, login_as):
    user = login_as("enterprise")
    data = xlsx_bytes([template_row(f"BULK{i:06d}") for i in range(10_000)])
    started = time.perf_counter()
    response = upload(client, URL, data)
    elapsed = time.perf_counter() - started
    assert response.status_code == 302
    assert count(user.organization) == 10_000
    assert elapsed < 30, elapsed  # measured figures are in bench/RESULTS.md
