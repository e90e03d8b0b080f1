"""M4 part 2 grids (seed 004 §3.3.4 and the left menu): 注册人员管理 (未注册人员管理, 注册人员综合查询,
单位注册人员统计) and 注册证书管理 (注册人员证书查询, 单位人员证书统计, 注册证书注销申请) for the unit,
scoped to the unit and its branches; 注销审核, 注册人员查询 and 注册人员统计 across units for
association staff. Each registration prints its publicity certificate 执业公示证书 with a QR code
that opens its public query result. Creating goes through ecqs.registry.registrations;
decisions through the engine."""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from ecqs.admin_views.base import RoleView, deny
from ecqs.admin_views.cells import masked, state_badge
from ecqs.admin_views.menu import CAT_REG_CERTS, CAT_REG_PEOPLE, CAT_REGISTRY_REVIEW
from ecqs.admin_views.registry import STAFF, UNIT, deadline_badge
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.licences import documents as licence_documents
from ecqs.models import (
    DEREGISTRATION_STATUS_LABELS,
    REGISTRATION_STATUS_LABELS,
    PractitionerDeregistration,
    PractitionerRegistration,
)
from ecqs.registry import public as registry_public
from ecqs.registry import registrations
from ecqs.registry.operations import RegistryError
from ecqs.services import workdays, xlsx_export

REGISTRATION_LABELS = {
    "number": _l("证书编号"),
    "person_name": _l("姓名"),
    "id_number": _l("身份证号"),
    "mobile": _l("电话号码"),
    "organization": _l("单位名称"),
    "items": _l("注册项目"),
    "registered_on": _l("注册日期"),
    "valid_until": _l("有效期至"),
    "status": _l("注册状态"),
    "deregistered_on": _l("注销日期"),
    "deregistration_reason": _l("注销原因"),
    "certificate": _l("执业公示证书"),
}


def items_formatter(view, context, model, name):
    return model.items_label


def certificate_link(view, context, model, name):
    url = view.get_url(".certificate_view", id=model.id)
    return Markup('<a href="{}" data-certificate="{}">{}</a>').format(url, model.number, _("打印证书"))


class _RegistrationBase(RoleView):
    """A grid of published registrations: read-only, exportable, with the certificate page."""

    primary_for_model = False
    can_create = False
    can_edit = False
    can_delete = False
    column_labels = REGISTRATION_LABELS
    column_list = (
        "number",
        "person_name",
        "id_number",
        "mobile",
        "organization",
        "items",
        "registered_on",
        "valid_until",
        "status",
        "certificate",
    )
    column_details_list = (
        "number",
        "person_name",
        "id_number",
        "mobile",
        "organization",
        "items",
        "registered_on",
        "valid_until",
        "status",
        "deregistered_on",
        "deregistration_reason",
        "certificate",
    )
    column_export_list = (
        "number",
        "person_name",
        "id_number",
        "mobile",
        "organization",
        "items",
        "registered_on",
        "valid_until",
        "status",
        "deregistered_on",
    )
    column_sortable_list = ("registered_on", "valid_until")
    column_searchable_list = ("person_name", "number")
    column_filters = ("status", "registered_on", "valid_until")
    column_choices = {"status": list(REGISTRATION_STATUS_LABELS.items())}
    column_default_sort = ("registered_on", True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "status": state_badge(),
            "id_number": masked("id_number", "id"),
            "mobile": masked("mobile", "mobile"),
            "items": items_formatter,
            "certificate": certificate_link,
        }
        self.column_formatters_detail = {
            "status": state_badge(),
            "items": items_formatter,
            "certificate": certificate_link,
        }
        self.column_formatters_export = {
            "items": items_formatter,
            "id_number": masked("id_number", "id"),
            "mobile": masked("mobile", "mobile"),
            "organization": lambda v, c, m, n: m.organization.name,
        }

    def restrict(self, query):
        return query

    def get_query(self):
        # A page's items and units in two queries, not one per row.
        reg = PractitionerRegistration
        query = self.restrict(super().get_query())
        return query.options(selectinload(reg.items), joinedload(reg.organization))

    def get_count_query(self):
        return self.restrict(super().get_count_query())

    @expose("/certificate/")
    def certificate_view(self):
        """执业公示证书: an A4 page with a QR code opening this registration's public result."""
        registration = self.get_one(request.args.get("id"))
        url = registry_public.certificate_url(registration)
        return self.render(
            "registry/print_certificate.html",
            registration=registration,
            row=registry_public.public_row(registration),
            verify_url=url,
            qr=licence_documents.qr_data_uri(url),
            back=self.get_url(".index_view"),
        )


