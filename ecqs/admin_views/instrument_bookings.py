"""M1 bookings and institutions: 强检器具预约申请 (choose instruments, save or submit, receipt
回执信息, cancel), 预约受理 and 检定结果录入 for metrology institutions, 授权范围 /
计量技术机构授权, and the reviewers' read-only booking grid."""

from __future__ import annotations

from flask import flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from ecqs import access, workflows
from ecqs.admin_views.base import RoleView, deny
from ecqs.admin_views.cells import choice_formatter, state_badge
from ecqs.admin_views.instrument_filters import (
    DivisionFilter,
    DynamicFilterMixin,
    ItemStatusFilter,
    KindFilter,
    StatusFilter,
)
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.instruments import operations, rules
from ecqs.instruments import scopes as instrument_scopes
from ecqs.instruments import workflows as instrument_workflows
from ecqs.instruments.forms import AuthorizationForm
from ecqs.models import (
    BOOKING_ITEM_STATUS_LABELS,
    BOOKING_STATUS_LABELS,
    DELIVERY_MODE_LABELS,
    OPEN_ITEM_STATES,
    VERIFICATION_RESULT_LABELS,
    Booking,
    BookingItem,
    Instrument,
    InstrumentKind,
    MetrologyAuthorization,
    Organization,
)
from ecqs.services import audit, workdays

LEDGER_ROLES = instrument_scopes.LEDGER_ROLES
CHOOSER_PAGE_SIZE = 100  # seed 003 §4: the 选择器具 page shows at most 100 instruments
BOOKING_LABELS = {
    "number": _l("预约单号"),
    "organization": _l("使用单位"),
    "status": _l("预约单状态"),
    "item_count": _l("器具数量"),
    "contact_name": _l("联系人"),
    "contact_phone": _l("联系电话"),
    "remark": _l("备注"),
    "created_at": _l("创建时间"),
    "submitted_at": _l("提交时间"),
    "created_by": _l("创建人"),
}
ITEM_LABELS = {
    "booking": _l("预约单号"),
    "booking.organization": _l("使用单位"),
    "instrument.name": _l("器具名称"),
    "instrument.kind": _l("器具种别"),
    "instrument.model_spec": _l("型号规格"),
    "instrument.serial_no": _l("出厂编号"),
    "instrument.usage_division": _l("使用地点行政区划"),
    "instrument.usage_place": _l("安装/使用地点"),
    "instrument.delivery_mode": _l("送检方式"),
    "instrument.valid_until": _l("有效期至"),
    "institution": _l("计量技术机构"),
    "status": _l("流程状态"),
    "allocated_at": _l("分配时间"),
    "answered_at": _l("受理/退回时间"),
    "receipt_note": _l("受理说明"),
    "return_reason": _l("退回原因"),
    "result": _l("检定结论"),
    "certificate_no": _l("证书编号"),
    "verified_on": _l("检定日期"),
    "new_valid_until": _l("新有效期至"),
}


def delivery_arrangement(item: BookingItem) -> str:
    """回执信息 → 送检安排, from the instrument's 送检方式 and the institution's answer."""
    if item.institution is None:
        return _("暂无授权的计量技术机构，授权变更后将自动重新分配")
    if item.instrument.delivery_mode == "onsite":
        text = _("现场检定：请等待计量技术机构上门检定")
    else:
        text = _("送检：请按回执地址将器具送至计量技术机构")
    return f"{text}；{item.receipt_note}" if item.receipt_note else text


def available_instruments(user, q: str = "", kind_id: int | None = None):
    """In-use instruments of the user's enterprise that are in no open booking."""
    open_item = exists().where(
        BookingItem.instrument_id == Instrument.id, BookingItem.status.in_(OPEN_ITEM_STATES)
    )
    stmt = access.scoped(select(Instrument), Instrument, user).where(
        Instrument.status == "in_use", ~open_item
    )
    if q:
        like = f"%{q}%"
        stmt = stmt.where(Instrument.name.like(like) | Instrument.serial_no.like(like))
    if kind_id:
        stmt = stmt.where(Instrument.kind_id == kind_id)
    return stmt


