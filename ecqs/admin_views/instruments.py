"""M1 grids: the enterprise's 强检器具台账 (with copy, import, expiry colours), the reviewers'
read-only 强检器具监管 with statistics, and the administrators' 强检器具目录 (with import).

register(admin) adds every M1 view (bookings and institutions live in instrument_bookings.py)."""

from __future__ import annotations

from flask import current_app, request
from flask_admin import expose
from flask_admin.model.template import DeleteRowAction, EndpointLinkRowAction
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased, joinedload
from wtforms import StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ecqs import access
from ecqs.admin_views import instrument_bookings, list_rows, verification_results
from ecqs.admin_views.base import RoleView
from ecqs.admin_views.cells import choice_formatter, state_badge
from ecqs.admin_views.instrument_filters import (
    DivisionFilter,
    DynamicFilterMixin,
    ExpiryFilter,
    ItemFilter,
    KindFilter,
    StatusFilter,
)
from ecqs.admin_views.menu import CAT_INSTRUMENTS, CAT_SUPERVISION, CAT_SYSTEM
from ecqs.admin_views.xlsx_import_page import ErrorReportMixin, ImportLimitMixin, import_page
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.instruments import catalogue as instrument_catalogue
from ecqs.instruments import ledger_import as instrument_import
from ecqs.instruments import ledger_rows
from ecqs.instruments import scopes as instrument_scopes
from ecqs.instruments.forms import InstrumentEditForm, InstrumentForm
from ecqs.models import (
    DELIVERY_MODE_LABELS,
    EXPIRY_WARNING_DAYS,
    INSTRUMENT_ORIGIN_LABELS,
    INSTRUMENT_PURPOSE_LABELS,
    INSTRUMENT_STATUS_LABELS,
    INSTRUMENT_TYPE_LABELS,
    BookingItem,
    Division,
    Instrument,
    InstrumentItem,
    InstrumentKind,
    MetrologyAuthorization,
    Organization,
)
from ecqs.services import workdays, xlsx_export

LEDGER_ROLES = instrument_scopes.LEDGER_ROLES
INSTRUMENT_LABELS = {
    "id": _l("编号"),
    "organization": _l("使用单位"),
    "organization.name": _l("使用单位"),
    "organization.uscc": _l("统一社会信用代码"),
    "name": _l("器具名称"),
    "instrument_type": _l("器具类型"),
    "kind.item": _l("器具项别"),
    "kind": _l("器具种别"),
    "kind.code": _l("种别代码"),
    "model_spec": _l("型号规格"),
    "measuring_range": _l("测量范围"),
    "accuracy_class": _l("准确度等级"),
    "serial_no": _l("出厂编号"),
    "manufacturer": _l("生产厂家"),
    "origin": _l("器具产地"),
    "usage_division": _l("使用地点行政区划"),
    "usage_division_code": _l("行政区划代码"),
    "usage_place": _l("安装/使用地点"),
    "purchase_date": _l("购置时间"),
    "quantity": _l("器具数量"),
    "purpose": _l("器具用途"),
    "delivery_mode": _l("送检方式"),
    "valid_until": _l("有效期至"),
    "status": _l("状态"),
    "created_at": _l("录入时间"),
}
INSTRUMENT_CHOICES = {
    "instrument_type": list(INSTRUMENT_TYPE_LABELS.items()),
    "origin": list(INSTRUMENT_ORIGIN_LABELS.items()),
    "purpose": list(INSTRUMENT_PURPOSE_LABELS.items()),
    "delivery_mode": list(DELIVERY_MODE_LABELS.items()),
    "status": list(INSTRUMENT_STATUS_LABELS.items()),
}
DETAIL_COLUMNS = (
    "name",
    "instrument_type",
    "kind.item",
    "kind",
    "model_spec",
    "measuring_range",
    "accuracy_class",
    "serial_no",
    "manufacturer",
    "origin",
    "usage_division",
    "usage_place",
    "purchase_date",
    "quantity",
    "purpose",
    "delivery_mode",
    "valid_until",
    "status",
)
EXPORT_COLUMNS = (
    "name",
    "instrument_type",
    "kind.item",
    "kind",
    "kind.code",
    "model_spec",
    "measuring_range",
    "accuracy_class",
    "serial_no",
    "manufacturer",
    "origin",
    "usage_division",
    "usage_division_code",
    "usage_place",
    "purchase_date",
    "quantity",
    "purpose",
    "delivery_mode",
    "valid_until",
    "status",
)


