"""M3 through HTTP: the person's two-step application, routing of the authority, the seed's
grid, the reviewer's buttons (receive, approve with certificate fields, reject), menus."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.models import QualificationApplication, QualificationCertificate
from ecqs.qualifications import operations as qualification_operations
from ecqs.services import workdays
from tests.conftest import flashes, make_user
from tests.qualifications.fixtures import drive_to, give_certificate, id_number_in, make_person, submit


def _count(model=QualificationApplication) -> int:
    return db.session.execute(select(func.count(model.id))).scalar()


def _fill(client, project, province="", **form):
    """Step 2 (申报信息) and, when it leads on, step 3 (申请材料: none required here) and submit."""
    data = {"project_id": project.id, "province": province, "category": "initial", **form}
    response = client.post("/admin/qualification_apply/fill/", data=data)
    if response.status_code == 302 and response.headers["Location"].endswith("/documents/"):
        response = client.post("/admin/qualification_apply/documents/", data={"action": "submit"})
    return response


# ---- routing ---------------------------------------------------------------------------------


def test_provincial_project_goes_to_the_bureau_of_the_id_province(projects, authorities):
    person = make_person("61")
    app = submit(person, projects["RT-II"])
    assert (app.authority_id, app.province_code) == (authorities["shaanxi"].id, "610000")
    other = make_person("51")
    app2 = submit(other, projects["UT-II"])
    assert (app2.authority_id, app2.province_code) == (authorities["sichuan"].id, "510000")


def test_person_may_choose_the_province(projects, authorities):
    person = make_person("61")
    app = submit(person, projects["MT-II"], province_code="510000")
    assert app.authority_id == authorities["sichuan"].id


def test_national_project_goes_to_samr_whatever_the_province(projects, authorities):
    person = make_person("61")
    for code in ("RT-III", "TOFD-II"):
        app = submit(person, projects[code], province_code="510000")
        assert app.authority_id == authorities["samr"].id and app.approval_level == "national"


def test_no_authority_for_the_province_is_refused(client, login_as, projects, authorities):
    person = make_person("11")  # 北京: no provincial bureau in this test database
    login_as(person)
    response = _fill(client, projects["RT-II"])
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "未找到 北京市 的审批机关" in page
    assert _count() == 0


def test_project_without_approval_level_is_refused(client, login_as, projects, authorities):
    person = make_person("61")
    login_as(person)
    page = client.get("/admin/qualification_apply/").get_data(as_text=True)
    y_dt = projects["Y-DT"]
    assert f'id="project-{y_dt.id}"' in page and "未确定（暂不可申请）" in page
    response = client.post(
        "/admin/qualification_apply/fill/",
        data={"project_id": y_dt.id, "category": "initial"},
        follow_redirects=True,
    )
    assert "审批层级尚未确定" in flashes(response)
    assert _count() == 0


# ---- the person's two steps ----------------------------------------------------------------


def test_two_step_application(client, login_as, projects, authorities):
    person = make_person("61", real_name="王五")
    login_as(person)
    step1 = client.get("/admin/qualification_apply/")
    page = step1.get_data(as_text=True)
    assert step1.status_code == 200 and "第一步：选择申请项目" in page
    assert '<option value="610000" selected>陕西省</option>' in page
    project = projects["RT-II"]
    step2 = client.get(f"/admin/qualification_apply/fill/?project_id={project.id}&province=610000")
    page = step2.get_data(as_text=True)
    assert "第二步：填写申报信息" in page and "第三步：上传申请材料并提交" in page
    assert '<td id="summary-authority">' in page and "陕西省市场监督管理局" in page
    for label in ("取证", "考试换证", "审核换证", "变更"):
        assert label in page
    response = _fill(client, project, "610000", work_unit="西安检测公司")
    assert response.status_code == 302
    app = db.session.execute(select(QualificationApplication)).scalar_one()
    assert response.headers["Location"].endswith(f"/admin/my_qualification_applications/details/?id={app.id}")
    assert (app.status, app.category, app.applicant_name, app.work_unit) == (
        "pending",
        "initial",
        "王五",
        "西安检测公司",
    )
    assert (app.application_year, app.applied_on, app.accepted_on) == (
        workdays.today().year,
        workdays.today(),
        None,
    )
    details = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "申请已提交，提交机构：陕西省市场监督管理局" in details
    assert "提交资格认定申请" in details  # the timeline
    # Double click: the second submission is refused with a message and nothing is added.
    again = _fill(client, project, "610000")
    assert again.status_code == 200 and "正在办理的申请（待受理）" in again.get_data(as_text=True)
    assert _count() == 1


def test_bad_input_changes_nothing(client, login_as, projects, authorities):
    login_as(make_person("61"))
    project = projects["RT-II"]
    cases = [
        ({"category": ""}, "请选择申请类别"),
        ({"category": "exam_renewal"}, "须持有该项目（RT-II 射线胶片照相检测）的有效资格证书"),
        ({"category": "change", "remarks": "改名"}, "有效资格证书"),
        ({"category": "nonsense"}, "请检查填写的内容"),
        ({"work_unit": "长" * 121}, "请检查填写的内容"),
    ]
    for form, message in cases:
        response = _fill(client, project, "610000", **form)
        assert response.status_code == 200 and message in response.get_data(as_text=True), message
    bad_province = client.post(
        "/admin/qualification_apply/fill/",
        data={"project_id": project.id, "province": "999999", "category": "initial"},
        follow_redirects=True,
    )
    assert "所选省份不正确" in flashes(bad_province)
    missing = client.post(
        "/admin/qualification_apply/fill/", data={"project_id": "abc"}, follow_redirects=True
    )
    assert "请先选择要申请的项目" in flashes(missing)
    assert _count() == 0


def test_renewal_with_certificate_through_the_pages(client, login_as, projects, reviewers):
    person = make_person("61")
    old = give_certificate(person, projects["RT-II"], reviewers["shaanxi"])
    login_as(person)
    page = client.get(f"/admin/qualification_apply/fill/?project_id={projects['RT-II'].id}").get_data(
        as_text=True
    )
    assert old.number in page  # the certificate held is shown before choosing the category
    response = _fill(client, projects["RT-II"], category="exam_renewal")
    assert response.status_code == 302
    app = db.session.execute(
        select(QualificationApplication).where(QualificationApplication.category == "exam_renewal")
    ).scalar_one()
    assert app.base_certificate_id == old.id


def test_person_grid_has_the_seed_columns_and_withdraws(client, login_as, projects, reviewers):
    person = make_person("61")
    app = submit(person, projects["RT-II"])
    login_as(person)
    page = client.get("/admin/my_qualification_applications/").get_data(as_text=True)
    headers = [
        "申请年度",
        "人员类型",
        "项目代号",
        "项目名称",
        "申请类别",
        "申请状态",
        "提交机构",
        "申请日期",
        "受理日期",
    ]
    thead = page[page.index("<thead") : page.index("</thead>")]
    positions = [thead.index(h) for h in headers]
    assert positions == sorted(positions)
    assert "无损检测人员" in page and "RT-II" in page and "待受理" in page and "陕西省市场监督管理局" in page
    assert 'id="new-qualification-application"' in page
    details = client.get(f"/admin/my_qualification_applications/details/?id={app.id}").get_data(as_text=True)
    assert 'data-action="withdraw"' in details and 'data-action="receive"' not in details
    response = client.post(
        f"/admin/my_qualification_applications/transition/{app.id}/withdraw",
        data={"expected_state": "pending"},
        follow_redirects=True,
    )
    assert "操作成功" in flashes(response)
    db.session.refresh(app)
    assert app.status == "withdrawn"
    again = client.post(
        f"/admin/my_qualification_applications/transition/{app.id}/withdraw",
        data={"expected_state": "pending"},
        follow_redirects=True,
    )
    assert "已被他人处理" in flashes(again)


# ---- the reviewer ---------------------------------------------------------------------------


def test_reviewer_receives_approves_and_certificate_appears(client, login_as, projects, reviewers):
    person = make_person("61", real_name="赵六")
    app = submit(person, projects["RT-II"])
    reviewer = reviewers["shaanxi"]
    login_as(reviewer)
    grid = client.get("/admin/qualification_applications/").get_data(as_text=True)
    assert "赵六" in grid and "人员资格审批" in grid
    base = f"/admin/qualification_applications/transition/{app.id}"
    response = client.post(f"{base}/receive", data={"expected_state": "pending"}, follow_redirects=True)
    assert "操作成功" in flashes(response)
    db.session.refresh(app)
    assert (app.status, app.accepted_on) == ("received", workdays.today())
    details = client.get(f"/admin/qualification_applications/details/?id={app.id}").get_data(as_text=True)
    assert 'id="cert-valid-until"' in details and 'data-action="reject"' in details
    # Approval without the expiry date is refused with a message; nothing is issued.
    response = client.post(f"{base}/approve", data={"expected_state": "received"}, follow_redirects=True)
    assert "须填写证书有效期至" in flashes(response)
    assert _count(QualificationCertificate) == 0
    until = workdays.today() + timedelta(days=1460)
    response = client.post(
        f"{base}/approve",
        data={
            "expected_state": "received",
            "issued_on": workdays.today().isoformat(),
            "valid_until": until.isoformat(),
        },
        follow_redirects=True,
    )
    assert "已审核通过，证书编号：RY-610000-" in flashes(response)
    db.session.refresh(app)
    cert = app.certificate
    assert app.status == "approved" and cert.valid_until == until and cert.holder_name == "赵六"
    # Double click on 审核通过: refused, still one certificate.
    again = client.post(
        f"{base}/approve",
        data={"expected_state": "received", "valid_until": until.isoformat()},
        follow_redirects=True,
    )
    assert "已被他人处理" in flashes(again)
    assert _count(QualificationCertificate) == 1
    certs = client.get("/admin/qualification_certificates/").get_data(as_text=True)
    assert cert.number in certs and "赵六" in certs and person.id_number not in certs  # masked
    client.post("/logout")
    login_as(person)
    mine = client.get("/admin/my_certificates/").get_data(as_text=True)
    assert cert.number in mine and "RT-II" in mine and until.isoformat() in mine
    details = client.get(f"/admin/my_qualification_applications/details/?id={app.id}").get_data(as_text=True)
    assert f'href="/admin/my_certificates/details/?id={cert.id}"' in details


def test_reviewer_rejects_with_reason_through_the_page(client, login_as, projects, reviewers):
    person = make_person("61")
    app = submit(person, projects["RT-II"])
    drive_to(app, "received", reviewers["shaanxi"], person)
    login_as(reviewers["shaanxi"])
    base = f"/admin/qualification_applications/transition/{app.id}"
    response = client.post(
        f"{base}/reject", data={"expected_state": "received", "comment": ""}, follow_redirects=True
    )
    assert "必须填写意见或原因" in flashes(response)
    db.session.refresh(app)
    assert app.status == "received"
    response = client.post(
        f"{base}/reject",
        data={"expected_state": "received", "comment": "实践经历不足"},
        follow_redirects=True,
    )
    db.session.refresh(app)
    assert (app.status, app.reject_reason) == ("rejected", "实践经历不足")
    page = client.get(f"/admin/qualification_applications/details/?id={app.id}").get_data(as_text=True)
    assert "实践经历不足" in page and "不予批准" in page


def test_bulk_receive_for_the_reviewer(client, login_as, projects, reviewers):
    a = submit(make_person("61"), projects["RT-II"])
    b = submit(make_person("61"), projects["UT-II"])
    login_as(reviewers["shaanxi"])
    response = client.post(
        "/admin/qualification_applications/action/",
        data={"action": "wf_receive", "rowid": [a.id, b.id]},
        follow_redirects=True,
    )
    assert "已处理 2 条记录" in flashes(response)
    for app in (a, b):
        db.session.refresh(app)
        assert app.status == "received"


# ---- menus --------------------------------------------------------------------------------


def test_menus_per_role(client, login_as, projects, reviewers):
    login_as(make_person("61"))
    page = client.get("/admin/").get_data(as_text=True)
    for label in (
        "特种设备检验、检测人员资格认定申请",
        "资格认定申请",
        "检验、检测人员资格认定申请管理",
        "我的证书",
    ):
        assert label in page
    assert "人员资格审批" not in page and "人员项目目录" not in page
    client.post("/logout")
    login_as(reviewers["shaanxi"])
    page = client.get("/admin/").get_data(as_text=True)
    assert "人员资格审批" in page and "人员资格证书" in page and "我的证书" not in page
    assert "人员项目目录" not in page
    client.post("/logout")
    login_as(make_user("admin"))
    page = client.get("/admin/").get_data(as_text=True)
    assert "人员项目目录" in page and "人员资格审批" in page


def test_admin_sees_all_but_cannot_act(client, login_as, projects, reviewers):
    app = submit(make_person("61"), projects["RT-II"])
    login_as(make_user("admin"))
    assert "RT-II" in client.get("/admin/qualification_applications/").get_data(as_text=True)
    details = client.get(f"/admin/qualification_applications/details/?id={app.id}").get_data(as_text=True)
    assert "当前没有可办理的操作" in details
    response = client.post(
        f"/admin/qualification_applications/transition/{app.id}/receive", data={}, follow_redirects=True
    )
    assert "您无权执行“接收材料”" in flashes(response)
    db.session.refresh(app)
    assert app.status == "pending"


def test_id_number_province_derivation(projects, authorities):
    from ecqs.qualifications import rules as qualifications

    assert qualifications.province_from_id_number(id_number_in("61")) == "610000"
    assert qualifications.province_from_id_number("99" + "0" * 16) is None
    assert qualifications.province_from_id_number(None) is None


def test_person_without_known_province_must_choose_for_provincial_projects(projects, authorities):
    from ecqs import workflows

    person = make_user("person", id_number=None)
    person.id_number = "990103199001011234"  # not a real province; the checksum is irrelevant here
    db.session.commit()
    with pytest.raises(workflows.GuardFailed, match="须选择所在省份"):
        qualification_operations.submit_qualification_application(person, projects["RT-II"], "initial")
    db.session.rollback()
    app = qualification_operations.submit_qualification_application(
        person, projects["RT-II"], "initial", province_code="610000"
    )
    assert app.authority_id == authorities["shaanxi"].id


def test_demo_data_puts_an_rt2_application_before_the_shaanxi_bureau(projects):
    from ecqs import seeding
    from ecqs.models import User

    seeding.load_demo()
    person = db.session.execute(select(User).where(User.username == "demo_person")).scalar_one()
    app, granted = (
        db.session.execute(
            select(QualificationApplication)
            .where(QualificationApplication.applicant_id == person.id)
            .order_by(QualificationApplication.id)
        )
        .scalars()
        .all()
    )
    assert (app.project_code, app.status, app.category) == ("RT-II", "pending", "initial")
    # demo_person's MT-II certificate, granted through the engine, is due for renewal (90 days).
    assert (granted.project_code, granted.status) == ("MT-II", "approved")
    assert 0 < (granted.certificate.valid_until - date.today()).days <= 90
    assert app.authority.name == "陕西省市场监督管理局" and app.authority.authority_level == "provincial"
    reviewer = db.session.execute(select(User).where(User.username == "sn_reviewer")).scalar_one()
    from ecqs import workflows

    assert workflows.can(app, "receive", reviewer)
    before = _count()  # other demo holders (the registry's) applied for their certificates too
    seeding.load_demo()  # idempotent
    assert _count() == before


def test_change_prefills_the_old_expiry_and_certificate_export(client, login_as, projects, reviewers):
    from io import BytesIO

    from openpyxl import load_workbook

    person = make_person("61", real_name="钱七")
    reviewer = reviewers["shaanxi"]
    old = give_certificate(person, projects["PT-II"], reviewer)
    app = submit(person, projects["PT-II"], "change", remarks="姓名变更")
    drive_to(app, "received", reviewer, person)
    login_as(reviewer)
    page = client.get(f"/admin/qualification_applications/details/?id={app.id}").get_data(as_text=True)
    assert f'value="{old.valid_until.isoformat()}"' in page and old.number in page
    response = client.get("/admin/qualification_certificates/export/xlsx/")
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.data)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:4] == ("证书编号", "持证人", "身份证号", "人员类型")
    row = next(r for r in rows[1:] if r[0] == old.number)
    assert row[1] == "钱七" and row[2] != person.id_number and "*" in row[2]
    assert row[-1] == "有效"
