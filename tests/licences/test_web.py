"""M2 pages through the test client: menus, the application wizard, the grids, data-carrying
workflow forms, printable documents, the public verification page and the feedback form."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.licences import form as licence_form
from ecqs.models import LicenceApplication, LicenceReviewFeedback, Upload
from ecqs.services import workdays
from tests.conftest import flashes
from tests.licences.fixtures import (
    SAMPLE,
    advance,
    draft,
    item,
    sample_values,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def text(response) -> str:
    return response.get_data(as_text=True)


def count_applications() -> int:
    return db.session.execute(select(func.count(LicenceApplication.id))).scalar_one()


# ---- menus ---------------------------------------------------------------------------------


def test_menu_labels_per_role(client, login_as, world):
    login_as(world.enterprise)
    page = text(client.get("/admin/"))
    for label in ("特种设备生产单位许可", "生产企业许可申请", "生产企业许可申请管理"):
        assert label in page
    assert "许可审批" not in page and "鉴定评审任务" not in page
    client.post("/logout")
    login_as(world.sn_reviewer)
    page = text(client.get("/admin/"))
    assert "许可审批" in page and "生产企业许可申请管理" not in page
    client.post("/logout")
    login_as(world.assessor)
    page = text(client.get("/admin/"))
    for label in ("鉴定评审任务", "评审时间协商", "评审报告"):
        assert label in page
    assert "许可审批" not in page
    client.post("/logout")
    login_as(world.admin)
    assert "许可项目目录" in text(client.get("/admin/"))


# ---- the wizard ----------------------------------------------------------------------------


def start(client, items, category="first", licence_type="制造", token="tok-1"):  # noqa: S107
    return client.post(
        "/admin/licence_apply/",
        data={
            "category": category,
            "licence_type": licence_type,
            "items": [i.id for i in items],
            "client_token": token,
        },
    )


def test_wizard_from_items_to_submission(client, login_as, world):
    login_as(world.enterprise)
    page = text(client.get("/admin/licence_apply/"))
    assert "申请类别" in page and "许可类型" in page and "紧急切断阀" in page
    assert "陕西省市场监督管理局" in page and "国家市场监督管理总局" in page  # live preview data
    response = start(client, [item("安全阀", "B")])
    assert response.status_code == 302
    application = db.session.execute(select(LicenceApplication)).scalar_one()
    assert response.headers["Location"].endswith(f"/admin/licence_apply/{application.id}/basic")
    assert application.authority_id == world.shaanxi.id and application.status == "draft"
    # Page 1 is prefilled from the registration.
    page = text(client.get(f"/admin/licence_apply/{application.id}/basic"))
    assert world.enterprise_org.name in page and "打印当前页" in page and "保存草稿" in page
    # A malformed value is refused and nothing of the page is saved.
    bad = dict(sample_values(licence_form.page("staff")), employees="很多")
    response = client.post(f"/admin/licence_apply/{application.id}/staff", data=dict(bad, goto="staff"))
    assert "请填写非负整数" in text(response)
    db.session.expire_all()
    assert "staff" not in (db.session.get(LicenceApplication, application.id).form_data or {})
    # A partial page is saved as a draft; the submit page names what is missing.
    response = client.post(
        f"/admin/licence_apply/{application.id}/staff", data={"technical_lead": "王工", "goto": "quality"}
    )
    assert response.headers["Location"].endswith(f"/{application.id}/quality")
    db.session.expire_all()
    assert db.session.get(LicenceApplication, application.id).form_data["staff"]["technical_lead"] == "王工"
    page = text(client.get(f"/admin/licence_apply/{application.id}/submit"))
    assert "尚不能提交" in page and "人员情况" in page and "陕西省市场监督管理局" in page
    response = client.post(
        f"/admin/licence_apply/{application.id}/submit",
        data={"expected_state": "draft"},
        follow_redirects=True,
    )
    assert "以下页面尚未填写完整" in flashes(response)
    db.session.expire_all()
    assert db.session.get(LicenceApplication, application.id).status == "draft"
    # Fill every page through the form, then submit.
    for form_page in licence_form.PAGES:
        values = sample_values(form_page, world.enterprise_org)
        response = client.post(
            f"/admin/licence_apply/{application.id}/{form_page.key}", data=dict(values, goto=form_page.key)
        )
        assert response.status_code == 302, form_page.key
    page = text(client.get(f"/admin/licence_apply/{application.id}/submit"))
    assert "许可申请书已填写完整" in page
    response = client.post(
        f"/admin/licence_apply/{application.id}/submit",
        data={"expected_state": "draft"},
        follow_redirects=True,
    )
    assert "已提交至 陕西省市场监督管理局" in flashes(response)
    db.session.expire_all()
    application = db.session.get(LicenceApplication, application.id)
    assert application.status == "submitted" and application.submitted_at is not None
    # Once submitted the form is read-only; a second click on 提交 changes nothing.
    response = client.get(f"/admin/licence_apply/{application.id}/staff", follow_redirects=True)
    assert "不能修改" in flashes(response)
    version = application.version
    response = client.post(
        f"/admin/licence_apply/{application.id}/submit",
        data={"expected_state": "draft"},
        follow_redirects=True,
    )
    assert "不能修改" in flashes(response)
    db.session.expire_all()
    assert db.session.get(LicenceApplication, application.id).version == version


def test_printable_page(client, login_as, world):
    application = draft(world)
    login_as(world.enterprise)
    page = text(client.get(f"/admin/licence_applications/print/{application.id}/staff"))
    assert "data-print" in page and "人员情况" in page and SAMPLE["text"] in page
    assert "licence_print.css" in page and "navbar" not in page
    page = text(client.get(f"/admin/licence_applications/print/{application.id}/items"))
    assert "安全阀" in page and "陕西省市场监督管理局" in page
    assert client.get(f"/admin/licence_applications/print/{application.id}/nosuchpage").status_code == 404


def test_item_picker_is_grouped_by_equipment_category_with_a_search_box(client, login_as, world):
    login_as(world.enterprise)
    page = text(client.get("/admin/licence_apply/"))
    assert 'id="licence-items-search"' in page and 'type="search"' in page
    groups = re.findall(
        r'<fieldset class="licence-item-group"[^>]*data-group="([^"]+)"[^>]*>(.*?)</fieldset>', page, re.S
    )
    names = [name for name, _body in groups]
    assert len(names) == len(set(names)) and {"锅炉", "压力容器", "安全附件", "电梯"} <= set(names)
    for name, body in groups:
        assert "<legend" in body and name in body
    valve = item("安全阀", "B")
    (body,) = [body for name, body in groups if name == valve.equipment_category]
    assert f'id="item-{valve.id}"' in body
    # Every item sits in exactly one group.
    assert sum(body.count('name="items"') for _name, body in groups) == page.count('name="items"')


def test_double_click_on_create_makes_one_application(client, login_as, world):
    login_as(world.enterprise)
    first = start(client, [item("安全阀", "B")], token="same-token")
    second = start(client, [item("安全阀", "B")], token="same-token")
    assert first.status_code == 302 and second.status_code == 302
    assert count_applications() == 1
    response = client.get(second.headers["Location"], follow_redirects=True)
    assert "请勿重复提交" in flashes(response)


def test_wrong_type_and_missing_items_change_nothing(client, login_as, world):
    login_as(world.enterprise)
    lift = item("曳引驱动乘客电梯(含消防员电梯)", "B", licence_type="安装改造修理")
    response = start(client, [item("安全阀", "B"), lift])
    assert "与所选许可类型“制造单位许可”不一致" in flashes(response)
    response = start(client, [], token="t2")
    assert "请至少选择一个许可项目" in flashes(response)
    assert count_applications() == 0
    application = draft(world)
    response = client.post(
        f"/admin/licence_apply/{application.id}/items",
        data={"category": "first", "licence_type": "制造", "items": [lift.id], "goto": "items"},
    )
    assert "不一致" in flashes(response)
    db.session.expire_all()
    assert [i.label for i in db.session.get(LicenceApplication, application.id).items] == ["安全阀B"]


def test_national_item_routes_to_samr_and_is_shown_before_submit(client, login_as, world):
    login_as(world.enterprise)
    start(client, [item("安全阀", "B"), item("爆破片装置")])
    application = db.session.execute(select(LicenceApplication)).scalar_one()
    assert application.authority_id == world.samr.id
    page = text(client.get(f"/admin/licence_apply/{application.id}/submit"))
    assert re.search(r'id="submit-authority">国家市场监督管理总局<', page)


def test_enterprise_grid_columns_as_in_seed(client, login_as, world):
    application = advance(world, draft(world), "submitted")
    login_as(world.enterprise)
    page = text(client.get("/admin/licence_applications/"))
    headers = ["申请号", "申请类别", "许可类型", "申请项目", "申请状态", "提交时间", "提交机构", "操作"]
    thead = page[page.index("<thead>") : page.index("</thead>")]
    positions = [thead.index(h) for h in headers]
    assert positions == sorted(positions)
    assert application.number in page and "制造单位许可" in page and "安全阀B" in page and "已提交" in page
    assert "首次" in page and "陕西省市场监督管理局" in page and "补正告知期限剩余" in page


def test_grid_shows_the_first_and_the_latest_submission(client, login_as, world):
    from datetime import UTC, datetime

    from ecqs import workflows

    application = advance(world, draft(world), "correction")
    first = datetime(2026, 1, 5, 1, 30, tzinfo=UTC)  # 09:30 China time
    application.submitted_at = application.received_at = first
    db.session.commit()
    workflows.transition(application, "resubmit", world.enterprise)
    db.session.commit()
    latest = application.received_at.astimezone(workdays.CN).strftime("%Y-%m-%d %H:%M")
    for user, view in ((world.enterprise, "licence_applications"), (world.sn_reviewer, "licence_review")):
        login_as(user)
        page = text(client.get(f"/admin/{view}/"))
        thead = page[page.index("<thead>") : page.index("</thead>")]
        assert thead.index("提交时间") < thead.index("最近提交"), view
        row = page[page.index(application.number) :]
        row = row[: row.index("</tr>")]
        assert "2026-01-05 09:30" in row and latest in row, view
        client.post("/logout")


# ---- the procedure through the pages -------------------------------------------------------


def act(client, view, application, action, **data):
    db.session.refresh(application)
    payload = {"expected_state": application.status, "expected_version": str(application.version), **data}
    return client.post(
        f"/admin/{view}/transition/{application.id}/{action}", data=payload, follow_redirects=True
    )


def generic(client, view, application, action, comment=None):
    db.session.refresh(application)
    data = {"expected_state": application.status}
    if comment:
        data["comment"] = comment
    return client.post(
        f"/admin/{view}/transition/{application.id}/{action}", data=data, follow_redirects=True
    )


def test_full_procedure_with_one_correction_round(client, login_as, world, monkeypatch):
    application = advance(world, draft(world), "submitted")
    login_as(world.sn_reviewer)
    page = text(client.get(f"/admin/licence_review/details/?id={application.id}"))
    assert "初审通过" in page and "补正告知" in page and "不予受理" in page
    response = act(
        client, "licence_review", application, "request_correction", comment="补充质量手册\n补充人员证书"
    )
    assert "操作成功" in flashes(response)
    client.post("/logout")

    login_as(world.enterprise)
    page = text(client.get(f"/admin/licence_applications/notice/?id={application.id}"))
    assert "补正告知书" in page and "<li>补充质量手册</li>" in page and "<li>补充人员证书</li>" in page
    response = client.post(
        f"/admin/licence_apply/{application.id}/quality",
        data=dict(sample_values(licence_form.page("quality")), manual_version="QM-2", goto="submit"),
    )
    assert response.status_code == 302
    response = client.post(
        f"/admin/licence_apply/{application.id}/submit",
        data={"expected_state": "correction"},
        follow_redirects=True,
    )
    assert "已提交" in flashes(response)
    client.post("/logout")

    login_as(world.sn_reviewer)
    response = act(
        client,
        "licence_review",
        application,
        "accept",
        assessor_org_id=str(world.assessor_org.id),
        contact_name="李评审",
        contact_phone="010-66668888",
    )
    assert "操作成功" in flashes(response)
    client.post("/logout")

    login_as(world.enterprise)
    page = text(client.get(f"/admin/licence_applications/decision/?id={application.id}"))
    assert (
        "受理决定书" in page
        and world.assessor_org.name in page
        and "李评审" in page
        and "010-66668888" in page
    )
    assert 'src="data:image/svg+xml' in page and "data-print" in page
    verify = re.search(r'id="verify-url">([^<]+)<', page).group(1)
    assert str(application.id) not in verify.rsplit("/", 1)[-1] or len(verify.rsplit("/", 1)[-1]) > 20
    response = generic(client, "licence_applications", application, "engage")
    assert "操作成功" in flashes(response)
    client.post("/logout")

    login_as(world.assessor)
    assert application.number in text(client.get("/admin/licence_negotiation/"))
    past = (workdays.today() - timedelta(days=1)).isoformat()
    response = act(client, "licence_tasks", application, "propose_dates", start=past, end=past)
    assert "已经过去" in flashes(response)
    day = (workdays.today() + timedelta(days=7)).isoformat()
    response = act(client, "licence_tasks", application, "propose_dates", start=day, end=day)
    assert "操作成功" in flashes(response)
    client.post("/logout")

    login_as(world.enterprise)
    page = text(client.get(f"/admin/licence_applications/negotiate/?id={application.id}"))
    assert "协商鉴定评审时间" in page and day in page and "确认评审时间" in page and "另提评审时间" in page
    response = generic(client, "licence_applications", application, "confirm_dates")
    assert "操作成功" in flashes(response)
    again = client.post(
        f"/admin/licence_applications/transition/{application.id}/confirm_dates",
        data={"expected_state": "engaged"},
        follow_redirects=True,
    )
    assert "已被他人处理" in flashes(again)
    client.post("/logout")

    login_as(world.assessor)

    def post_report():
        return client.post(
            f"/admin/licence_reports/transition/{application.id}/submit_report",
            data={
                "expected_state": "scheduled",
                "conclusion": "pass",
                "comment": "符合要求",
                "report": (io.BytesIO(PDF), "评审报告.pdf"),
            },
            content_type="multipart/form-data",
            follow_redirects=True,
        )

    # Not before the agreed review dates: no form, and a post is refused with the reason.
    page = text(client.get(f"/admin/licence_reports/details/?id={application.id}"))
    assert 'id="report-not-yet"' in page and 'id="form-submit_report"' not in page
    response = post_report()
    assert f"评审定于 {day} 开始，评审开始后方可提交评审报告" in flashes(response)
    db.session.expire_all()
    assert db.session.get(LicenceApplication, application.id).status == "scheduled"
    # On the first review day the report goes in.
    monkeypatch.setattr(workdays, "today", lambda: date.fromisoformat(day))
    page = text(client.get(f"/admin/licence_reports/details/?id={application.id}"))
    assert 'id="report-not-yet"' not in page and 'id="form-submit_report"' in page
    response = post_report()
    assert "操作成功" in flashes(response)
    monkeypatch.undo()
    client.post("/logout")

    login_as(world.sn_reviewer)
    response = client.get(f"/admin/licence_review/file/{application.id}/report_upload")
    assert response.status_code == 200 and response.data == PDF
    until = (workdays.today() + timedelta(days=4 * 365)).isoformat()
    response = act(
        client, "licence_review", application, "grant", licence_number="TS2161001-2030", valid_until=until
    )
    assert "操作成功" in flashes(response)
    db.session.expire_all()
    application = db.session.get(LicenceApplication, application.id)
    assert application.status == "granted" and application.licence_number == "TS2161001-2030"
    client.post("/logout")

    login_as(world.enterprise)
    page = text(client.get(f"/admin/licence_applications/certificate/?id={application.id}"))
    assert "特种设备生产许可证" in page and "TS2161001-2030" in page and 'src="data:image/svg+xml' in page
    client.post("/logout")
    page = text(client.get(f"/verify/licence/{application.certificate_token}"))
    assert "该许可证真实有效" in page and "TS2161001-2030" in page
    page = text(client.get(f"/verify/licence/{application.acceptance_token}"))
    assert "该受理决定书真实有效" in page
    response = client.get("/verify/licence/" + "x" * 43)
    assert response.status_code == 404 and "未查到该文书" in text(response)
    assert client.get(f"/verify/licence/{application.id}").status_code == 404


@pytest.mark.parametrize("registered", [True, False])
def test_blank_assessor_contact_takes_the_registered_contact(client, login_as, world, registered):
    """The fields say "不填则取机构登记的联系人/电话": a blank field takes the registration's
    contact, else (an institution entered without one, as the demo's) its admin account's."""
    org = world.assessor_org
    contact = ("王登记", "010-55556666", None) if registered else (None, None, None)
    org.contact_name, org.phone, org.contact_mobile = contact
    world.assessor.real_name, world.assessor.mobile = "王登记", "13900001111"
    db.session.commit()
    expected = ("王登记", "010-55556666" if registered else "13900001111")
    application = advance(world, draft(world), "submitted")
    login_as(world.sn_reviewer)
    response = act(
        client,
        "licence_review",
        application,
        "accept",
        assessor_org_id=str(world.assessor_org.id),
        contact_name="",
        contact_phone="",
    )
    assert "操作成功" in flashes(response)
    db.session.refresh(application)
    assert application.status == "accepted"
    assert (application.assessor_contact_name, application.assessor_contact_phone) == expected


def test_negotiation_page_shows_the_confirmed_dates(client, login_as, world):
    application = advance(world, draft(world), "scheduled")
    start, end = application.review_start.isoformat(), application.review_end.isoformat()
    for user, view in ((world.enterprise, "licence_applications"), (world.assessor, "licence_tasks")):
        login_as(user)
        page = text(client.get(f"/admin/{view}/negotiate/?id={application.id}"))
        assert "尚未提出评审时间" not in page
        confirmed = re.search(r'id="confirmed-dates">(.*?)</td>', page, re.S).group(1)
        assert start in confirmed and end in confirmed and "已确认" in page
        client.post("/logout")


def test_correction_notice_does_not_number_lines_twice(client, login_as, world):
    """A reviewer who numbers the lines ("1." / "2、" / "（3）") gets each number once."""
    application = advance(world, draft(world), "submitted")
    login_as(world.sn_reviewer)
    typed = "1. 补充质量手册\n2、补充人员证书\n（3）补充型式试验报告\n(4) 补充营业执照\n补充设计文件"
    response = act(client, "licence_review", application, "request_correction", comment=typed)
    assert "操作成功" in flashes(response)
    client.post("/logout")
    login_as(world.enterprise)
    for url in (
        f"/admin/licence_applications/notice/?id={application.id}",
        f"/admin/licence_applications/details/?id={application.id}",
    ):
        page = text(client.get(url))
        for point in ("补充质量手册", "补充人员证书", "补充型式试验报告", "补充营业执照", "补充设计文件"):
            assert f"<li>{point}</li>" in page, (url, point)


def test_correction_numbering_stripped_from_points_stored_before():
    from ecqs.documents.rules import correction_list

    stored = "1. 补充质量手册\n2.补充人员证书\n3、ISO 9001 证书\n①补充照片\n2024 年度报告"
    assert correction_list(stored) == [
        "补充质量手册",
        "补充人员证书",
        "ISO 9001 证书",
        "补充照片",
        "2024 年度报告",
    ]


def test_verification_says_when_a_licence_is_no_longer_current(client, world):
    application = advance(world, draft(world), "granted")
    application.licence_valid_from = workdays.today() - timedelta(days=2000)
    application.licence_valid_until = workdays.today() - timedelta(days=1)
    db.session.commit()
    page = text(client.get(f"/verify/licence/{application.certificate_token}"))
    assert "不在有效期内" in page and 'data-current="0"' in page


def test_bad_data_forms_change_nothing(client, login_as, world):
    application = advance(world, draft(world), "submitted")
    login_as(world.sn_reviewer)
    response = act(client, "licence_review", application, "accept", assessor_org_id="")
    assert "请选择受委托的鉴定评审机构" in flashes(response)
    response = act(client, "licence_review", application, "request_correction", comment="  ")
    assert "必须填写" in flashes(response) or "逐条填写" in flashes(response)
    db.session.expire_all()
    assert db.session.get(LicenceApplication, application.id).status == "submitted"
    # Stale version (a double click on an old page) is refused.
    response = client.post(
        f"/admin/licence_review/transition/{application.id}/accept",
        data={
            "expected_state": "submitted",
            "expected_version": "0",
            "assessor_org_id": world.assessor_org.id,
        },
        follow_redirects=True,
    )
    assert "已被他人处理" in flashes(response)
    db.session.expire_all()
    assert db.session.get(LicenceApplication, application.id).status == "submitted"


def test_report_upload_must_be_a_pdf_or_image(client, login_as, world):
    application = advance(world, draft(world), "scheduled")
    login_as(world.assessor)
    before = db.session.execute(select(func.count(Upload.id))).scalar_one()
    response = client.post(
        f"/admin/licence_reports/transition/{application.id}/submit_report",
        data={
            "expected_state": "scheduled",
            "conclusion": "pass",
            "report": (io.BytesIO(b"<html>"), "r.pdf"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "只能上传" in flashes(response)
    db.session.expire_all()
    assert db.session.get(LicenceApplication, application.id).status == "scheduled"
    assert db.session.execute(select(func.count(Upload.id))).scalar_one() == before


# ---- feedback form -------------------------------------------------------------------------

FEEDBACK = {
    "company_name": "西安测试阀门有限公司",
    "review_start": "2026-03-02",
    "review_end": "2026-03-03",
    "review_categories": ["压力容器", "其他"],
    "institution_name": "测试鉴定评审中心",
    "reviewers": "张三、李四",
    "q1": "no",
    "q2": "yes",
    "q2_detail": "态度生硬",
    "q3": "no",
    "satisfied": "no",
    "satisfaction_detail": "时间安排不合理",
}


def test_feedback_form_questions_and_visibility(client, login_as, world):
    application = advance(world, draft(world), "reviewed")
    login_as(world.enterprise)
    page = text(client.get(f"/admin/licence_applications/feedback/?id={application.id}"))
    for phrase in (
        "特种设备鉴定评审工作反馈表",
        "此表仅审批人员可见",
        "单位名称",
        "评审起止日期",
        "评审类别",
        "检验、检测机构",
        "评审机构",
        "评审人员",
        "以明示或暗示的方式索取礼品",
        "（八）前往风景、旅游区参观旅游",
        "是否存在未严格执行许可规则以及相关评审要求、态度生硬、有意刁难申请单位的行为",
        "在廉政方面，评审过程中是否有其他影响评审公正性的问题",
        "对评审组的工作是否满意",
        "具体说明",
    ):
        assert phrase in page, phrase
    # "有" without details is refused; nothing stored.
    response = client.post(
        f"/admin/licence_applications/feedback/?id={application.id}", data=dict(FEEDBACK, q2_detail="")
    )
    assert "选择“有”时请具体说明" in text(response)
    assert db.session.execute(select(func.count(LicenceReviewFeedback.id))).scalar_one() == 0
    response = client.post(
        f"/admin/licence_applications/feedback/?id={application.id}", data=FEEDBACK, follow_redirects=True
    )
    assert "评审反馈表已提交" in flashes(response)
    response = client.post(
        f"/admin/licence_applications/feedback/?id={application.id}", data=FEEDBACK, follow_redirects=True
    )
    assert "不能重复提交" in flashes(response)
    assert db.session.execute(select(func.count(LicenceReviewFeedback.id))).scalar_one() == 1
    # 此表仅审批人员可见 keeps it from the assessment institution; the applicant reads its own
    # answers back (read-only), from the grid and from the application's page.
    page = text(client.get(f"/admin/licence_applications/feedback/?id={application.id}"))
    assert 'id="feedback-answers"' in page and 'id="feedback-form"' not in page
    assert "态度生硬" in page and "时间安排不合理" in page
    grid = text(client.get("/admin/licence_applications/"))
    assert f"/admin/licence_applications/feedback/?id={application.id}" in grid
    details = text(client.get(f"/admin/licence_applications/details/?id={application.id}"))
    assert 'id="link-feedback-read"' in details and 'id="link-feedback"' not in details
    client.post("/logout")
    # Another enterprise never reads it.
    login_as(world.other_enterprise)
    assert client.get(f"/admin/licence_applications/feedback/?id={application.id}").status_code == 404
    client.post("/logout")

    login_as(world.sn_reviewer)
    page = text(client.get(f"/admin/licence_review/feedback/?id={application.id}"))
    assert "态度生硬" in page and "时间安排不合理" in page
    assert "评审反馈表" in text(client.get(f"/admin/licence_review/details/?id={application.id}"))
    client.post("/logout")

    login_as(world.assessor)
    for view in ("licence_tasks", "licence_reports", "licence_applications"):
        assert client.get(f"/admin/{view}/feedback/?id={application.id}").status_code == 403
    details = text(client.get(f"/admin/licence_tasks/details/?id={application.id}"))
    assert application.number in details
    assert "态度生硬" not in details and "时间安排不合理" not in details and "licence-feedback" not in details
    export = client.get("/admin/licence_tasks/export/xlsx/")
    assert export.status_code == 200 and "态度生硬".encode() not in export.data
    client.post("/logout")

    login_as(world.bj_reviewer)
    assert client.get(f"/admin/licence_review/feedback/?id={application.id}").status_code == 404


def test_feedback_to_fill_is_a_task_on_the_home_page_until_submitted(client, login_as, world):
    application = advance(world, draft(world), "reviewed")
    login_as(world.enterprise)

    def inbox_rows():
        home = text(client.get("/admin/"))
        table = re.search(r'<table[^>]*id="inbox".*?</table>', home, re.S).group(0)
        return [row for row in re.findall(r"<tr.*?</tr>", table, re.S) if "/feedback/" in row]

    (row,) = inbox_rows()
    assert "填写评审反馈表" in row and f"/admin/licence_applications/feedback/?id={application.id}" in row
    client.post(f"/admin/licence_applications/feedback/?id={application.id}", data=FEEDBACK)
    assert db.session.execute(select(func.count(LicenceReviewFeedback.id))).scalar_one() == 1
    assert inbox_rows() == []


def test_feedback_only_after_the_review(client, login_as, world):
    application = advance(world, draft(world), "scheduled")
    login_as(world.enterprise)
    response = client.post(
        f"/admin/licence_applications/feedback/?id={application.id}", data=FEEDBACK, follow_redirects=True
    )
    assert "评审完成后方可填写" in flashes(response)
    assert db.session.execute(select(func.count(LicenceReviewFeedback.id))).scalar_one() == 0


# ---- the demo data -------------------------------------------------------------------------


def test_demo_data_has_a_mid_workflow_application(app, licence_catalogue):
    from ecqs import seeding

    seeding.load_demo()
    rows = db.session.execute(select(LicenceApplication).order_by(LicenceApplication.id)).scalars().all()
    assert [a.status for a in rows] == ["submitted", "engaged", "submitted"]
    running = rows[1]
    assert running.authority.name == "陕西省市场监督管理局"
    assert rows[2].authority.name == "国家市场监督管理总局"  # samr_reviewer's first work
    assert running.assessor_org.users[0].username == "demo_assessor"
    assert running.proposed_by == "assessor"
    assert seeding.load_demo()["load_licence_demo"] == 0


# ---- every page renders in every state for every party -------------------------------------


def test_pages_render_in_every_state(client, login_as, world):
    from ecqs.models import LICENCE_STATUS_LABELS

    apps = {state: advance(world, draft(world), state) for state in LICENCE_STATUS_LABELS}
    for who, view in (
        (world.enterprise, "licence_applications"),
        (world.sn_reviewer, "licence_review"),
        (world.assessor, "licence_tasks"),
        (world.admin, "licence_review"),
    ):
        login_as(who)
        assert client.get(f"/admin/{view}/").status_code == 200
        home = client.get("/admin/")
        assert home.status_code == 200
        for state, application in apps.items():
            response = client.get(f"/admin/{view}/details/?id={application.id}")
            if response.status_code == 404:
                continue
            page = text(response)
            assert response.status_code == 200, (who.role, state)
            assert application.number in page and "办理记录" in page, (who.role, state)
            assert str(LICENCE_STATUS_LABELS[state]) in page
        client.post("/logout")


def test_inbox_shows_remaining_days_to_the_reviewer(client, login_as, world):
    application = advance(world, draft(world), "submitted")
    login_as(world.sn_reviewer)
    page = text(client.get("/admin/"))
    assert application.number in page
    assert licence_deadline(application) in page


def licence_deadline(application):
    from ecqs.licences import clock as licence_clock

    return licence_clock.deadline(application).isoformat()