# ---- 强检器具预约申请 --------------------------------------------------------------------------


class BookingView(RoleView):
    """预约单记录查询 with 新增, 预约单详情 (回执信息) and 取消预约."""

    roles = LEDGER_ROLES
    can_create = False  # the 新增预约单 page below replaces the generic form
    can_edit = False
    can_delete = True
    list_template = "instruments/booking_list.html"
    details_template = "instruments/booking_details.html"
    column_list = ("number", "status", "item_count", "created_at", "submitted_at")
    column_details_list = ("number", "organization", "status", "created_by", "created_at", "submitted_at")
    column_export_list = ("number", "organization", "status", "item_count", "created_at", "submitted_at")
    column_labels = BOOKING_LABELS
    column_choices = {"status": list(BOOKING_STATUS_LABELS.items())}
    column_default_sort = ("id", True)
    column_searchable_list = ("number",)
    simple_list_pager = True

    def __init__(self, *args, **kwargs):
        self.column_filters = [StatusFilter(Booking.status, BOOKING_STATUS_LABELS, _l("预约单状态"))]
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "status": state_badge(),
            "item_count": lambda v, c, m, n: len(self.visible_items(m)),
        }
        self.column_formatters_export = {
            "status": choice_formatter(BOOKING_STATUS_LABELS),
            "item_count": lambda v, c, m, n: len(self.visible_items(m)),
        }

    def visible_items(self, booking):
        """The booking's items this user may see (a reviewer: those in its province)."""
        return access.scoped_children(booking, "items", current_user)

    def is_accessible(self):
        return super().is_accessible() and instrument_scopes.instrument_org_id(current_user) is not None

    def available_transitions(self, obj):
        return [t for t in super().available_transitions(obj) if t.roles != workflows.SYSTEM]

    def item_transitions(self, item):
        return workflows.available(item, current_user)

    def item_state(self, item):
        return instrument_workflows.BOOKING_ITEM.state_label(item.status)

    def delivery_arrangement(self, item):
        return delivery_arrangement(item)

    # Only drafts may be deleted (their items go with them).
    def delete_refusal(self, obj):
        if obj.status != "draft":
            return _("预约单 %(number)s 已提交，不能删除", number=obj)
        return None

    def _draft(self, booking_id):
        booking = self.get_one(booking_id)
        if booking.status != "draft":
            flash(_("预约单已提交，不能再修改器具"), "error")
            return None
        return booking

    @expose("/choose/", methods=("GET", "POST"))
    def new_view(self):
        """新增预约单 - 选择器具: 100 per page, or every instrument matching the filter."""
        booking_id = request.values.get("booking_id", type=int)
        booking = None
        if booking_id:
            booking = self._draft(booking_id)
            if booking is None:
                return redirect(self.get_url(".details_view", id=booking_id))
        q = (request.values.get("q") or "").strip()[:60]
        kind_id = request.values.get("kind_id", type=int)
        stmt = available_instruments(current_user, q, kind_id)
        if request.method == "POST":
            return self._save_selection(booking, stmt)
        page = max(request.args.get("page", 1, type=int), 1)
        total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = (
            db.session.execute(
                # Overdue and due-soon first: the earliest 有效期至 leads, undated ones last.
                stmt.order_by(Instrument.valid_until.is_(None), Instrument.valid_until, Instrument.id)
                .offset((page - 1) * CHOOSER_PAGE_SIZE)
                .limit(CHOOSER_PAGE_SIZE)
            )
            .scalars()
            .all()
        )
        kinds = db.session.execute(select(InstrumentKind).order_by(InstrumentKind.code)).scalars().all()
        return self.render(
            "instruments/booking_new.html",
            booking=booking,
            rows=rows,
            total=total,
            page=page,
            pages=max((total + CHOOSER_PAGE_SIZE - 1) // CHOOSER_PAGE_SIZE, 1),
            q=q,
            kind_id=kind_id,
            kinds=kinds,
            page_size=CHOOSER_PAGE_SIZE,
            today=workdays.today(),
        )

    def _save_selection(self, booking, stmt):
        if request.form.get("select_all") == "1":
            ids = list(db.session.execute(stmt.with_only_columns(Instrument.id)).scalars())
        else:
            try:
                wanted = {int(i) for i in request.form.getlist("instrument_id")}
            except ValueError:
                return deny("booking:instrument_id", code=400)
            # Re-select through the scope: other enterprises' ids silently drop out.
            ids = (
                list(
                    db.session.execute(
                        stmt.with_only_columns(Instrument.id).where(Instrument.id.in_(wanted))
                    ).scalars()
                )
                if wanted
                else []
            )
        submit = request.form.get("action") == "submit"
        if not ids and (booking is None or not booking.items):
            flash(_("请至少选择一件器具"), "error")
            return redirect(request.full_path)
        if booking is None:
            booking = operations.create_booking(
                instrument_scopes.instrument_org_id(current_user), current_user
            )
        operations.add_instruments(booking, ids)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            flash(_("所选器具已在其他预约单中，请刷新后重新选择"), "error")
            return redirect(self.get_url(".index_view"))
        if not submit:
            flash(_("预约单已保存（待提交），共 %(n)d 件器具", n=len(booking.items)), "success")
            return redirect(self.get_url(".details_view", id=booking.id))
        return self._submit(booking)

    def _submit(self, booking):
        try:
            workflows.transition(booking, "submit", current_user, expected_state="draft")
            db.session.commit()
        except workflows.WorkflowError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(self.get_url(".details_view", id=booking.id))
        allocated = sum(1 for i in booking.items if i.status == "allocated")
        pending = sum(1 for i in booking.items if i.status == "pending")
        flash(_("预约申请已提交，%(n)d 件器具已分配至计量技术机构", n=allocated), "success")
        if pending:
            flash(
                _("%(n)d 件器具暂无授权的计量技术机构（待预约），授权变更后将自动重新分配", n=pending),
                "warning",
            )
        return redirect(self.get_url(".details_view", id=booking.id))

    @expose("/<int:booking_id>/submit/", methods=("POST",))
    def submit_view(self, booking_id):
        booking = self.get_one(booking_id)
        return self._submit(booking)

    @expose("/<int:booking_id>/remove/", methods=("POST",))
    def remove_items_view(self, booking_id):
        booking = self._draft(booking_id)
        if booking is None:
            return redirect(self.get_url(".details_view", id=booking_id))
        wanted = set(request.form.getlist("item_id"))
        removed = 0
        for item in list(booking.items):
            if str(item.id) in wanted:
                booking.items.remove(item)
                removed += 1
        audit.record("record_changed", user=current_user, obj=booking, comment=f"removed {removed} items")
        db.session.commit()
        flash(_("已移除 %(n)d 件器具", n=removed), "success")
        return redirect(self.get_url(".details_view", id=booking_id))

    @expose("/<int:booking_id>/cancel/", methods=("POST",))
    def cancel_items_view(self, booking_id):
        """取消预约: only allocated (待受理) items; unallocated ones cannot be cancelled yet."""
        booking = self.get_one(booking_id)
        wanted = set(request.form.getlist("item_id"))
        done, refused = 0, []
        for item in booking.items:
            if str(item.id) not in wanted:
                continue
            try:
                workflows.transition(item, "cancel", current_user)
                done += 1
            except workflows.WorkflowError as exc:
                refused.append(f"{item}: {exc}")
        db.session.commit()
        if done:
            flash(_("已取消 %(n)d 件器具的预约", n=done), "success")
        for message in refused[:10]:
            flash(message, "error")
        if not done and not refused:
            flash(_("请选择要取消预约的器具"), "error")
        return redirect(self.get_url(".details_view", id=booking_id))


class BookingSupervisionView(BookingView):
    """强检器具监管 → 预约单: reviewers read bookings in their province."""

    roles = frozenset({"reviewer", "admin"})
    primary_for_model = False
    can_delete = False
    column_list = ("number", "organization", "status", "item_count", "created_at", "submitted_at")

    def is_accessible(self):
        if not RoleView.is_accessible(self):
            return False
        return current_user.role == "admin" or access.reviewer_province(current_user) is not None

    def item_transitions(self, item):
        return []

    @expose("/choose/", methods=("GET", "POST"))
    def new_view(self):
        return deny(f"view:{self.endpoint}:new")

    @expose("/<int:booking_id>/submit/", methods=("POST",))
    def submit_view(self, booking_id):
        return deny(f"view:{self.endpoint}:submit")

    @expose("/<int:booking_id>/remove/", methods=("POST",))
    def remove_items_view(self, booking_id):
        return deny(f"view:{self.endpoint}:remove")

    @expose("/<int:booking_id>/cancel/", methods=("POST",))
    def cancel_items_view(self, booking_id):
        return deny(f"view:{self.endpoint}:cancel")


# ---- 预约受理 / 检定结果录入 (metrology institutions) ---------------------------------------------


class _ItemGrid(DynamicFilterMixin, RoleView):
    roles = frozenset({"metrology"})
    details_template = "instruments/item_details.html"
    column_list = (
        "booking",
        "booking.organization",
        "instrument.name",
        "instrument.kind",
        "instrument.serial_no",
        "instrument.usage_division",
        "instrument.usage_place",
        "instrument.delivery_mode",
        "status",
        "allocated_at",
    )
    column_details_list = (
        "booking",
        "booking.organization",
        "instrument.name",
        "instrument.kind",
        "instrument.model_spec",
        "instrument.serial_no",
        "instrument.usage_division",
        "instrument.usage_place",
        "instrument.delivery_mode",
        "instrument.valid_until",
        "institution",
        "status",
        "allocated_at",
        "answered_at",
        "receipt_note",
        "return_reason",
        "result",
        "certificate_no",
        "verified_on",
        "new_valid_until",
    )
    column_export_list = column_details_list
    column_labels = ITEM_LABELS
    column_choices = {
        "status": list(BOOKING_ITEM_STATUS_LABELS.items()),
        "result": list(VERIFICATION_RESULT_LABELS.items()),
    }
    column_default_sort = ("id", True)
    simple_list_pager = True
    can_create = False
    can_edit = False
    can_delete = False

    def __init__(self, *args, **kwargs):
        self.column_filters = [
            ItemStatusFilter(BookingItem.status),
            KindFilter(
                select(Instrument.kind_id).where(Instrument.id == BookingItem.instrument_id).scalar_subquery()
            ),
        ]
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "status": state_badge(),
            "instrument.delivery_mode": lambda v, c, m, n: DELIVERY_MODE_LABELS.get(
                m.instrument.delivery_mode, ""
            ),
            "result": choice_formatter(VERIFICATION_RESULT_LABELS),
        }
        self.column_formatters_export = {
            "status": choice_formatter(BOOKING_ITEM_STATUS_LABELS),
            "instrument.delivery_mode": lambda v, c, m, n: str(
                DELIVERY_MODE_LABELS.get(m.instrument.delivery_mode, "")
            ),
            "result": choice_formatter(VERIFICATION_RESULT_LABELS),
        }

    def available_transitions(self, obj):
        # The result has its own form (below); the generic button would carry no data.
        return [t for t in super().available_transitions(obj) if t.action != "record_result"]

    def result_form_allowed(self, obj):
        return workflows.can(obj, "record_result", current_user)