class RegisteredPeopleView(_RegistrationBase):
    """注册人员综合查询: every registration of the unit and its branches, in any state."""

    roles = UNIT


class UnregisteredPeopleView(_RegistrationBase):
    """未注册人员管理: the unit's people whose registration has ended (deregistered or lapsed)."""

    roles = UNIT

    def restrict(self, query):
        reg = PractitionerRegistration
        return query.filter(or_(reg.status != "registered", reg.valid_until < workdays.today()))


class CertificateQueryView(_RegistrationBase):
    """注册人员证书查询: the unit's current publicity certificates, each printable."""

    roles = UNIT
    column_list = (
        "number",
        "person_name",
        "id_number",
        "items",
        "registered_on",
        "valid_until",
        "status",
        "certificate",
    )

    def restrict(self, query):
        return query.filter(PractitionerRegistration.status == "registered")


class StaffRegistrationView(_RegistrationBase):
    """注册人员查询 (association staff): every unit's registrations."""

    roles = STAFF
    primary_for_model = True


# ---- statistics ---------------------------------------------------------------------------


class RegistryStatsView(BaseView):
    """单位注册人员统计 / 单位人员证书统计: counts by status and by item of the unit (with its
    branches); staff see every unit (a row per unit) and the totals. Exportable."""

    def __init__(self, kind: str, roles: frozenset, **kwargs):
        self.kind = kind  # 'people' or 'items'
        self.roles = roles
        super().__init__(**kwargs)

    def is_accessible(self):
        user = current_user
        return user.is_authenticated and user.role in self.roles and user.org_approved

    def is_visible(self):
        return self.is_accessible()

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        deny(f"view:{self.endpoint}")
        return None

    def _unit_id(self):
        return None if current_user.role in STAFF else current_user.organization_id

    def _table(self) -> tuple[list[str], list[tuple]]:
        unit_id = self._unit_id()
        labels = REGISTRATION_STATUS_LABELS
        states = [str(labels["registered"]), str(labels["deregistered"])]
        if self.kind == "items":
            headers = [_("项目代码"), _("项目名称"), _("级别"), *states]
            return headers, registrations.counts_by_item(unit_id)
        if unit_id is None:
            headers = [_("单位名称"), _("统一社会信用代码"), *states]
            return headers, registrations.counts_by_unit()
        counts = registrations.counts_by_status(unit_id)
        headers = [_("注册状态"), _("人数")]
        return headers, [(str(label), counts.get(state, 0)) for state, label in labels.items()]

    @expose("/")
    def index(self):
        headers, rows = self._table()
        counts = registrations.counts_by_status(self._unit_id())
        totals = [(str(label), counts.get(state, 0)) for state, label in REGISTRATION_STATUS_LABELS.items()]
        return self.render(
            "registry/stats.html",
            title=self.name,
            headers=headers,
            rows=rows,
            totals=totals,
        )

    @expose("/export/")
    def export(self):
        headers, rows = self._table()
        return xlsx_export.xlsx_response(
            f"{self.name}_{datetime.now():%Y%m%d%H%M%S}.xlsx", headers, iter(rows), sheet_name=str(self.name)
        )


# ---- 注册证书注销申请 / 注销审核 ----------------------------------------------------------------