def _expiry_page():
    """What the expiry cells of a page share: today and the two warnings' markup around the
    date (their titles translated once: escaped, the date is digits)."""
    overdue = escape(_("已超期，请发起检定申请"))
    due_soon = escape(_("%(n)d 天内到期", n=EXPIRY_WARNING_DAYS))
    return (
        workdays.today(),
        f'<span class="text-danger font-weight-bold" data-row-class="row-overdue" title="{overdue}">',
        f'<span class="font-weight-bold" data-row-class="row-due-soon" title="{due_soon}">',
    )


def expiry_formatter(view, context, model, name):
    """Yellow when due within 30 days, red when overdue (seed 002 §3); the row takes the colour.
    Today and the titles once a request: a ledger page formats up to twenty of these."""
    if model.valid_until is None:
        return ""
    today, overdue, due_soon = list_rows.request_memo("_ecqs_expiry_page", None, _expiry_page)
    state = model.expiry_state(today)
    if state == "overdue":
        return Markup(f"{overdue}{model.valid_until.isoformat()}</span>")  # noqa: S704 (see _expiry_page)
    if state == "due_soon":
        return Markup(f"{due_soon}{model.valid_until.isoformat()}</span>")  # noqa: S704 (see _expiry_page)
    return model.valid_until.isoformat()


LARGE_UPLOAD_ENDPOINTS = frozenset({"instruments.import_view", "instrument_kinds.import_view"})


MULTIPART_OVERHEAD = 64 * 1024


def import_request_limit() -> int:
    """The body limit of an import request: the file limit plus room for the multipart envelope,
    so that a file just over the limit gets read_upload's Chinese message."""
    return current_app.config["IMPORT_MAX_BYTES"] + MULTIPART_OVERHEAD


def _raise_upload_limit():
    """The imports accept IMPORT_MAX_BYTES (20 MB) while every other request keeps the global
    5 MB. Runs before CSRF protection, which reads the form (and so enforces the limit) first."""
    if request.endpoint in LARGE_UPLOAD_ENDPOINTS and request.method == "POST":
        request.max_content_length = import_request_limit()


def export_query(query, names: list[str]):
    """The grid's query selecting the export columns `names`, each one computed in SQL."""
    kind, item = aliased(InstrumentKind), aliased(InstrumentItem)
    county, city, province = aliased(Division), aliased(Division), aliased(Division)

    def label(labels: dict, column):
        return case({k: str(v) for k, v in labels.items()}, value=column, else_=column)

    # Division.full_name in SQL: province + city (unless 市辖区/县) + the division itself.
    city_part = case((city.name.in_(("市辖区", "县")), ""), else_=func.coalesce(city.name, ""))
    full_division = func.coalesce(province.name, "") + city_part + county.name
    expressions = {
        "instrument_type": label(INSTRUMENT_TYPE_LABELS, Instrument.instrument_type),
        "origin": label(INSTRUMENT_ORIGIN_LABELS, Instrument.origin),
        "purpose": label(INSTRUMENT_PURPOSE_LABELS, Instrument.purpose),
        "delivery_mode": label(DELIVERY_MODE_LABELS, Instrument.delivery_mode),
        "status": label(INSTRUMENT_STATUS_LABELS, Instrument.status),
        "kind": kind.name,
        "kind.code": kind.code,
        "kind.item": item.name,
        "usage_division": full_division,
        "organization": Organization.name,
        "organization.name": Organization.name,
        "organization.uscc": Organization.uscc,
    }
    selected = [expressions.get(n) if n in expressions else getattr(Instrument, n) for n in names]
    rows = (
        query.with_entities(*selected)
        .join(kind, kind.id == Instrument.kind_id)
        .join(item, item.id == kind.item_id)
        .join(county, county.code == Instrument.usage_division_code)
        .outerjoin(city, city.code == county.parent_code)
        .outerjoin(province, province.code == city.parent_code)
    )
    if any(n.startswith("organization") for n in names):
        rows = rows.join(Organization, Organization.id == Instrument.organization_id)
    return rows


def ever_booked(instrument_ids) -> set[int]:
    ids = list(instrument_ids)
    if not ids:
        return set()
    return set(
        db.session.execute(
            select(BookingItem.instrument_id).where(BookingItem.instrument_id.in_(ids)).distinct()
        ).scalars()
    )


