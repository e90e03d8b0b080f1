"""Bad input gets a clear Chinese message and changes nothing; only the unit's admin account
manages accounts, branches, change and qualification requests."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.models import Organization, UnitChangeRequest, UnitQualificationRequest, Upload
from ecqs.registry import operations
from tests.conftest import make_org, make_uscc, make_user
from tests.registry.fixtures import add_branch, file_change, file_qualification, not_an_image


def _counts():
    return tuple(
        db.session.execute(select(func.count()).select_from(m)).scalar()
        for m in (UnitChangeRequest, UnitQualificationRequest, Organization, Upload)
    )


def _refused(match, fn, *args, **kw):
    before = _counts()
    with pytest.raises(operations.RegistryError, match=match):
        fn(*args, **kw)
    db.session.rollback()
    assert _counts() == before


def test_change_that_changes_nothing(unit):
    _refused("完全相同", file_change, unit.admin, values={"name": unit.org.name})


def test_invalid_uscc(unit):
    _refused("统一社会信用代码不正确", file_change, unit.admin, values={"uscc": "91110106M104BT5280"})


def test_uscc_of_another_unit(unit, other_unit):
    _refused("已被其他单位使用", file_change, unit.admin, values={"uscc": other_unit.org.uscc})


def test_upload_that_is_not_an_image_or_pdf(unit):
    _refused("JPG、PNG", file_change, unit.admin, values={"name": "新名"}, proof=not_an_image())
    _refused("JPG、PNG", file_qualification, unit.admin, certificate=not_an_image())


def test_proof_required(unit):
    _refused("请上传证明资料", file_change, unit.admin, values={"name": "新名"}, proof=None)


def test_merge_into_a_unit_under_review(unit):
    pending = make_org("unit", status="pending")
    _refused("正在审核中", file_change, unit.admin, "merge", partner_uscc=pending.uscc)


def test_merge_with_itself_or_unknown(unit):
    _refused("不能与本单位合并", file_change, unit.admin, "merge", partner_uscc=unit.org.uscc)
    _refused("未找到", file_change, unit.admin, "merge", partner_uscc=make_uscc())


def test_split_needs_new_unit_and_own_branches(unit, other_unit):
    _refused("新单位的名称", file_change, unit.admin, "split", {"name": "新单位"})
    foreign = add_branch(other_unit)
    _refused(
        "本单位的二级单位",
        file_change,
        unit.admin,
        "split",
        {"name": "新", "uscc": make_uscc()},
        split_branch_ids=[foreign.id],
    )


def test_one_open_change_request(unit):
    file_change(unit.admin, values={"name": "新名"})
    _refused("已有待审核", file_change, unit.admin, values={"name": "另一个名"})


def test_expiry_before_issue(unit):
    today = date.today()
    _refused(
        "有效日期应晚于发证日期",
        file_qualification,
        unit.admin,
        issued_on=today,
        valid_until=today - timedelta(days=1),
    )


def test_sub_account_cannot_manage(unit):
    _refused("管理员账号", file_change, unit.sub, values={"name": "新名"})
    _refused("管理员账号", file_qualification, unit.sub)
    _refused("管理员账号", operations.create_branch, unit.sub, "分部")


def test_pending_unit_cannot_file(unit):
    pending = make_org("unit", status="pending")
    admin = make_user("unit", org=pending)
    _refused("已通过审核", file_qualification, admin)


def test_branch_with_invalid_or_taken_uscc(unit, other_unit):
    _refused("统一社会信用代码不正确", operations.create_branch, unit.admin, "分部", uscc="123")
    _refused("已被其他单位使用", operations.create_branch, unit.admin, "分部", uscc=other_unit.org.uscc)
    branch = add_branch(unit)
    assert (branch.parent_id, branch.kind, branch.status) == (unit.org.id, "unit", "approved")
    # a branch's admin (if any) is not a unit admin: branches do not manage branches
    branch_admin = make_user("unit", org=branch)
    _refused("管理员账号", operations.create_branch, branch_admin, "分部的分部")