DEREGISTRATION_LABELS = {
    "number": _l("申请单号"),
    "organization": _l("单位名称"),
    "contact_name": _l("联系人"),
    "contact_phone": _l("联系电话"),
    "people_count": _l("注销人数"),
    "people": _l("注销人员"),
    "created_at": _l("注销申请日期"),
    "courier_number": _l("快递单号"),
    "scan_upload": _l("盖章申请表"),
    "status": _l("审核状态"),
    "reject_reason": _l("审核内容"),
    "submitted_at": _l("提交时间"),
    "deadline": _l("审核期限"),
    "decided_at": _l("审核时间"),
    "document": _l("注销申请表"),
}


def people_table(view, context, model, name):
    rows = Markup("").join(
        Markup(
            '<tr data-registration="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>'
        ).format(
            item.registration_id,
            item.registration.person_name,
            item.registration.id_number,
            item.registration.items_label,
            REGISTRATION_STATUS_LABELS[item.registration.status],
            item.reason,
        )
        for item in model.items
    )
    return Markup(
        '<table class="table table-sm table-bordered mb-0" id="deregistration-people"><thead><tr>'
        "<th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>"
    ).format(_("姓名"), _("身份证号"), _("注册项目"), _("注册状态"), _("注销原因"), rows)


def print_link(view, context, model, name):
    url = view.get_url(".print_view", id=model.id)
    return Markup('<a href="{}" id="print-deregistration">{}</a>').format(url, _("打印申请"))


class _DeregistrationBase(RoleView):
    can_edit = False
    file_fields = ("scan_upload",)
    column_labels = DEREGISTRATION_LABELS
    column_list = (
        "number",
        "contact_name",
        "contact_phone",
        "people_count",
        "created_at",
        "courier_number",
        "status",
        "reject_reason",
    )
    column_details_list = (
        "number",
        "organization",
        "contact_name",
        "contact_phone",
        "people",
        "created_at",
        "scan_upload",
        "courier_number",
        "status",
        "reject_reason",
        "submitted_at",
        "deadline",
        "decided_at",
        "document",
    )
    column_export_list = (
        "number",
        "organization",
        "contact_name",
        "contact_phone",
        "people_count",
        "created_at",
        "courier_number",
        "status",
        "reject_reason",
    )
    column_filters = ("status", "created_at")
    column_choices = {"status": list(DEREGISTRATION_STATUS_LABELS.items())}
    column_searchable_list = ("number", "courier_number")
    column_default_sort = ("created_at", True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "status": state_badge(),
            "people_count": lambda v, c, m, n: m.people_count,
            "deadline": deadline_badge(),
            "scan_upload": self.file_link("scan_upload"),
            "contact_phone": masked("contact_phone", "mobile"),
        }
        self.column_formatters_detail = {
            "status": state_badge(),
            "people": people_table,
            "deadline": deadline_badge(),
            "scan_upload": self.file_link("scan_upload"),
            "document": print_link,
        }
        self.column_formatters_export = {
            "people_count": lambda v, c, m, n: m.people_count,
            "organization": lambda v, c, m, n: m.organization.name,
            "contact_phone": masked("contact_phone", "mobile"),
        }

    @expose("/print/")
    def print_view(self):
        """打印申请: the request as a clean printable page with a stamp box."""
        request_row = self.get_one(request.args.get("id"))
        return self.render(
            "registry/print_deregistration.html",
            request_row=request_row,
            back=self.get_url(".details_view", id=request_row.id),
        )