class _InstrumentGrid(DynamicFilterMixin, RoleView):
    """Shared configuration of the ledger and the supervision grid."""

    list_template = "instruments/ledger_list.html"
    details_template = "instruments/instrument_details.html"
    column_labels = INSTRUMENT_LABELS
    column_choices = INSTRUMENT_CHOICES
    column_details_list = DETAIL_COLUMNS
    column_export_list = EXPORT_COLUMNS
    column_default_sort = ("id", True)
    column_searchable_list = ("name", "serial_no", "manufacturer", "usage_place")
    column_sortable_list = ("name", "serial_no", "valid_until", "purchase_date", "id")
    simple_list_pager = True  # no count(*) over a million-row table on every page
    page_size = 20

    def __init__(self, *args, **kwargs):
        self.column_filters = [
            ItemFilter(),
            KindFilter(),
            DivisionFilter(),
            StatusFilter(),
            ExpiryFilter(),
        ]
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "valid_until": expiry_formatter,
            "status": state_badge(),
            "instrument_type": choice_formatter(INSTRUMENT_TYPE_LABELS),
            "origin": choice_formatter(INSTRUMENT_ORIGIN_LABELS),
            "purpose": choice_formatter(INSTRUMENT_PURPOSE_LABELS),
            "delivery_mode": choice_formatter(DELIVERY_MODE_LABELS),
        }
        self.column_formatters_detail = dict(self.column_formatters)

    def get_empty_list_message(self):
        return _("暂无器具信息")

    # The page's rows as light records of what it shows (instruments/ledger_rows.py), not ORM
    # instruments; False: the ORM's (tests/instruments/test_ledger_rows.py compares the two).
    light_list_rows = True

    def page_rows(self, page_query, count=None):
        if self.light_list_rows:
            columns = [column for column, _label in self._list_columns]
            found = ledger_rows.page_rows(self.session, page_query, columns, count)
            if found is not None:
                return found
        return super().page_rows(page_query, count)

    # ---- export: the filtered query as plain rows, names from small lookup tables ----------

    def iter_export_rows(self, columns):
        """Same filter, search and order as the grid, but every cell computed by the database
        (labels, catalogue names, division names): rows go straight to XlsxWriter without ORM
        objects or per-cell Python, so a 100,000-row export stays close to XlsxWriter's speed."""
        names = [name for name, _label in columns]
        yield from export_query(self.export_list_query(), names).yield_per(5000).tuples()


