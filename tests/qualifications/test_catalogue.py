"""人员项目目录: the seed file and its loader, the admin grid and the all-or-nothing .xlsx import."""

from __future__ import annotations

import csv
import re
from io import BytesIO

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from ecqs import seeding
from ecqs.extensions import db
from ecqs.models import PersonnelProject
from ecqs.qualifications import catalogue as personnel_catalogue
from tests.conftest import flashes, make_user
from tests.qualifications.fixtures import make_person, submit

HEADERS = ["人员类型", "项目代号", "项目名称", "级别", "审批层级", "备注", "是否启用"]


def _count() -> int:
    return db.session.execute(select(func.count(PersonnelProject.id))).scalar()


def _xlsx(rows, headers=HEADERS) -> BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    out = BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def _import(client, rows=None, data=None, filename="目录.xlsx"):
    payload = data if data is not None else _xlsx(rows)
    return client.post(
        "/admin/personnel_projects/import/",
        data={"file": (payload, filename)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def _snapshot():
    return sorted(
        (p.personnel_type, p.code, p.name, p.level, p.approval_level, p.notes, p.active)
        for p in db.session.execute(select(PersonnelProject)).scalars()
    )


def test_seed_file_names_its_source_and_says_it_is_partial():
    lines = (seeding.SEED_DIR / "personnel_projects.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# source:") and "TSG Z8001-2019" in lines[0]
    assert lines[1].startswith("# status: PARTIAL") and "INCOMPLETE" in lines[1]
    reference = "/work/shared/reference/personnel_projects.csv"
    try:
        with open(reference, encoding="utf-8") as fh:
            ref_lines = fh.read().splitlines()
    except OSError:
        return
    # Same source line and the same rows as the verified reference list in its columns: nothing
    # invented (the seed adds only the Chinese 备注 users see, a rewording of the source notes).
    assert lines[0] == ref_lines[0]
    seed_rows = list(csv.DictReader(lines[2:]))
    ref_rows = list(csv.DictReader(ref_lines[1:]))
    assert len(seed_rows) == len(ref_rows)
    for seed_row, ref_row in zip(seed_rows, ref_rows, strict=True):
        assert {k: seed_row[k] for k in ref_row} == ref_row


def test_users_see_only_chinese_remarks_never_the_source_notes(client, login_as):
    """The seed's source notes (partly English, for maintainers) stay in the file; the 备注
    column shows Chinese only (issue 11)."""
    personnel_catalogue.load_personnel_projects(seeding.read_csv("personnel_projects.csv"))
    db.session.commit()
    notes = [p.notes for p in db.session.execute(select(PersonnelProject)).scalars() if p.notes]
    assert len(notes) == 33
    assert [n for n in notes if re.search(r"[a-z]", n)] == []
    login_as(make_user("admin"))
    page = client.get("/admin/personnel_projects/?page_size=100").get_data(as_text=True)
    for english in ("not found", "NOT verified", "screenshot", "pinyin", "guess", " title;"):
        assert english not in page
    assert "项目代号待补充" in page and "申请条件" in page


def test_loader_rewords_source_notes_left_by_an_earlier_load():
    """Rows loaded before kept the source note as 备注: the loader replaces exactly those (an
    administrator's own 备注 stays)."""
    rows = seeding.read_csv("personnel_projects.csv")
    personnel_catalogue.load_personnel_projects(rows)
    db.session.commit()
    y_dt = db.session.execute(select(PersonnelProject).where(PersonnelProject.code == "Y-DT")).scalar_one()
    y_gl = db.session.execute(select(PersonnelProject).where(PersonnelProject.code == "Y-GL")).scalar_one()
    source = {r["code"]: r["notes"] for r in rows}
    y_dt.notes, y_gl.notes = source["Y-DT"], "管理员备注"
    db.session.commit()
    personnel_catalogue.load_personnel_projects(rows)
    db.session.commit()
    assert not re.search(r"[a-z]", y_dt.notes) and "待核实" in y_dt.notes
    assert y_gl.notes == "管理员备注"


def test_loader_is_idempotent_and_keeps_admin_changes():
    added = personnel_catalogue.load_personnel_projects(seeding.read_csv("personnel_projects.csv"))
    db.session.commit()
    assert added == _count() == 33
    rt2 = db.session.execute(select(PersonnelProject).where(PersonnelProject.code == "RT-II")).scalar_one()
    assert (rt2.personnel_type, rt2.name, rt2.level, rt2.approval_level) == (
        "无损检测人员",
        "射线胶片照相检测",
        "II",
        "provincial",
    )
    assert (
        db.session.execute(select(PersonnelProject).where(PersonnelProject.code == "RT-III"))
        .scalar_one()
        .approval_level
        == "national"
    )
    y_dt = db.session.execute(select(PersonnelProject).where(PersonnelProject.code == "Y-DT")).scalar_one()
    assert (y_dt.name, y_dt.approval_level, y_dt.can_apply) == ("", None, False)
    rt2.notes = "管理员修改"
    db.session.commit()
    assert personnel_catalogue.load_personnel_projects(seeding.read_csv("personnel_projects.csv")) == 0
    db.session.commit()
    assert _count() == 33
    db.session.refresh(rt2)
    assert rt2.notes == "管理员修改"


def test_grid_is_for_administrators(client, login_as, projects):
    login_as(make_person("61"))
    assert client.get("/admin/personnel_projects/").status_code == 403
    assert client.get("/admin/personnel_projects/import/").status_code == 403
    assert client.post("/admin/personnel_projects/import/", data={}).status_code == 403
    assert client.get("/admin/personnel_projects/import/template/").status_code == 403
    client.post("/logout")
    login_as(make_user("reviewer"))
    assert client.get("/admin/personnel_projects/").status_code == 403
    client.post("/logout")
    login_as(make_user("admin"))
    page = client.get("/admin/personnel_projects/").get_data(as_text=True)
    assert "RT-II" in page and "射线胶片照相检测" in page and 'id="catalogue-partial"' in page
    assert "未确定" in page


def test_admin_creates_and_edits_with_validation(client, login_as, projects):
    login_as(make_user("admin"))
    before = _count()
    response = client.post(
        "/admin/personnel_projects/new/",
        data={
            "personnel_type": "无损检测人员",
            "code": "RT-II",
            "name": "重复",
            "approval_level": "",
            "active": "y",
        },
        follow_redirects=True,
    )
    assert "目录中已有该项目" in response.get_data(as_text=True)
    response = client.post(
        "/admin/personnel_projects/new/",
        data={"personnel_type": "检验人员", "code": "", "name": "", "approval_level": ""},
        follow_redirects=True,
    )
    assert "项目代号和项目名称不能同时为空" in response.get_data(as_text=True)
    assert _count() == before
    y_dt = projects["Y-DT"]
    client.post(
        f"/admin/personnel_projects/edit/?id={y_dt.id}",
        data={
            "personnel_type": "检验人员",
            "code": "Y-DT",
            "name": "电梯检验员",
            "level": "检验员",
            "approval_level": "provincial",
            "active": "y",
        },
        follow_redirects=True,
    )
    db.session.refresh(y_dt)
    assert (y_dt.name, y_dt.approval_level, y_dt.can_apply) == ("电梯检验员", "provincial", True)


def test_import_all_or_nothing_with_a_chinese_report(client, login_as, projects):
    login_as(make_user("admin"))
    before = _snapshot()
    rows = [
        ["检验人员", "Y-DT", "电梯检验员", "检验员", "省级", "", "是"],  # fine on its own
        ["操作人员", "X-1", "名称", "", "国家", "", ""],  # unknown personnel type
        ["无损检测人员", "", "", "II", "", "", ""],  # neither code nor name
        ["无损检测人员", "UT-II", "脉冲反射法超声检测", "II", "市级", "", ""],  # bad approval level
        ["无损检测人员", "UT-II", "脉冲反射法超声检测", "II", "省级", "", "也许"],  # duplicate + bad flag
        ["无损检测人员", "BAD CODE", "名称", "II", "国家", "", ""],  # bad code
    ]
    response = _import(client, rows)
    page = response.get_data(as_text=True)
    assert "文件中有" in flashes(response) and "全部数据均未导入" in flashes(response)
    assert 'id="import-errors"' in page
    for expected in (
        "<td>3</td><td>人员类型</td>",
        "只能填写：检验人员、无损检测人员",
        "<td>4</td><td>项目代号</td><td>项目代号和项目名称不能同时为空",
        "<td>5</td><td>审批层级</td>",
        "<td>6</td><td>是否启用</td>",
        "<td>7</td><td>项目代号</td>",
    ):
        assert expected in page, expected
    assert _snapshot() == before  # the good first row was not applied either


def test_import_adds_and_completes_projects(client, login_as, projects, authorities):
    login_as(make_user("admin"))
    before = _count()
    rows = [
        ["检验人员", "Y-DT", "电梯检验员", "检验员", "省级", "名称经核实", "是"],  # completes Y-DT
        [
            "检验人员",
            "Y-SY",
            "锅炉水(介)质检验员",
            "检验员",
            "国家",
            "",
            "",
        ],  # gives an uncoded item its code
        ["无损检测人员", "RT-I", "射线胶片照相检测", "I", "省级", "", "否"],  # deactivates
        ["无损检测人员", "NEW-II", "新方法检测", "II", "国家", "", ""],  # new
    ]
    response = _import(client, rows)
    assert "导入成功：新增 1 项，更新 3 项" in flashes(response)
    assert _count() == before + 1
    y_dt = db.session.execute(select(PersonnelProject).where(PersonnelProject.code == "Y-DT")).scalar_one()
    assert (y_dt.name, y_dt.approval_level, y_dt.notes) == ("电梯检验员", "provincial", "名称经核实")
    sy = db.session.execute(select(PersonnelProject).where(PersonnelProject.code == "Y-SY")).scalar_one()
    assert sy.id == projects["锅炉水(介)质检验员"].id and sy.approval_level == "national"
    assert (
        db.session.execute(select(PersonnelProject).where(PersonnelProject.code == "RT-I"))
        .scalar_one()
        .active
        is False
    )
    # Importing the same file again changes nothing.
    response = _import(client, rows)
    assert "新增 0 项，更新 0 项，未变化 4 项" in flashes(response)
    # Y-DT can now be applied for; RT-I no longer appears in the chooser.
    client.post("/logout")
    person = make_person("61")
    login_as(person)
    page = client.get("/admin/qualification_apply/").get_data(as_text=True)
    assert f'id="project-{y_dt.id}"' in page and f'id="project-{projects["RT-I"].id}"' not in page
    app = submit(person, y_dt)
    assert app.authority.name == "陕西省市场监督管理局"


def test_import_refuses_files_it_cannot_read(client, login_as, projects):
    login_as(make_user("admin"))
    before = _snapshot()
    response = _import(client, data=BytesIO(b"not a workbook"), filename="目录.xlsx")
    assert "文件不是有效的 Excel（.xlsx）文件" in flashes(response)
    response = _import(client, data=BytesIO(b"a,b"), filename="目录.csv")
    assert "只能导入 Excel 2007 及以上格式（.xlsx）的文件" in flashes(response)
    response = _import(client, data=_xlsx([["无损检测人员", "X"]], headers=["人员类型", "项目代号"]))
    assert "表头缺少列：项目名称、级别、审批层级" in flashes(response)
    response = _import(client, rows=[])
    assert "文件中没有数据" in flashes(response)
    response = client.post(
        "/admin/personnel_projects/import/",
        data={},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "请选择要导入的 Excel 文件（.xlsx）" in flashes(response)
    # Two rows landing on the same project (by code and by name) are refused.
    rows = [
        ["检验人员", "Y-SY", "锅炉水(介)质检验员", "检验员", "国家", "", ""],
        ["检验人员", "", "锅炉水(介)质检验员", "检验员", "国家", "", ""],
    ]
    response = _import(client, rows)
    assert "与第 2 行对应同一目录项目" in response.get_data(as_text=True)
    assert _snapshot() == before


def test_template_contains_the_current_catalogue_and_round_trips(client, login_as, projects):
    login_as(make_user("admin"))
    response = client.get("/admin/personnel_projects/import/template/")
    assert response.status_code == 200
    wb = load_workbook(BytesIO(response.data))
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS and len(rows) == 1 + _count()
    assert ("无损检测人员", "RT-II", "射线胶片照相检测", "II", "省级", "是") in [
        (*r[:5], r[6]) for r in rows[1:]
    ]
    before = _snapshot()
    out = BytesIO(response.data)
    response = _import(client, data=out)
    assert "新增 0 项，更新 0 项" in flashes(response)
    assert _snapshot() == before


def test_import_shares_the_safe_reader_and_the_error_report(client, login_as, projects):
    """Same validation as every import: formulas and non-.xlsx files are refused as a whole, and a
    bad row yields an error report that only its uploader can download."""
    login_as(make_user("admin"))
    before = _snapshot()
    response = _import(client, [["检验人员", "X-1", "=1+1", "", "国家", "", ""]])
    assert response.status_code == 400
    assert "第 2 行“项目名称”含有公式" in flashes(response)
    response = _import(client, data=BytesIO(b"PK\x03\x04 not really"), filename="目录.xls")
    assert response.status_code == 400
    assert "只能导入 Excel 2007 及以上格式（.xlsx）的文件" in flashes(response)
    response = _import(client, [["操作人员", "X-1", "名称", "", "国家", "", ""]])
    page = response.get_data(as_text=True)
    assert "<td>2</td><td>人员类型</td><td>只能填写：检验人员、无损检测人员</td>" in page
    report_url = re.search(r'id="import-report" href="([^"]+)"', page).group(1)
    assert _snapshot() == before
    report = client.get(report_url)
    assert report.status_code == 200
    rows = list(load_workbook(BytesIO(report.data)).active.iter_rows(values_only=True))
    assert rows[1] == (2, "人员类型", "只能填写：检验人员、无损检测人员", "操作人员")
    client.post("/logout")
    login_as(make_user("admin"))
    assert client.get(report_url).status_code == 404
