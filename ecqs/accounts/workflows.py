"""State tables of accounts and organisations: organisation review, enterprise links, and the
account itself (启用 ⇄ 停用)."""

from __future__ import annotations

from datetime import date

from ecqs.accounts.models import ACCOUNT_STATUS_LABELS
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import (
    LINK_STATUS_LABELS,
    ORG_ROLES,
    ORG_STATUS_LABELS,
    EnterpriseLink,
    Organization,
    User,
    utcnow,
)
from ecqs.services import workdays
from ecqs.workflows import (
    GuardFailed,
    Transition,
    Workflow,
    register,
)


def org_admins(org: Organization) -> list[User]:
    return [u for u in org.users if u.is_org_admin and u.active]


def _may_review_org(org: Organization, actor: User) -> bool:
    # Administrators review every organisation; the association reviews inspection units.
    return actor.role == "admin" or (actor.role == "association" and org.kind == "unit")


def _approve_org(org, actor, data):
    org.approved_at = utcnow()
    org.reject_reason = None


def _reject_org(org, actor, data):
    org.approved_at = None
    org.reject_reason = data["comment"]


def _resubmit_org(org, actor, data):
    org.submitted_at = utcnow()


def _notify_org(org, t, actor, comment):
    if t.action == "approve":
        title = _("您的单位“%(name)s”注册申请已审核通过", name=org.name)
    elif t.action == "reject":
        title = _("您的单位“%(name)s”注册申请被驳回：%(reason)s", name=org.name, reason=comment)
    else:
        return []
    return [(u, title, title) for u in org_admins(org)]


def _org_review_deadline(org) -> date | None:
    # Seed 003: staff review a new registration within two working days; seed 004: an
    # inspection unit's within three.
    days = 3 if org.kind == "unit" else 2
    return workdays.add_working_days(org.submitted_at, days) if org.submitted_at else None


ORGANIZATION_REVIEW = register(
    Workflow(
        name="organization_review",
        model=Organization,
        states=ORG_STATUS_LABELS,
        title=lambda org: _("单位注册审核：%(name)s", name=org.name),
        notify=_notify_org,
        deadline=_org_review_deadline,
        transitions=(
            Transition(
                "approve",
                _l("审核通过"),
                ("pending",),
                "approved",
                frozenset({"admin", "association"}),
                party=_may_review_org,
                effect=_approve_org,
                style="success",
            ),
            Transition(
                "reject",
                _l("驳回"),
                ("pending",),
                "rejected",
                frozenset({"admin", "association"}),
                party=_may_review_org,
                effect=_reject_org,
                needs_comment=True,
                style="danger",
            ),
            Transition(
                "resubmit",
                _l("修改后重新提交"),
                ("rejected",),
                "pending",
                ORG_ROLES,
                party=lambda org, actor: actor.organization_id == org.id and actor.is_org_admin,
                effect=_resubmit_org,
                bulk=False,
            ),
        ),
    )
)


def _link_party(link: EnterpriseLink, actor: User) -> bool:
    return actor.organization_id == link.organization_id and actor.is_org_admin and actor.org_approved


def _approve_link(link, actor, data):
    link.decided_at = utcnow()
    link.reject_reason = None


def _reject_link(link, actor, data):
    link.decided_at = utcnow()
    link.reject_reason = data["comment"]


def _approve_link_guard(link, actor, data):
    other = db.session.execute(
        db.select(EnterpriseLink).where(
            EnterpriseLink.person_id == link.person_id,
            EnterpriseLink.status == "approved",
            EnterpriseLink.id != link.id,
        )
    ).scalar()
    if other is not None:
        raise GuardFailed(_("该用户已关联企业“%(name)s”", name=other.organization.name))


def _notify_link(link, t, actor, comment):
    org = link.organization.name
    if t.action == "approve":
        title = _("您关联企业“%(name)s”的申请已通过", name=org)
    else:
        title = _("您关联企业“%(name)s”的申请被驳回：%(reason)s", name=org, reason=comment)
    return [(link.person, title, title)]


ENTERPRISE_LINK = register(
    Workflow(
        name="enterprise_link",
        model=EnterpriseLink,
        states=LINK_STATUS_LABELS,
        title=lambda link: _("关联企业申请：%(name)s", name=link.person.real_name or link.person.username),
        notify=_notify_link,
        transitions=(
            Transition(
                "approve",
                _l("通过"),
                ("pending",),
                "approved",
                frozenset({"enterprise"}),
                party=_link_party,
                guard=_approve_link_guard,
                effect=_approve_link,
                style="success",
            ),
            Transition(
                "reject",
                _l("驳回"),
                ("pending",),
                "rejected",
                frozenset({"enterprise"}),
                party=_link_party,
                effect=_reject_link,
                needs_comment=True,
                style="danger",
            ),
        ),
    )
)


def _may_switch_account(user: User, actor: User) -> bool:
    """Administrators switch any account; an organisation's administrator its sub-accounts."""
    if actor.role == "admin":
        return True
    return (
        actor.role in ORG_ROLES
        and actor.is_org_admin
        and not user.is_org_admin
        and user.organization_id is not None
        and user.organization_id == actor.organization_id
    )


def _reset_lockout(user, actor, data):
    # A re-enabled account starts with a clean slate of failed logins.
    user.failed_logins = 0
    user.locked_until = None


ACCOUNT = register(
    Workflow(
        name="account",
        model=User,
        field="account_status",
        states=ACCOUNT_STATUS_LABELS,
        title=lambda user: _("账号：%(name)s", name=user.username),
        colours={"active": "success", "disabled": "secondary"},
        transitions=(
            Transition(
                "disable",
                _l("停用账号"),
                ("active",),
                "disabled",
                frozenset({"admin"} | ORG_ROLES),
                party=_may_switch_account,
                bulk=False,
                todo=False,
                style="warning",
            ),
            Transition(
                "enable",
                _l("启用账号"),
                ("disabled",),
                "active",
                frozenset({"admin"} | ORG_ROLES),
                party=_may_switch_account,
                effect=_reset_lockout,
                bulk=False,
                todo=False,
                style="success",
            ),
        ),
    )
)
