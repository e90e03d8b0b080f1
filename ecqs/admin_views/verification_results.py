"""检定结果录入 (metrology institutions): accepted items; one result per item on its own form,
one result for several selected items (批量录入检定结果, a certificate number and 有效期至 per
item), or an .xlsx of results (template, all or nothing, error report). Every item goes through
the engine's 录入检定结果; the new 有效期至 is proposed from the kind's 检定周期."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, request
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user

from ecqs import workflows
from ecqs.admin_views.base import transition_form
from ecqs.admin_views.instrument_bookings import _ItemGrid
from ecqs.admin_views.xlsx_import_page import ErrorReportMixin, ImportLimitMixin, import_page
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.instruments import results as batch_results
from ecqs.models import VERIFICATION_RESULT_LABELS, BookingItem
from ecqs.services import workdays, xlsx_export

MAX_BATCH = 200  # items on one batch form


def _date(value) -> date | None:
    try:
        return date.fromisoformat((value or "").strip()) if (value or "").strip() else None
    except ValueError:
        return None


class VerificationView(ImportLimitMixin, ErrorReportMixin, _ItemGrid):
    """检定结果录入: accepted items; the result writes the new 有效期至 to the instrument."""

    # Not among the large-upload endpoints: its requests keep the global limit.
    import_limit_key = "MAX_CONTENT_LENGTH"
    import_template_name = "instruments/result_import.html"

    primary_for_model = False
    list_template = "instruments/verification_list.html"
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-check-square-o", ".result_view", title=_l("录入检定结果"))
    ]
    row_action_transitions = {".result_view": "record_result"}

    def init_actions(self):
        super().init_actions()
        self._actions = [a for a in self._actions if a[0] == "delete"]
        self._actions.append(("batch_result", _l("批量录入检定结果")))
        self._actions_data["batch_result"] = (self._batch_form, _l("批量录入检定结果"), None)

    def is_action_allowed(self, name):
        if name == "batch_result":
            return current_user.role == "metrology"
        return super().is_action_allowed(name)

    def get_query(self):
        return super().get_query().filter(BookingItem.status.in_(("accepted", "verified")))

    def get_count_query(self):
        return super().get_count_query().filter(BookingItem.status.in_(("accepted", "verified")))

    # ---- one item ------------------------------------------------------------------------

    @expose("/result/", methods=("GET", "POST"))
    def result_view(self):
        item = self.get_one(request.args.get("id", ""))
        t = self.workflow.get("record_result")
        form = transition_form(t, item, current_user, request.form if request.method == "POST" else None)
        if request.method == "POST":
            try:
                workflows.transition(
                    item,
                    t.action,
                    current_user,
                    expected_state="accepted",
                    **self.transition_inputs(item, t.action),
                )
                db.session.commit()
                flash(_("检定结果已录入"), "success")
                return redirect(self.get_url(".index_view"))
            except workflows.WorkflowError as exc:
                db.session.rollback()
                flash(str(exc), "error")
        else:
            today = workdays.today()
            form.verified_on.data = today
            form.valid_until.data = batch_results.proposed_valid_until(item, today)
        return self.render("instruments/result_form.html", item=item, form=form)

    # ---- several items, one result ---------------------------------------------------------

    def _batch_rows(self, ids):
        rows = self.scoped_rows(ids)
        self._refuse_out_of_scope(ids, rows, "batch_result")
        return rows

    def _render_batch(self, rows, values, return_url):
        today = workdays.today()
        verified_on = _date(values.get("verified_on")) or today
        return self.render(
            "instruments/result_batch.html",
            rows=rows,
            values=values,
            verified_on=verified_on,
            proposal={r.id: batch_results.proposed_valid_until(r, verified_on) for r in rows},
            results=list(VERIFICATION_RESULT_LABELS.items()),
            return_url=return_url,
        )

    def _batch_form(self, ids):
        """The grid action: the selected items on one form (only accepted ones can be recorded)."""
        rows = self._batch_rows(ids)
        db.session.commit()  # the audit of ids out of scope
        waiting = [r for r in rows if r.status == "accepted"]
        for r in rows:
            if r.status != "accepted":
                flash(_("%(item)s：%(state)s，不能录入检定结果", item=r, state=self.item_state(r)), "error")
        if not waiting:
            return redirect(get_redirect_target() or self.get_url(".index_view"))
        if len(waiting) > MAX_BATCH:
            flash(_("一次最多录入 %(n)d 件器具", n=MAX_BATCH), "error")
            return redirect(self.get_url(".index_view"))
        return self._render_batch(waiting, {}, get_redirect_target() or self.get_url(".index_view"))

    def item_state(self, item):
        return self.workflow.state_label(item.status)

    @expose("/batch/", methods=("POST",))
    def batch_view(self):
        """Record the batch form: all or nothing, each item through the engine."""
        ids = request.form.getlist("rowid")[:MAX_BATCH]
        rows = self._batch_rows(ids)
        db.session.commit()  # the audit of ids out of scope, before anything is recorded
        return_url = get_redirect_target() or self.get_url(".index_view")
        values = request.form
        result = values.get("result")
        verified_on = _date(values.get("verified_on"))
        entries, errors = [], []
        for r in rows:
            raw_until = (values.get(f"valid_until_{r.id}") or "").strip()
            until = _date(raw_until)
            if raw_until and until is None:
                errors.append(_("%(item)s：有效期至不是有效日期", item=r))
            entries.append(
                batch_results.ResultRow(
                    r,
                    (values.get(f"certificate_no_{r.id}") or "").strip(),
                    until,
                    version=values.get(f"version_{r.id}") or None,
                )
            )
        if not rows:
            errors.append(_("请选择要录入检定结果的器具"))
        if result not in VERIFICATION_RESULT_LABELS:
            errors.append(_("请选择检定结论（合格/不合格）"))
        if verified_on is None:
            errors.append(_("请填写检定日期"))
        errors += [f"{e.item}：{message}" for e, message in batch_results.check_certificate_numbers(entries)]
        if not errors:
            errors = batch_results.record_all(entries, result, verified_on, current_user)
        if errors:
            db.session.rollback()
            flash(_("检定结果未录入（全部未保存），请修改后重新提交"), "error")
            for message in errors[:20]:
                flash(message, "error")
            rows = self.scoped_rows(ids)
            return self._render_batch([r for r in rows if r.status == "accepted"], values, return_url)
        db.session.commit()
        flash(_("已录入 %(n)d 件器具的检定结果", n=len(rows)), "success")
        return redirect(return_url)

    # ---- .xlsx ------------------------------------------------------------------------------

    @expose("/import/", methods=("GET", "POST"))
    def import_view(self):
        return import_page(
            self,
            lambda data: batch_results.import_xlsx(data, current_user),
            template="instruments/result_import.html",
            action="result_import",
            object_type="BookingItem",
            summary=lambda r: (f"{r.added} results", _("导入成功，共录入 %(n)d 件器具的检定结果", n=r.added)),
        )

    @expose("/import/template/")
    def import_template(self):
        return xlsx_export.file_response(
            "检定结果导入模板.xlsx", lambda path: batch_results.write_template(path, current_user)
        )