class AcceptanceView(_ItemGrid):
    """预约受理: items allocated to this institution; 受理 / 退回 one by one or in bulk."""

    list_template = "instruments/acceptance_list.html"
    # 退回 needs a reason: typed in the box above the grid, or asked on the bulk form page.
    bulk_input_actions = frozenset({"return"})
    bulk_confirm = {"return": _l("确定退回选中的器具吗？请先在上方填写退回原因。")}
    bulk_done = {"return": lambda n: _("已退回 %(n)d 件器具", n=n)}


# ---- 授权范围 ---------------------------------------------------------------------------------


AUTH_LABELS = {
    "institution": _l("计量技术机构"),
    "kind.item": _l("器具项别"),
    "kind": _l("器具种别"),
    "division": _l("授权区域"),
    "division_code": _l("行政区划代码"),
    "created_at": _l("授权时间"),
}


def metrology_institutions():
    return (
        db.session.execute(
            select(Organization).where(rules.approved_institution_condition()).order_by(Organization.name)
        )
        .scalars()
        .all()
    )


class AuthorizationView(DynamicFilterMixin, RoleView):
    """计量技术机构授权 (admins, reviewers within their province): kinds × divisions."""

    roles = frozenset({"admin", "reviewer"})
    can_edit = False
    can_create = True
    can_delete = True
    form = AuthorizationForm
    column_list = ("institution", "kind.item", "kind", "division", "division_code", "created_at")
    column_export_list = column_list
    column_labels = AUTH_LABELS
    column_default_sort = ("id", True)

    def __init__(self, *args, **kwargs):
        self.column_filters = [
            KindFilter(MetrologyAuthorization.kind_id),
            DivisionFilter(MetrologyAuthorization.division_code, _l("授权区域")),
        ]
        super().__init__(*args, **kwargs)

    def is_accessible(self):
        if not super().is_accessible():
            return False
        return current_user.role == "admin" or access.reviewer_province(current_user) is not None

    def create_form(self, obj=None):
        form = AuthorizationForm(request.form if request.method == "POST" else None)
        form.institution_id.choices = [(0, _("请选择"))] + [(o.id, o.name) for o in metrology_institutions()]
        form.kind_ids.choices = [
            (k.id, f"{k.item.name} / {k.name}（{k.code}）")
            for k in db.session.execute(select(InstrumentKind).order_by(InstrumentKind.code)).scalars()
        ]
        return form

    def create_model(self, form):
        institution = db.session.get(Organization, form.institution_id.data or 0)
        prefix = access.reviewer_province(current_user) if current_user.role == "reviewer" else ""
        kinds = [db.session.get(InstrumentKind, k) for k in form.kind_ids.data]
        try:
            created, allocated = operations.grant_authorisation(
                institution, kinds, form.division_code.data, current_user, province_prefix=prefix or ""
            )
            db.session.commit()
        except operations.OperationRefused as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return False
        if allocated:
            flash(_("已为 %(n)d 件待预约器具重新分配计量技术机构", n=allocated), "success")
        return created[0]

    def after_model_delete(self, model):
        instrument_workflows.retry_unallocated(current_user)
        db.session.commit()


