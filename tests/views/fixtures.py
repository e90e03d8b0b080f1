"""The audit world: one populated database touching every module (M0 accounts, M1 instruments,
M2 production licences, M3 personnel qualification) in two provinces, so that generic tests can
walk every registered Flask-Admin view as every role.

Side A is 陕西 (the logged-in users of every role), side B is 北京 (rows A must never see).
Text fields of one record per module carry a stored-XSS probe."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from types import SimpleNamespace

from flask_admin.contrib.sqla import ModelView
from openpyxl import load_workbook
from sqlalchemy import select

from ecqs import access, seeding, workflows
from ecqs.admin_views.base import RoleView
from ecqs.documents import catalogue as document_catalogue
from ecqs.documents import operations as document_operations
from ecqs.documents import rules as document_rules
from ecqs.documents import samples as document_samples
from ecqs.extensions import db
from ecqs.licences import form as licence_form
from ecqs.models import Notice, Notification, SmsMessage
from ecqs.qualifications import catalogue as personnel_catalogue
from ecqs.qualifications import operations as qualification_operations
from tests.conftest import PASSWORD, USER_TYPE, make_org, make_user
from tests.instruments.fixtures import authorise, kind, make_booking, make_instrument
from tests.licences.fixtures import advance, draft, item, sample_values
from tests.qualifications.fixtures import approve_data, id_number_in

XSS = "<img src=x onerror=alert(1)>"
RAW = "<img src=x"
ROLES = ("person", "enterprise", "metrology", "assessor", "unit", "reviewer", "association", "admin")


def admin_of(app):
    return app.extensions["admin"][0]


def model_views(app):
    return [v for v in admin_of(app)._views if isinstance(v, ModelView)]


def role_views(app):
    """Every registered view that declares roles (grids and plain admin pages)."""
    return [v for v in admin_of(app)._views if getattr(v, "roles", None)]


def view_rules(app, view):
    """The url rules a view exposes (its own endpoint prefix), static files excluded."""
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith(view.endpoint + ".")]


def log_in(app, user):
    client = app.test_client()
    response = client.post(
        "/login",
        data={
            "user_type": USER_TYPE[user.role],
            "username": user.username,
            "password": PASSWORD,
            "captcha": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def scoped_ids(model, user) -> set:
    pk = model.__mapper__.primary_key[0]
    return set(db.session.execute(access.scoped(select(pk), model, user)).scalars())


def all_ids(model) -> set:
    pk = model.__mapper__.primary_key[0]
    return set(db.session.execute(select(pk)).scalars())


def xlsx_rows(data: bytes) -> list[list]:
    wb = load_workbook(io.BytesIO(data), read_only=True)
    return [list(row) for row in wb.active.iter_rows(values_only=True)]


CJK = re.compile(r"[\u4e00-\u9fff]")


def probe_requirement(application) -> int:
    return document_rules.application_requirements(application)[0].id


def qualification_files() -> dict:
    """Generated files for every required document of an NDT 取证 application."""
    needed = document_rules.requirements("qualification", "无损检测人员", "initial")
    return document_samples.sample_documents(needed)


def build_world():
    """Create the two-province world; returns a namespace with the side-A user of each role
    (`w.users[role]`) and the notable rows."""
    from ecqs.instruments import catalogue as instrument_catalogue
    from ecqs.licences.seed import load_licence_items

    instrument_catalogue.load_seed(seeding.read_csv("instrument_catalogue.csv"))
    load_licence_items()
    personnel_catalogue.load_personnel_projects(seeding.read_csv("personnel_projects.csv"))
    document_catalogue.load_seed()
    db.session.commit()
    w = SimpleNamespace()

    # ---- M0: authorities, organisations, users ----------------------------------------------
    w.samr = make_org(
        "authority", name="国家市场监督管理总局", authority_level="national", division_code="110000"
    )
    w.shaanxi = make_org(
        "authority", name="陕西省市场监督管理局", authority_level="provincial", division_code="610000"
    )
    w.beijing = make_org(
        "authority", name="北京市市场监督管理局", authority_level="provincial", division_code="110000"
    )
    ids = {"legal_rep_id_number": id_number_in("61"), "contact_id_number": id_number_in("61")}
    w.ent_a = make_org(
        "enterprise", name=f"西安{XSS}阀门有限公司", division_code="610113", address=XSS, **ids
    )
    ids = {"legal_rep_id_number": id_number_in("11"), "contact_id_number": id_number_in("11")}
    w.ent_b = make_org("enterprise", name="北京测试阀门有限公司", division_code="110105", **ids)
    w.met_a = make_org("metrology", name=f"陕西计量院{XSS}", division_code="610000", address="西安市")
    w.met_b = make_org("metrology", name="北京计量院", division_code="110000", address="北京市")
    w.ass_a = make_org("assessor", name=f"评审中心{XSS}", division_code="610000")
    w.ass_b = make_org("assessor", name="北京评审中心", division_code="110000")
    w.unit_a = make_org("unit", name=f"陕西检验单位{XSS}", division_code="610000")
    w.unit_b = make_org("unit", name="北京检验单位", division_code="110000")

    u = {}
    u["enterprise"] = make_user("enterprise", org=w.ent_a, real_name=f"企{XSS}")
    u["person"] = make_user("person", real_name=f"张{XSS}", id_number=id_number_in("61"))
    u["metrology"] = make_user("metrology", org=w.met_a)
    u["assessor"] = make_user("assessor", org=w.ass_a)
    u["unit"] = make_user("unit", org=w.unit_a)
    u["reviewer"] = make_user("reviewer", org=w.shaanxi)
    u["association"] = make_user("association")
    u["admin"] = make_user("admin")
    w.users = u
    # A sub-account of enterprise A (the org admin sees it, with a mobile to mask).
    w.sub_a = make_user("enterprise", org=w.ent_a, is_org_admin=False, real_name=f"子{XSS}")
    w.ent_b_user = make_user("enterprise", org=w.ent_b)
    w.met_b_user = make_user("metrology", org=w.met_b)
    w.ass_b_user = make_user("assessor", org=w.ass_b)
    w.unit_b_user = make_user("unit", org=w.unit_b)
    w.bj_reviewer = make_user("reviewer", org=w.beijing)
    w.samr_reviewer = make_user("reviewer", org=w.samr)
    w.person_b = make_user("person", id_number=id_number_in("11"))

    from ecqs.models import EnterpriseLink, utcnow

    db.session.add(
        EnterpriseLink(
            person_id=u["person"].id, organization_id=w.ent_a.id, status="approved", decided_at=utcnow()
        )
    )
    db.session.add(EnterpriseLink(person_id=w.person_b.id, organization_id=w.ent_b.id, status="pending"))
    db.session.add(Notice(title=f"通知{XSS}", body=XSS, audience="all"))
    for user in [*u.values(), w.ent_b_user, w.person_b]:
        db.session.add(Notification(user_id=user.id, title=f"消息{XSS}", body=XSS))
    db.session.add(
        SmsMessage(mobile=u["person"].mobile, body="验证码 123456", purpose="login", backend="outbox")
    )
    db.session.commit()

    # ---- M1: instruments, authorisations, bookings ------------------------------------------
    authorise(w.met_a, kind("0101"), "610000")
    authorise(w.met_b, kind("0101"), "110000")
    w.inst_a = make_instrument(
        w.ent_a, name=f"压力表{XSS}", usage_place=f"锅炉房{XSS}", usage_division_code="610113"
    )
    w.inst_a2 = make_instrument(w.ent_a, usage_division_code="610113")
    w.inst_b = make_instrument(w.ent_b, usage_division_code="110105")
    w.booking_a = make_booking(w.ent_a, [w.inst_a], user=u["enterprise"])
    workflows.transition(w.booking_a, "submit", u["enterprise"])
    w.booking_a2 = make_booking(w.ent_a, [w.inst_a2], user=u["enterprise"])  # draft
    w.booking_b = make_booking(w.ent_b, [w.inst_b], user=w.ent_b_user)
    workflows.transition(w.booking_b, "submit", w.ent_b_user)
    db.session.commit()

    # ---- M2: licence applications -------------------------------------------------------------
    side_a = SimpleNamespace(
        enterprise_org=w.ent_a,
        enterprise=u["enterprise"],
        sn_reviewer=u["reviewer"],
        assessor_org=w.ass_a,
        assessor=u["assessor"],
    )
    side_b = SimpleNamespace(
        enterprise_org=w.ent_b,
        enterprise=w.ent_b_user,
        sn_reviewer=w.bj_reviewer,
        assessor_org=w.ass_b,
        assessor=w.ass_b_user,
    )
    w.licence_a = draft(side_a, items=[item("安全阀", "B")])
    for page in licence_form.PAGES:
        values = sample_values(page, w.ent_a)
        for field in page.fields:
            if field.kind in ("text", "textarea") and field.name != "company_name":
                values[field.name] = XSS
        licence_form.save_page(w.licence_a, page.key, values)
    # A document whose file name carries the probe (the details page and the wizard list it).
    probe = document_samples.sample_file(document_rules.application_requirements(w.licence_a)[0])
    probe.filename = f"文件{XSS}.pdf"
    document_operations.attach(w.licence_a, probe_requirement(w.licence_a), [probe], side_a.enterprise)
    db.session.commit()
    advance(side_a, w.licence_a, "reviewed")
    w.licence_a_draft = draft(side_a, items=[item("安全阀", "B")])
    w.licence_b = advance(side_b, draft(side_b, items=[item("安全阀", "B")]), "reviewed")

    # ---- M3: qualification applications and certificates ------------------------------------
    from ecqs.models import PersonnelProject

    project = db.session.execute(
        select(PersonnelProject).where(PersonnelProject.code == "RT-II")
    ).scalar_one()
    files = qualification_files()
    w.qual_a = qualification_operations.submit_qualification_application(
        u["person"], project, "initial", work_unit=f"单位{XSS}", remarks=f"说明{XSS}", documents=files
    )
    db.session.commit()
    workflows.transition(w.qual_a, "receive", u["reviewer"])
    workflows.transition(w.qual_a, "approve", u["reviewer"], **approve_data())
    db.session.commit()
    project2 = db.session.execute(
        select(PersonnelProject).where(PersonnelProject.code == "MT-II")
    ).scalar_one()
    w.qual_a2 = qualification_operations.submit_qualification_application(
        u["person"], project2, "initial", documents=qualification_files()
    )
    w.qual_b = qualification_operations.submit_qualification_application(
        w.person_b, project, "initial", documents=qualification_files()
    )
    db.session.commit()
    # A 补正告知书 with the probe, so its print page is walked by every generic test too.
    workflows.transition(w.qual_a2, "request_correction", u["reviewer"], comment=f"补充工作经历证明{XSS}")
    db.session.commit()
    w.qual_b_reviewer = w.bj_reviewer

    # ---- M4: inspection units' branches, sub-accounts, change and qualification requests ----
    from ecqs.registry import operations as registry_operations
    from tests.registry.fixtures import png

    w.unit_sub_a = make_user("unit", org=w.unit_a, is_org_admin=False, real_name=f"单{XSS}")
    w.branch_a = registry_operations.create_branch(u["unit"], f"分部{XSS}", address=XSS)
    w.branch_b = registry_operations.create_branch(w.unit_b_user, "北京分部")
    w.change_a = registry_operations.file_change_request(
        u["unit"], "info", {"name": f"新名{XSS}", "address": XSS}, proof=png(), reason=XSS
    )
    w.change_b = registry_operations.file_change_request(
        w.unit_b_user, "info", {"name": "北京新名"}, proof=png()
    )
    today = date.today()
    w.unit_qual_a = registry_operations.file_qualification_request(
        u["unit"],
        "type_test",
        f"TS{XSS}"[:60],
        today,
        today + timedelta(days=20),
        certificate=png(),
        remarks=XSS,
    )
    w.unit_qual_b = registry_operations.file_qualification_request(
        w.unit_b_user, "inspection", "TS-B", today, today + timedelta(days=700), certificate=png()
    )
    w.question_a = registry_operations.ask_question(u["unit"], f"问题{XSS}", XSS, attachment=png())
    w.question_b = registry_operations.ask_question(w.unit_b_user, "北京的问题", "内容")
    from ecqs.models import RegistryNotice

    db.session.add(RegistryNotice(kind="publicity", title=f"公示{XSS}", body=XSS))
    w.appeal_a = registry_operations.file_appeal(
        w.unit_a.name,
        w.unit_a.uscc,
        f"申{XSS}"[:50],
        "610113199001010019",
        "13700000001",
        None,
        "staff_left",
        png(),
    )
    db.session.commit()

    # ---- M4 part 2: publicity applications and manual real-name verifications ----
    from ecqs.registry import application_operations
    from tests.registry.application_fixtures import certificate
    from tests.registry.application_fixtures import id_number as practitioner_id

    for request in (w.unit_qual_a, w.unit_qual_b):
        workflows.transition(request, "approve", u["association"])
    w.practitioner_a = make_user("person", real_name=f"张{XSS}"[:50], id_number=practitioner_id())
    w.practitioner_b = make_user("person", real_name="李四", id_number=practitioner_id())
    certificate(w.practitioner_a, "RT-II")
    certificate(w.practitioner_b, "UT-II", name="脉冲反射法超声检测")
    w.publicity_a = application_operations.create_application(
        u["unit"], w.practitioner_a.real_name, w.practitioner_a.id_number
    )
    w.publicity_b = application_operations.create_application(
        w.unit_b_user, w.practitioner_b.real_name, w.practitioner_b.id_number
    )
    w.verification_a = application_operations.file_verification(
        u["unit"],
        w.practitioner_a.real_name,
        w.practitioner_a.id_number,
        "13700000021",
        proof=png(),
        remarks=XSS,
    )
    w.verification_b = application_operations.file_verification(
        w.unit_b_user, w.practitioner_b.real_name, w.practitioner_b.id_number, "13700000022", proof=png()
    )
    # ---- M4 part 2: published registrations and deregistration requests ----------------------
    from ecqs.registry import registrations as registry_registrations

    rt = db.session.execute(select(PersonnelProject).where(PersonnelProject.code == "RT-II")).scalar_one()

    def _registered(org, name):
        person = make_user("person", real_name=name)
        return registry_registrations.record_registration(
            person, org, [(rt, "II")], today - timedelta(days=30), today + timedelta(days=1000)
        )

    w.reg_a = _registered(w.unit_a, f"甲{XSS}"[:50])
    w.reg_branch_a = _registered(w.branch_a, "分部人员")
    w.reg_b = _registered(w.unit_b, "北京人员")
    w.reg_b2 = _registered(w.unit_b, "北京人员二")
    w.dereg_a = registry_registrations.file_deregistration(u["unit"], {w.reg_a.id: f"离职{XSS}"[:200]})
    w.dereg_b = registry_registrations.file_deregistration(w.unit_b_user, {w.reg_b.id: "离职"})
    db.session.commit()
    for row, actor in ((w.dereg_a, u["unit"]), (w.dereg_b, w.unit_b_user)):
        workflows.transition(row, "submit", actor, scan=png(), courier_number="SF1234567890")
    w.dereg_b_draft = registry_registrations.file_deregistration(w.unit_b_user, {w.reg_b2.id: "退休"})
    db.session.commit()
    return w


def personal_numbers(w) -> dict[str, set]:
    """Every full resident ID and mobile in the world, by owner user id (None: organisation)."""
    from ecqs.models import Organization, QualificationApplication, QualificationCertificate, User

    owned: dict = {}
    for user in db.session.execute(select(User)).scalars():
        owned.setdefault(user.id, set()).update(v for v in (user.id_number, user.mobile) if v)
    for org in db.session.execute(select(Organization)).scalars():
        values = (
            org.contact_mobile,
            getattr(org, "legal_rep_id_number", None),
            getattr(org, "contact_id_number", None),
        )
        owned.setdefault(("org", org.id), set()).update(v for v in values if v)
    for row in db.session.execute(select(QualificationApplication)).scalars():
        owned.setdefault(row.applicant_id, set()).add(row.applicant_id_number)
    for row in db.session.execute(select(QualificationCertificate)).scalars():
        owned.setdefault(row.holder_id, set()).add(row.holder_id_number)
    return owned


def is_role_view(view) -> bool:
    return isinstance(view, RoleView)
