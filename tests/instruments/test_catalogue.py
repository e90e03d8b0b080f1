"""强检器具目录: the seed (partial, with its source), the administrators' grid and the .xlsx
import with the same all-or-nothing validation."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
import xlsxwriter
from sqlalchemy import select

from ecqs.extensions import db
from ecqs.instruments import catalogue as instrument_catalogue
from ecqs.models import InstrumentItem, InstrumentKind
from ecqs.seeding import SEED_DIR, read_csv
from tests.conftest import make_org
from tests.instruments.fixtures import kind, make_instrument, upload

pytestmark = pytest.mark.usefixtures("instrument_kinds")
URL = "/admin/instrument_kinds/import/"


def kinds():
    return {
        k.code: (k.item.code, k.item.name, k.name)
        for k in db.session.execute(select(InstrumentKind)).scalars()
    }


def catalogue_xlsx(rows, headers=None) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"strings_to_numbers": False})
    ws = wb.add_worksheet("强检器具目录")
    ws.write_string(0, 0, "填写说明")
    for c, h in enumerate(headers or instrument_catalogue.HEADERS):
        ws.write_string(1, c, h)
    for r, row in enumerate(rows, start=2):
        for c, v in enumerate(row):
            if v is not None:
                ws.write_string(r, c, v)
    wb.close()
    return buf.getvalue()


def test_seed_names_its_source_and_says_it_is_partial():
    first = (SEED_DIR / "instrument_catalogue.csv").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# source:") and "PARTIAL" in first and "2019年第48号" in first
    assert kinds() == {"0101": ("01", "压力仪表", "指示类压力表"), "0102": ("01", "压力仪表", "显示类压力表")}


def test_seed_loader_is_idempotent():
    assert instrument_catalogue.load_seed(read_csv("instrument_catalogue.csv")) == 0
    assert len(kinds()) == 2


def test_admin_grid_lists_and_edits_the_catalogue(client, login_as):
    login_as("admin")
    page = client.get("/admin/instrument_kinds/").get_data(as_text=True)
    assert "指示类压力表" in page and "部分目录" in page
    item = db.session.execute(select(InstrumentItem)).scalar_one()
    response = client.post(
        "/admin/instrument_kinds/new/", data={"item": str(item.id), "code": "0103", "name": "数字压力计"}
    )
    assert response.status_code == 302
    assert kinds()["0103"] == ("01", "压力仪表", "数字压力计")
    response = client.post(
        "/admin/instrument_kinds/new/", data={"item": str(item.id), "code": "0103", "name": "重复"}
    )
    assert "存在" in response.get_data(as_text=True)  # Flask-Admin's unique check: 已经存在
    response = client.post(
        "/admin/instrument_kinds/new/", data={"item": str(item.id), "code": "01 03", "name": "坏"}
    )
    assert "代码只能由" in response.get_data(as_text=True)
    assert len(kinds()) == 3


def test_kind_in_use_cannot_be_deleted(client, login_as):
    login_as("admin")
    used = kind("0101")
    make_instrument(make_org(), kind_id=used.id)
    client.post("/admin/instrument_kinds/delete/", data={"id": str(used.id)})
    client.post("/admin/instrument_kinds/action/", data={"action": "delete", "rowid": [str(used.id)]})
    assert "0101" in kinds()
    free = kind("0102")
    client.post("/admin/instrument_kinds/action/", data={"action": "delete", "rowid": [str(free.id)]})
    assert "0102" not in kinds()


def test_import_adds_and_updates_all_or_nothing(client, login_as):
    login_as("admin")
    good = [
        ["01", "压力仪表", "0101", "指示类压力表", "型式批准、强制检定", "周期检定"],
        ["02", "衡器", "0201", "电子汽车衡", "", ""],
    ]
    response = upload(client, URL, catalogue_xlsx(good))
    assert response.status_code == 302
    assert kinds()["0201"] == ("02", "衡器", "电子汽车衡")
    assert kind("0101").type_approval == "型式批准、强制检定"
    # One bad row among good ones: nothing changes.
    bad = [
        ["02", "衡器", "0202", "电子台秤", "", ""],
        ["03", "", "0301", "出租汽车计价器", "", ""],
        ["02", "衡器（改名）", "0203", "电子吊秤", "", ""],
        ["01", "压力仪表", "0201", "抢走衡器的种别", "", ""],
    ]
    page = upload(client, URL, catalogue_xlsx(bad)).get_data(as_text=True)
    assert "全部数据均未导入" in page
    assert "不能为空" in page and "同一代码名称必须一致" in page and "不能改挂到其他项别" in page
    assert "0202" not in kinds() and kinds()["0201"] == ("02", "衡器", "电子汽车衡")


def test_import_refuses_foreign_templates_and_bad_files(client, login_as):
    login_as("admin")
    assert (
        upload(client, URL, catalogue_xlsx([["01", "x", "0101", "y"]], headers=["代码", "名称"])).status_code
        == 400
    )
    assert upload(client, URL, b"PK\x03\x04 broken").status_code == 400
    assert upload(client, URL, b"x", "目录.xls").status_code == 400
    assert len(kinds()) == 2


def test_catalogue_template_contains_the_current_catalogue(client, login_as):
    login_as("admin")
    response = client.get("/admin/instrument_kinds/import/template/")
    ws = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in ws[2]] == instrument_catalogue.HEADERS
    assert [ws.cell(3, 3).value, ws.cell(4, 3).value] == ["0101", "0102"]
    # The template imports back unchanged.
    assert upload(client, URL, response.data).status_code == 302


@pytest.mark.parametrize("role", ["enterprise", "metrology", "reviewer", "person"])
def test_only_admins_maintain_the_catalogue(client, login_as, role):
    login_as(role)
    assert client.get("/admin/instrument_kinds/").status_code == 403
    assert (
        upload(client, URL, catalogue_xlsx([["09", "新项别", "0901", "新种别", "", ""]])).status_code == 403
    )
    assert client.post("/admin/instrument_items/new/", data={"code": "09", "name": "x"}).status_code == 403
    assert "0901" not in kinds()


def test_import_refuses_formulas_and_reports_bad_rows_for_download(client, login_as):
    login_as("admin")
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf)
    ws = wb.add_worksheet()
    ws.write_string(0, 0, "填写说明")
    for c, h in enumerate(instrument_catalogue.HEADERS):
        ws.write_string(1, c, h)
    ws.write_row(2, 0, ["01", "压力仪表", "0199"])
    ws.write_formula(2, 3, '="新"&"种别"')
    wb.close()
    response = upload(client, URL, buf.getvalue())
    assert response.status_code == 400 and "含有公式" in response.get_data(as_text=True)
    page = upload(client, URL, catalogue_xlsx([["01", "压力仪表", "0199", ""]])).get_data(as_text=True)
    report = client.get(re.search(r'id="import-report" href="([^"]+)"', page).group(1))
    assert report.status_code == 200
    assert "不能为空" in [c.value for c in openpyxl.load_workbook(io.BytesIO(report.data)).active[2]]
    assert "0199" not in kinds()
