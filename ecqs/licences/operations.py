"""Production licence applications outside the workflow table: creating a draft (with its
race-free number 申请号), choosing category / licence type / items, routing to the approving
authority 审批机关, and the checks a submission must pass."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from ecqs.documents import rules as document_rules
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.licences import form as licence_form
from ecqs.models import (
    LICENCE_CATEGORY_LABELS,
    LicenceApplication,
    LicenceApplicationCounter,
    LicenceItem,
    Organization,
    User,
    licence_type_label,
)
from ecqs.services import audit, workdays


class ApplicationError(Exception):
    """Refused input; str(exc) is the Chinese message. Nothing was changed."""


class DuplicateSubmission(ApplicationError):
    """The same start form was posted twice; `application` is the draft the first post made."""

    def __init__(self, application):
        super().__init__(_("请勿重复提交：申请 %(number)s 已创建", number=application.number))
        self.application = application


# ---- catalogue -----------------------------------------------------------------------------


def licence_types() -> list[str]:
    """Licence types offered (those with at least one active catalogue item), catalogue order."""
    rows = db.session.execute(
        select(LicenceItem.licence_type, db.func.min(LicenceItem.id))
        .where(LicenceItem.active.is_(True))
        .group_by(LicenceItem.licence_type)
        .order_by(db.func.min(LicenceItem.id))
    ).all()
    return [r[0] for r in rows]


def active_items(licence_type: str | None = None) -> list[LicenceItem]:
    stmt = select(LicenceItem).where(LicenceItem.active.is_(True))
    if licence_type:
        stmt = stmt.where(LicenceItem.licence_type == licence_type)
    return list(db.session.execute(stmt.order_by(LicenceItem.id)).scalars())


# ---- authority routing ---------------------------------------------------------------------


def national_authority() -> Organization | None:
    return db.session.execute(
        select(Organization)
        .where(
            Organization.kind == "authority",
            Organization.authority_level == "national",
            Organization.status == "approved",
        )
        .order_by(Organization.id)
    ).scalar()


def provincial_authority(province_code: str | None) -> Organization | None:
    if not province_code:
        return None
    return db.session.execute(
        select(Organization)
        .where(
            Organization.kind == "authority",
            Organization.authority_level == "provincial",
            Organization.division_code == province_code,
            Organization.status == "approved",
        )
        .order_by(Organization.id)
    ).scalar()


def route_authority(enterprise: Organization, items: Iterable[LicenceItem]) -> Organization:
    """审批机关: SAMR when any item is approved nationally, else the enterprise's provincial bureau."""
    if any(item.is_national for item in items):
        authority = national_authority()
        if authority is None:
            raise ApplicationError(_("系统中尚未配置国家市场监督管理总局，请联系管理员"))
        return authority
    authority = provincial_authority(enterprise.province_code)
    if authority is None:
        raise ApplicationError(_("系统中尚未配置贵单位所在省份的审批机关，请联系管理员"))
    return authority


# ---- numbers -------------------------------------------------------------------------------