class InstrumentLedgerView(ImportLimitMixin, ErrorReportMixin, _InstrumentGrid):
    """强检器具台账维护: the enterprise (and linked persons) maintain their own instruments."""

    roles = LEDGER_ROLES
    can_create = True
    can_edit = True
    can_delete = True
    form = InstrumentForm
    edit_template = "instruments/instrument_edit.html"
    create_template = "instruments/instrument_create.html"
    column_list = ledger_rows.LEDGER_COLUMNS
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-copy", ".create_view", title=_l("复制"), id_arg="copy_from")
    ]

    def is_accessible(self):
        return super().is_accessible() and instrument_scopes.instrument_org_id(current_user) is not None

    # The names the page shows (catalogue item, division with its city and province) come with
    # the page's one query instead of three lazy loads while the template renders. Built once:
    # loader options are immutable, and building them costs as much as a page's row buttons.
    # Only these: Flask-Admin's automatic joins of the listed relations (kind, division) would
    # build the same two joins again on every request.
    column_auto_select_related = False
    _page_loads = (
        joinedload(Instrument.kind).joinedload(InstrumentKind.item),
        joinedload(Instrument.usage_division).joinedload(Division.parent).joinedload(Division.parent),
    )

    def get_query(self):
        return super().get_query().options(*self._page_loads)

    def get_list_row_actions(self):
        # Deleting goes through the bulk action or the details page: a delete form on each of
        # the rows is the most expensive part of rendering the grid.
        return [
            a
            for a in super().get_list_row_actions()
            if not isinstance(getattr(a, "inner", a), DeleteRowAction)
        ]

    def get_create_form(self):
        return InstrumentForm

    def get_edit_form(self):
        return InstrumentEditForm

    def create_form(self, obj=None):
        source_id = request.args.get("copy_from")
        if request.method == "GET" and source_id:
            # 复制: a new row pre-filled from one of our own rows, the serial cleared.
            source = self.get_one(source_id)
            form = InstrumentForm(obj=source)
            form.serial_no.data = ""
            return form
        return super().create_form(obj)

    def on_model_change(self, form, model, is_created):
        org_id = instrument_scopes.instrument_org_id(current_user)
        if is_created:
            model.organization_id = org_id
            model.created_by_id = current_user.id
        with db.session.no_autoflush:
            clash = db.session.execute(
                select(Instrument.id).where(
                    Instrument.organization_id == model.organization_id,
                    Instrument.kind_id == model.kind_id,
                    Instrument.serial_no == model.serial_no,
                    Instrument.id != (model.id or 0),
                )
            ).first()
        if clash:
            raise ValidationError(_("同一种别下出厂编号“%(serial)s”已存在", serial=model.serial_no))
        super().on_model_change(form, model, is_created)

    def edit_refusal(self, obj):
        if obj.status == "scrapped":
            return _("已报废的器具不能修改")
        return None

    def delete_refusal(self, obj):
        if ever_booked([obj.id]):
            return _("器具“%(name)s”已有预约记录，不能删除，请改为报废", name=obj)
        return None

    # ---- 导入 -----------------------------------------------------------------------------

    @expose("/import/", methods=("GET", "POST"))
    def import_view(self):
        request.max_content_length = import_request_limit()
        org_id = instrument_scopes.instrument_org_id(current_user)
        return import_page(
            self,
            lambda data: instrument_import.import_file(data, current_user, org_id),
            template="instruments/import.html",
            action="instrument_import",
            object_type="Instrument",
            summary=lambda r: (None, _("导入成功，共导入 %(n)d 条器具信息", n=r.added)),
        )

    @expose("/import/template/")
    def import_template(self):
        return xlsx_export.file_response("强制检定器具信息导入模板.xlsx", instrument_import.write_template)


class InstrumentSupervisionView(_InstrumentGrid):
    """强检器具监管 → 器具台账: reviewers see their province's instruments read-only."""

    roles = frozenset({"reviewer", "admin"})
    primary_for_model = False
    can_create = False
    can_edit = False
    can_delete = False
    column_list = (
        "organization",
        "name",
        "kind",
        "serial_no",
        "usage_division",
        "usage_place",
        "valid_until",
        "status",
    )
    column_details_list = ("organization", "organization.uscc", *DETAIL_COLUMNS)
    column_export_list = ("organization.name", "organization.uscc", *EXPORT_COLUMNS)
    column_searchable_list = ("name", "serial_no", "manufacturer")

    def is_accessible(self):
        if not super().is_accessible():
            return False
        return current_user.role == "admin" or access.reviewer_province(current_user) is not None


# ---- 强检器具目录 (administrators) ----------------------------------------------------------


def _check_catalogue_code(model, taken_message: str) -> None:
    """A 项别/种别 code typed in the grid: the catalogue's code format, not used by another row."""
    if not instrument_catalogue.CODE_RE.match(model.code or ""):
        raise ValidationError(_("代码只能由字母、数字、点和短横线组成（不超过 20 位）"))
    cls = type(model)
    with db.session.no_autoflush:
        clash = db.session.execute(
            select(cls.id).where(cls.code == model.code, cls.id != (model.id or 0))
        ).first()
    if clash:
        raise ValidationError(taken_message)


class InstrumentItemView(RoleView):
    """强检器具项别."""

    roles = frozenset({"admin"})
    column_list = ("code", "name")
    column_export_list = ("code", "name")
    column_labels = {"code": _l("项别代码"), "name": _l("项别名称"), "kinds": _l("种别")}
    column_searchable_list = ("code", "name")
    column_default_sort = "code"
    form_columns = ("code", "name")
    form_args = {
        "code": {"validators": [DataRequired(), Length(max=20)]},
        "name": {"validators": [DataRequired(), Length(max=100)]},
    }
    form_overrides = {"code": StringField, "name": StringField}

    def on_model_change(self, form, model, is_created):
        _check_catalogue_code(model, _("项别代码“%(code)s”已存在", code=model.code))
        super().on_model_change(form, model, is_created)

    def delete_refusal(self, obj):
        if obj.kinds:
            return _("项别“%(name)s”下还有种别，不能删除", name=obj.name)
        return None


