"""申请材料目录: the seed file names its source, the loader is idempotent, the admin grid and its
all-or-nothing .xlsx import (a good file adds and updates, a bad one changes nothing)."""

from __future__ import annotations

import io

import openpyxl
from sqlalchemy import func, select

from ecqs.documents import catalogue as document_catalogue
from ecqs.extensions import db
from ecqs.models import DocumentRequirement
from ecqs.seeding import SEED_DIR


def count() -> int:
    return db.session.execute(select(func.count(DocumentRequirement.id))).scalar_one()


def test_seed_file_names_its_source_and_loader_is_idempotent(licence_catalogue, document_catalogue_loaded):
    first = (SEED_DIR / "application_documents.csv").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# source:") and "TSG 07-2019" in first and "TSG Z8001-2019" in first
    total = count()
    assert total >= 15
    assert document_catalogue.load_seed() == 0 and count() == total
    licence = db.session.execute(
        select(DocumentRequirement).where(
            DocumentRequirement.domain == "licence", DocumentRequirement.name == "营业执照"
        )
    ).scalar_one()
    assert licence.required and licence.basis.startswith("TSG 07-2019 3.2.1")


def xlsx(rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(document_catalogue.headers())
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(client, data: bytes):
    return client.post(
        "/admin/document_requirements/import/",
        data={"file": (io.BytesIO(data), "申请材料目录.xlsx")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_grid_is_admin_only_and_beside_the_other_catalogues(client, login_as, document_catalogue_loaded):
    login_as("enterprise")
    assert client.get("/admin/document_requirements/").status_code == 403
    assert client.get("/admin/document_requirements/import/").status_code == 403
    client.post("/logout")
    login_as("admin")
    page = client.get("/admin/document_requirements/").get_data(as_text=True)
    assert "申请材料目录" in page and "质量保证手册" in page and "Excel 导入" in page
    assert "人员项目目录" in page and "许可项目目录" in page  # the same 系统管理 menu
    assert ">licence<" not in page and "生产单位许可" in page  # labels, not codes


def test_import_with_one_bad_row_imports_nothing(
    client, login_as, licence_catalogue, document_catalogue_loaded
):
    login_as("admin")
    before = count()
    data = xlsx(
        [
            ["生产单位许可", "安全评价报告", "制造", "首次", "是", "测试", 5, "是"],
            ["海关", "报关单", "", "", "是", "", 1, "是"],  # unknown business
            ["人员资格认定", "健康证", "焊工", "补考", "也许", "", "x", "是"],  # type, category, flag, order
            ["生产单位许可", "安全评价报告", "", "", "否", "", 1, "是"],  # duplicate of row 2
        ]
    )
    page = upload(client, data).get_data(as_text=True)
    assert "全部数据均未导入" in page
    for message in (
        "只能填写“生产单位许可”或“人员资格认定”",
        "不是可选的类型",
        "不是可选的申请类别",
        "只能填写“是”或“否”",
        "请填写非负整数",
        "与第 2 行重复",
    ):
        assert message in page, message
    assert count() == before
    assert (
        db.session.execute(
            select(DocumentRequirement).where(DocumentRequirement.name == "安全评价报告")
        ).first()
        is None
    )


def test_clean_import_adds_and_updates_in_one_go(
    client, login_as, licence_catalogue, document_catalogue_loaded
):
    login_as("admin")
    before = count()
    data = xlsx(
        [
            ["生产单位许可", "安全评价报告", "制造、安装改造修理", "首次、增项", "否", "测试依据", 95, "是"],
            ["人员资格认定", "视力证明", "无损检测人员", "", "是", "TSG Z8001-2019 第十一条(二)", 40, "否"],
        ]
    )
    page = upload(client, data).get_data(as_text=True)
    assert "导入成功：新增 1 条，更新 1 条" in page
    assert count() == before + 1
    added = db.session.execute(
        select(DocumentRequirement).where(DocumentRequirement.name == "安全评价报告")
    ).scalar_one()
    assert (added.domain, added.applies_to, added.categories, added.required) == (
        "licence",
        "制造、安装改造修理",
        "首次、增项",
        False,
    )
    eyes = db.session.execute(
        select(DocumentRequirement).where(DocumentRequirement.name == "视力证明")
    ).scalar_one()
    assert eyes.active is False


def test_template_round_trips(client, login_as, document_catalogue_loaded):
    login_as("admin")
    response = client.get("/admin/document_requirements/import/template.xlsx")
    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert list(rows[0]) == document_catalogue.headers() and len(rows) == count() + 1
    page = upload(client, response.data).get_data(as_text=True)
    assert "导入成功：新增 0 条，更新 0 条" in page


def test_grid_form_checks_rows_like_the_import(
    client, login_as, licence_catalogue, document_catalogue_loaded
):
    login_as("admin")
    before = count()
    form = {
        "domain": "qualification",
        "name": "无犯罪记录证明",
        "applies_to": "焊工",
        "categories": "取证",
        "basis": "测试",
        "sort_order": "80",
        "required": "y",
        "active": "y",
    }
    page = client.post("/admin/document_requirements/new/", data=form, follow_redirects=True).get_data(
        as_text=True
    )
    assert "不是可选的类型" in page and count() == before
    form["applies_to"] = "检验人员、无损检测人员"
    client.post("/admin/document_requirements/new/", data=form, follow_redirects=True)
    added = db.session.execute(
        select(DocumentRequirement).where(DocumentRequirement.name == "无犯罪记录证明")
    ).scalar_one()
    assert (added.applies_to, added.categories, added.required) == ("检验人员、无损检测人员", "取证", True)
    page = client.post("/admin/document_requirements/new/", data=form, follow_redirects=True).get_data(
        as_text=True
    )
    assert "该业务已有同名的申请材料" in page and count() == before + 1