def next_number(day: date | None = None) -> str:
    """申请号 = date + 5-digit sequence of that day (e.g. 2026030500012).

    One atomic upsert on the per-day counter row: concurrent requests (several gunicorn
    workers, several hosts on one PostgreSQL) queue on that row's lock and each gets its own
    sequence; the unique constraint on the number is the last line of defence."""
    day = day or workdays.today()
    key = day.strftime("%Y%m%d")
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        insert = postgresql.insert
    elif dialect == "sqlite":
        insert = sqlite.insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {dialect}")
    table = LicenceApplicationCounter.__table__
    stmt = (
        insert(table)
        .values(day=key, last=1)
        .on_conflict_do_update(index_elements=[table.c.day], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
    sequence = db.session.execute(stmt).scalar_one()
    return f"{key}{sequence:05d}"


# ---- choosing what to apply for ------------------------------------------------------------


def _parse_ids(item_ids) -> list[int]:
    ids = []
    for raw in item_ids or ():
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            raise ApplicationError(_("所选许可项目不存在")) from None
    return list(dict.fromkeys(ids))


def check_selection(category: str, licence_type: str, item_ids) -> list[LicenceItem]:
    """Validate category, licence type and items; return the items (catalogue order)."""
    if category not in LICENCE_CATEGORY_LABELS:
        raise ApplicationError(_("请选择申请类别（首次、增项、换证或变更）"))
    if not licence_type or licence_type not in licence_types():
        raise ApplicationError(_("请选择许可类型"))
    ids = _parse_ids(item_ids)
    if not ids:
        raise ApplicationError(_("请至少选择一个许可项目"))
    items = list(
        db.session.execute(
            select(LicenceItem).where(LicenceItem.id.in_(ids)).order_by(LicenceItem.id)
        ).scalars()
    )
    if len(items) != len(ids):
        raise ApplicationError(_("所选许可项目不存在"))
    check_items(items, licence_type)
    return items


def check_items(items: list[LicenceItem], licence_type: str) -> None:
    """Every item active and of the application's licence type."""
    if not items:
        raise ApplicationError(_("尚未选择许可项目，请在“申请项目”页选择后再提交"))
    for item in items:
        if not item.active:
            raise ApplicationError(_("许可项目“%(item)s”已停用，请重新选择", item=item.label))
        if item.licence_type != licence_type:
            raise ApplicationError(
                _(
                    "许可项目“%(item)s”属于“%(its)s”，与所选许可类型“%(type)s”不一致",
                    item=item.label,
                    its=licence_type_label(item.licence_type),
                    type=licence_type_label(licence_type),
                )
            )


def create(
    enterprise: Organization,
    user: User,
    category: str,
    licence_type: str,
    item_ids,
    client_token: str | None = None,
) -> LicenceApplication:
    """Start a draft for `enterprise`: number, items, authority, page 1 prefilled. Flushes.

    `client_token` is the one-time token of the form; a second post of the same form (double
    click, browser resubmission) raises DuplicateSubmission naming the draft already created."""
    if user.role != "enterprise" or user.organization_id != enterprise.id or not user.org_approved:
        raise ApplicationError(_("只有已通过审核的企业用户可以申请许可"))
    if client_token:
        existing = db.session.execute(
            select(LicenceApplication).where(LicenceApplication.client_token == client_token)
        ).scalar()
        if existing is not None:
            raise DuplicateSubmission(existing)
    items = check_selection(category, licence_type, item_ids)
    authority = route_authority(enterprise, items)
    application = LicenceApplication(
        number=next_number(),
        organization=enterprise,
        created_by=user,
        category=category,
        licence_type=licence_type,
        authority=authority,
        items=items,
        form_data=licence_form.prefill(enterprise),
        status="draft",
        client_token=client_token or None,
    )
    db.session.add(application)
    db.session.flush()
    audit.record("record_created", user=user, obj=application, comment=application.number)
    return application


def update_selection(application: LicenceApplication, user: User, category: str, licence_type: str, item_ids):
    """Change category, type or items of a draft (or during correction). During correction the
    approving authority may not change: that would be a new application."""
    if not application.can_edit(user):
        raise ApplicationError(_("当前状态为“%(state)s”，不能修改", state=application.status_label))
    items = check_selection(category, licence_type, item_ids)
    authority = route_authority(application.organization, items)
    if application.status == "correction" and authority.id != application.authority_id:
        raise ApplicationError(
            _(
                "补正不能改变审批机关（所选项目应由“%(new)s”审批），如需变更请撤回后重新申请",
                new=authority.name,
            )
        )
    application.category = category
    application.licence_type = licence_type
    application.items = items
    application.authority = authority
    audit.record("record_changed", user=user, obj=application, comment=_("申请项目"))
    return application


def save_page(application: LicenceApplication, user: User, key: str, raw) -> None:
    """Save one page of the 许可申请书 as a draft (raises licence_form.FormErrors)."""
    if not application.can_edit(user):
        raise ApplicationError(_("当前状态为“%(state)s”，不能修改", state=application.status_label))
    licence_form.save_page(application, key, raw)


def submission_problems(application: LicenceApplication) -> list[str]:
    """Everything that stops a submission, as Chinese sentences (empty: ready to submit)."""
    problems = []
    try:
        check_items(list(application.items), application.licence_type)
    except ApplicationError as exc:
        problems.append(str(exc))
    missing = licence_form.missing_pages(application)
    if missing:
        problems.append(_("以下页面尚未填写完整：%(pages)s", pages="、".join(str(p.title) for p in missing)))
    problems.extend(document_rules.submission_problems(application))
    if application.items:
        try:
            authority = route_authority(application.organization, application.items)
        except ApplicationError as exc:
            problems.append(str(exc))
        else:
            if application.status == "correction" and authority.id != application.authority_id:
                problems.append(_("补正不能改变审批机关，如需变更请撤回后重新申请"))
    return problems