class InstrumentKindView(ImportLimitMixin, ErrorReportMixin, RoleView):
    """强检器具目录: 项别 → 种别 with codes; maintained here and by .xlsx import."""

    roles = frozenset({"admin"})
    list_template = "instruments/catalogue_list.html"
    import_template_name = "instruments/catalogue_import.html"
    column_list = (
        "item.code",
        "item",
        "code",
        "name",
        "type_approval",
        "compulsory_verification",
        "verification_period_months",
    )
    column_export_list = column_list
    column_labels = {
        "item": _l("项别"),
        "item.code": _l("项别代码"),
        "code": _l("种别代码"),
        "name": _l("种别"),
        "type_approval": _l("监管方式"),
        "compulsory_verification": _l("强制检定方式"),
        "verification_period_months": _l("检定周期（月）"),
    }
    column_searchable_list = ("code", "name")
    column_default_sort = "code"
    form_columns = (
        "item",
        "code",
        "name",
        "type_approval",
        "compulsory_verification",
        "verification_period_months",
    )
    form_args = {
        "code": {"validators": [DataRequired(), Length(max=20)]},
        "name": {"validators": [DataRequired(), Length(max=100)]},
        "item": {"validators": [DataRequired()]},
        "verification_period_months": {
            "validators": [Optional(), NumberRange(min=1, max=240, message=_l("检定周期应为 1 至 240 个月"))]
        },
    }
    form_overrides = {"code": StringField, "name": StringField}
    page_size = 50

    def on_model_change(self, form, model, is_created):
        _check_catalogue_code(model, _("种别代码“%(code)s”已存在", code=model.code))
        super().on_model_change(form, model, is_created)

    def _in_use(self, kind_ids) -> set[int]:
        ids = list(kind_ids)
        used = set(
            db.session.execute(
                select(Instrument.kind_id).where(Instrument.kind_id.in_(ids)).distinct()
            ).scalars()
        )
        used |= set(
            db.session.execute(
                select(MetrologyAuthorization.kind_id)
                .where(MetrologyAuthorization.kind_id.in_(ids))
                .distinct()
            ).scalars()
        )
        return used

    def delete_refusal(self, obj):
        if self._in_use([obj.id]):
            return _("种别“%(name)s”已被台账或授权使用，不能删除", name=obj.name)
        return None

    @expose("/import/", methods=("GET", "POST"))
    def import_view(self):
        request.max_content_length = import_request_limit()
        return import_page(
            self,
            instrument_catalogue.import_xlsx,
            template="instruments/catalogue_import.html",
            action="catalogue_import",
            object_type="InstrumentKind",
            summary=lambda r: (
                f"items+{r.items_added} kinds+{r.kinds_added} updated {r.updated}",
                _(
                    "导入成功：新增项别 %(items)d 个、种别 %(kinds)d 个，更新 %(updated)d 条",
                    items=r.items_added,
                    kinds=r.kinds_added,
                    updated=r.updated,
                ),
            ),
        )

    @expose("/import/template/")
    def import_template(self):
        return xlsx_export.file_response("强检器具目录.xlsx", instrument_catalogue.write_template)


def register(admin) -> None:
    """Add every M1 view to the admin (create_app registers the public blueprint and the hook)."""
    s = db.session
    admin.add_view(
        InstrumentLedgerView(
            Instrument, s, name=_l("强检器具台账维护"), category=CAT_INSTRUMENTS, endpoint="instruments"
        )
    )
    instrument_bookings.register_booking_views(admin, CAT_INSTRUMENTS)
    admin.add_view(
        InstrumentSupervisionView(
            Instrument, s, name=_l("器具台账"), category=CAT_SUPERVISION, endpoint="instrument_supervision"
        )
    )
    instrument_bookings.register_supervision_views(admin, CAT_SUPERVISION)
    instrument_bookings.register_institution_views(admin, verification_results.VerificationView)
    admin.add_view(
        InstrumentKindView(
            InstrumentKind, s, name=_l("强检器具目录"), category=CAT_SYSTEM, endpoint="instrument_kinds"
        )
    )
    admin.add_view(
        InstrumentItemView(
            InstrumentItem, s, name=_l("强检器具项别"), category=CAT_SYSTEM, endpoint="instrument_items"
        )
    )


__all__ = ["register"]