class MyAuthorizationView(RoleView):
    """授权范围: the institution reads its own scope (maintained by admins and reviewers)."""

    roles = frozenset({"metrology"})
    primary_for_model = False
    can_create = False
    can_edit = False
    can_delete = False
    column_list = ("kind.item", "kind", "division", "division_code", "created_at")
    column_export_list = column_list
    column_labels = AUTH_LABELS


# ---- registration ----------------------------------------------------------------------------


def register_booking_views(admin, category) -> None:
    admin.add_view(
        BookingView(Booking, db.session, name=_l("强检器具预约申请"), category=category, endpoint="bookings")
    )


def register_supervision_views(admin, category) -> None:
    admin.add_view(
        BookingSupervisionView(
            Booking, db.session, name=_l("预约单"), category=category, endpoint="booking_supervision"
        )
    )


def register_institution_views(admin, verification_view) -> None:
    """预约受理, 检定结果录入 (`verification_view`, admin_views/verification_results.py),
    授权范围 and 计量技术机构授权, in this menu order."""
    s = db.session
    admin.add_view(AcceptanceView(BookingItem, s, name=_l("预约受理"), endpoint="booking_acceptance"))
    admin.add_view(
        verification_view(BookingItem, s, name=_l("检定结果录入"), endpoint="verification_results")
    )
    admin.add_view(
        MyAuthorizationView(MetrologyAuthorization, s, name=_l("授权范围"), endpoint="my_authorizations")
    )
    admin.add_view(
        AuthorizationView(MetrologyAuthorization, s, name=_l("计量技术机构授权"), endpoint="authorizations")
    )