class UnitDeregistrationView(_DeregistrationBase):
    """注册证书注销申请 (seed 004 §3.3.4): 申请注销 (select registered people, a reason each),
    打印申请, 上传申请表 (the stamped scan and the courier number), 删除申请 while 待提交."""

    roles = UNIT
    primary_for_model = False

    @property
    def can_create(self):
        org = current_user.organization
        return current_user.role == "unit" and org is not None and org.parent_id is None

    @property
    def can_delete(self):
        return self.can_create

    def delete_refusal(self, obj):
        if obj.status != "draft":
            return _("只能删除待提交的注销申请")
        return None

    def _candidates(self, name: str, id_number: str):
        """The unit's registered people (with its branches') that no open request names yet."""
        reg = PractitionerRegistration
        stmt = (
            select(reg)
            .where(
                registrations.unit_condition(reg.organization_id, current_user.organization_id),
                reg.status == "registered",
            )
            .order_by(reg.person_name, reg.id)
        )
        if name:
            stmt = stmt.where(reg.person_name == name)
        if id_number:
            stmt = stmt.where(reg.id_number == id_number.upper())
        rows = db.session.execute(stmt.limit(500)).scalars().all()
        taken = registrations.in_open_deregistration([r.id for r in rows])
        return [r for r in rows if r.id not in taken]

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if not self.can_create:
            deny(f"create:{self.endpoint}")
        name = (request.args.get("name") or "").strip()[:50]
        id_number = (request.args.get("id_number") or "").strip()[:18]
        chosen, reasons = set(), {}
        if request.method == "POST":
            chosen = set(request.form.getlist("registration_id"))
            reasons = {key: request.form.get(f"reason_{key}", "") for key in chosen}
            try:
                row = registrations.file_deregistration(
                    current_user,
                    reasons,
                    contact_name=request.form.get("contact_name"),
                    contact_phone=request.form.get("contact_phone"),
                )
                db.session.commit()
            except RegistryError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                flash(_("注销申请已创建，请打印申请表，加盖单位公章后上传"), "success")
                return redirect(self.get_url(".details_view", id=row.id))
        return self.render(
            "registry/deregistration_new.html",
            candidates=self._candidates(name, id_number),
            chosen=chosen,
            reasons=reasons,
            name=name,
            id_number=id_number,
            contact_name=request.form.get("contact_name") or current_user.real_name or "",
            contact_phone=request.form.get("contact_phone") or current_user.mobile or "",
            return_url=self.get_url(".index_view"),
        )


class DeregistrationReviewView(_DeregistrationBase):
    """注销审核 (association staff): approve (each person 已注销) or reject with a reason."""

    roles = STAFF
    can_create = False
    can_delete = False
    column_list = (
        "number",
        "organization",
        "people_count",
        "courier_number",
        "submitted_at",
        "deadline",
        "status",
    )

    def restrict(self, query):
        return query.filter(PractitionerDeregistration.status != "draft")

    def get_query(self):
        return self.restrict(super().get_query())

    def get_count_query(self):
        return self.restrict(super().get_count_query())


def register(admin) -> None:
    s = db.session
    reg = PractitionerRegistration
    for view_class, name, category, endpoint in (
        (UnregisteredPeopleView, _l("未注册人员管理"), CAT_REG_PEOPLE, "unit_unregistered"),
        (RegisteredPeopleView, _l("注册人员综合查询"), CAT_REG_PEOPLE, "unit_registered"),
        (CertificateQueryView, _l("注册人员证书查询"), CAT_REG_CERTS, "unit_certificates"),
        (StaffRegistrationView, _l("注册人员查询"), CAT_REGISTRY_REVIEW, "registrations"),
    ):
        admin.add_view(view_class(reg, s, name=name, category=category, endpoint=endpoint))
    for kind, roles, name, category, endpoint in (
        ("people", UNIT, _l("单位注册人员统计"), CAT_REG_PEOPLE, "unit_people_stats"),
        ("items", UNIT, _l("单位人员证书统计"), CAT_REG_CERTS, "unit_item_stats"),
        ("people", STAFF, _l("注册人员统计"), CAT_REGISTRY_REVIEW, "registration_stats"),
        ("items", STAFF, _l("注册证书统计"), CAT_REGISTRY_REVIEW, "registration_item_stats"),
    ):
        admin.add_view(RegistryStatsView(kind, roles, name=name, category=category, endpoint=endpoint))
    admin.add_view(
        UnitDeregistrationView(
            PractitionerDeregistration,
            s,
            name=_l("注册证书注销申请"),
            category=CAT_REG_CERTS,
            endpoint="unit_deregistrations",
        )
    )
    admin.add_view(
        DeregistrationReviewView(
            PractitionerDeregistration,
            s,
            name=_l("注销审核"),
            category=CAT_REGISTRY_REVIEW,
            endpoint="deregistration_review",
        )
    )
