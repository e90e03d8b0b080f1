"""许可项目目录: seed loader, admin grid and the all-or-nothing .xlsx import."""

from __future__ import annotations

import io
import re

import openpyxl
from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.licences import item_import as licence_item_import
from ecqs.licences.seed import load_licence_items
from ecqs.models import LicenceItem
from ecqs.seeding import SEED_DIR
from tests.conftest import make_user


def count() -> int:
    return db.session.execute(select(func.count(LicenceItem.id))).scalar_one()


def test_seed_file_names_its_source_and_loader_is_idempotent(licence_catalogue):
    first = (SEED_DIR / "licence_items.csv").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# source:") and "2021年第41号" in first
    assert count() == 131
    assert load_licence_items() == 0
    assert count() == 131
    national = db.session.execute(
        select(func.count(LicenceItem.id)).where(LicenceItem.approval == "national")
    ).scalar_one()
    assert national == 25
    valve = db.session.execute(
        select(LicenceItem).where(LicenceItem.item == "紧急切断阀", LicenceItem.level == "B")
    ).scalar_one()
    assert valve.label == "紧急切断阀B" and valve.approval == "provincial"


def test_grid_is_admin_only(client, login_as, licence_catalogue):
    login_as("enterprise")
    assert client.get("/admin/licence_items/").status_code == 403
    assert client.get("/admin/licence_items/import/").status_code == 403
    client.post("/logout")
    login_as("admin")
    page = client.get("/admin/licence_items/").get_data(as_text=True)
    assert "许可项目目录" in page and "紧急切断阀" in page and "Excel 导入" in page


def xlsx(rows, headers=None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers or licence_item_import.headers())
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(client, data: bytes, name="目录.xlsx"):
    return client.post(
        "/admin/licence_items/import/",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_import_with_one_bad_row_imports_nothing(client, login_as, licence_catalogue):
    login_as("admin")
    before = count()
    data = xlsx(
        [
            ["电梯", "制造", "新型电梯", "", "A", "省级", "", "是"],
            ["飞船", "制造", "星际飞船", "", "", "国家", "", "是"],  # unknown category
            ["电梯", "制造", "新型电梯2", "", "", "部级", "", "也许"],  # bad approval and flag
            ["电梯", "制造", "新型电梯", "", "A", "省级", "", "是"],  # duplicate of row 2
        ]
    )
    page = upload(client, data).get_data(as_text=True)
    assert "全部数据均未导入" in page
    assert "不是目录中的设备类别" in page and "只能填写“国家”或“省级”" in page and "与第 2 行重复" in page
    assert count() == before
    assert db.session.execute(select(LicenceItem).where(LicenceItem.item == "新型电梯")).first() is None


def test_clean_import_adds_and_updates_in_one_go(client, login_as, licence_catalogue):
    login_as("admin")
    before = count()
    data = xlsx(
        [
            ["电梯", "制造", "新型电梯", "", "A", "国家", "测试", "是"],
            ["安全附件", "制造", "紧急切断阀", "", "B", "省级", "已停止受理", "否"],  # existing row
        ]
    )
    page = upload(client, data).get_data(as_text=True)
    assert "导入成功：新增 1 条，更新 1 条" in page
    assert count() == before + 1
    valve = db.session.execute(
        select(LicenceItem).where(LicenceItem.item == "紧急切断阀", LicenceItem.level == "B")
    ).scalar_one()
    assert valve.active is False and valve.notes == "已停止受理"


def test_import_refuses_non_xlsx_and_missing_columns(client, login_as, licence_catalogue):
    login_as("admin")
    before = count()
    page = upload(client, b"not a zip file at all").get_data(as_text=True)
    assert "不是有效的 Excel" in page
    page = upload(client, xlsx([["电梯"]], headers=["设备类别"])).get_data(as_text=True)
    assert "缺少列" in page and "许可类型" in page
    assert count() == before


def test_template_round_trips(client, login_as, licence_catalogue):
    login_as("admin")
    response = client.get("/admin/licence_items/import/template.xlsx")
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = list(wb.active.iter_rows(values_only=True))
    assert list(rows[0]) == licence_item_import.headers()
    assert len(rows) == 132
    page = upload(client, response.data).get_data(as_text=True)
    assert "导入成功：新增 0 条，更新 0 条" in page


def test_admin_cannot_create_duplicate_item(client, login_as, licence_catalogue):
    login_as("admin")
    before = count()
    response = client.post(
        "/admin/licence_items/new/",
        data={
            "equipment_category": "安全附件",
            "licence_type": "制造",
            "item": "紧急切断阀",
            "sub_item": "",
            "level": "B",
            "approval": "provincial",
            "notes": "",
            "active": "y",
        },
        follow_redirects=True,
    )
    assert "目录中已有相同的许可项目" in response.get_data(as_text=True)
    assert count() == before


def test_import_shares_the_safe_reader_and_the_error_report(client, login_as, licence_catalogue):
    """Same validation as every import: formulas and non-.xlsx files are refused as a whole, and a
    bad row yields an error report that only its uploader can download."""
    login_as("admin")
    before = count()
    response = upload(client, xlsx([["电梯", "制造", '=CONCAT("新","梯")', "", "", "省级", "", "是"]]))
    assert response.status_code == 400
    assert "第 2 行“许可项目”含有公式" in response.get_data(as_text=True)
    response = upload(client, b"a,b\n", name="目录.csv")
    assert response.status_code == 400
    assert "只能导入 Excel 2007 及以上格式（.xlsx）的文件" in response.get_data(as_text=True)
    bad = xlsx([["电梯", "制造", "新型电梯", "", "", "部级", "", "是"]])
    page = upload(client, bad).get_data(as_text=True)
    assert "<td>2</td><td>审批级别</td><td>只能填写“国家”或“省级”</td>" in page
    report_url = re.search(r'id="import-report" href="([^"]+)"', page).group(1)
    assert count() == before
    report = client.get(report_url)
    assert report.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(report.data)).active.iter_rows(values_only=True))
    assert rows[1] == (2, "审批级别", "只能填写“国家”或“省级”", "部级")
    client.post("/logout")
    login_as(make_user("admin"))
    assert client.get(report_url).status_code == 404
