"""RoleView: the one base view that owns access, row scoping, workflow actions, the timeline,
file downloads and xlsx export. Per-area views are configuration.

It closes every Flask-Admin trap listed in ARCHITECTURE.md: get_one, actions, inline edit,
relation fields, count, export and CSV all go through `access.scoped`."""

from __future__ import annotations

import logging
from datetime import date, datetime

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin import babel as admin_babel
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import FilterConverter
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.helpers import get_redirect_target
from flask_admin.model import template as row_template
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup, escape
from sqlalchemy.exc import IntegrityError
from wtforms import DateField, FileField, Form, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional, ValidationError

from ecqs import access, workflows
from ecqs.admin_views import list_page, list_rows
from ecqs.admin_views.admin_wording import (
    ADMIN_CONTEXT_FUNCTIONS,
    admin_gettext,
    admin_ngettext,
    reword_admin_flashes,
)
from ecqs.admin_views.cells import TYPE_FORMATTERS
from ecqs.admin_views.list_rows import AllowedRowAction, FormOnUse
from ecqs.extensions import babel, db
from ecqs.folded_templates import folded_template
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import ROLE_LABELS
from ecqs.services import audit, exports, grid_counts, uploads, xlsx_export

log = logging.getLogger("ecqs.views")

# Registry model -> endpoint of its main view, for links from the inbox.
MODEL_ENDPOINTS: dict[type, str] = {}

WORKFLOW_OWNED = (
    "status",
    "version",
    "approved_at",
    "reject_reason",
    "submitted_at",
    "decided_at",
    "created_at",
)


def _in_bigint_range(value: int) -> bool:
    return -(2**63) <= value < 2**63


def endpoint_for_model(model: type) -> str | None:
    return MODEL_ENDPOINTS.get(model)


def deny(reason: str, obj=None, code: int = 403):
    """Log a denied attempt in the audit trail and answer 403/404."""
    audit.record_now(
        "access_denied",
        user=current_user if current_user.is_authenticated else None,
        obj=obj,
        object_type=None if obj is not None else reason,
        comment=f"{request.method} {request.path}",
    )
    abort(code)


class TZFilterConverter(FilterConverter):
    """Our timezone-aware timestamp type filters like a DateTime."""

    def __init__(self):
        super().__init__()
        self.converters["tzdatetime"] = self.converters["datetime"]


class TZModelConverter(AdminModelConverter):
    def __init__(self, session, view):
        super().__init__(session, view)
        self.converters["TZDateTime"] = self.converters["DateTime"]


class AccessDeniedMixin:
    """The one answer to someone who may not open a view: anonymous → the login page; a user
    whose organisation is not approved yet → home with a notice (views that require it); anyone
    else → 403, written to the audit trail."""

    require_approved_org = False

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        if self.require_approved_org and not access.business_user(current_user):
            flash(_("您的单位尚未通过审核，暂不能使用业务功能"), "warning")
            return redirect(url_for("admin.index"))
        deny(f"view:{self.endpoint}")
        return None


class OwnPageView(BaseView):
    """A page of 个人中心 that every signed-in user opens, each seeing only their own records;
    anyone else is sent to the login page."""

    roles = frozenset(ROLE_LABELS)

    def is_accessible(self):
        return current_user.is_authenticated and current_user.role in self.roles

    def is_visible(self):
        return self.is_accessible()

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.full_path))


FIELD_CLASSES = {
    "text": StringField,
    "textarea": TextAreaField,
    "date": DateField,
    "choice": SelectField,
    "int": IntegerField,
    "file": FileField,
}


def transition_form(t, obj, actor, formdata=None):
    """A WTForms form built from a transition's declared Fields, for pages that lay the inputs
    out as a form (检定结果录入). It only renders and keeps the posted values: the engine parses
    and validates them from the same definition."""

    class TransitionForm(Form):
        pass

    for f in t.fields:
        kwargs = {"validators": [InputRequired()] if f.required else [Optional()]}
        if f.kind == "choice":
            kwargs["choices"] = [("", _("请选择")), *f.options(obj, actor)]
        setattr(TransitionForm, f.name, FIELD_CLASSES[f.kind](f.label, **kwargs))
    return TransitionForm(formdata)


def _never_refused(row) -> None:
    return None


class RoleView(AccessDeniedMixin, ModelView):
    """Base grid. Subclasses set `roles`, columns, labels and filters."""

    roles: frozenset[str] = frozenset({"admin"})
    require_approved_org = True
    primary_for_model = True

    can_view_details = True
    can_export = True
    export_types = ["xlsx"]
    column_editable_list: list = []
    page_size = 20
    can_set_page_size = True
    page_size_options = (20, 50, 100)
    file_fields: tuple[str, ...] = ()
    details_template = "admin/ecqs_details.html"
    list_template = "admin/ecqs_list.html"
    column_display_actions = True
    export_max_rows = 0
    filter_converter = TZFilterConverter()
    column_type_formatters = TYPE_FORMATTERS
    column_type_formatters_detail = TYPE_FORMATTERS
    model_form_converter = TZModelConverter

    def __init__(self, model, session=None, **kwargs):
        super().__init__(model, session or db.session, **kwargs)
        # Flask-Admin binds column_formatters_detail to the list formatters of THIS moment; a
        # view that sets its formatters after super().__init__ would show raw codes on details.
        self._defaulted_detail_formatters = (
            self.column_formatters_detail if type(self).column_formatters_detail is None else None
        )
        if self.primary_for_model:
            MODEL_ENDPOINTS.setdefault(model, self.endpoint)

    # ---- who may open this grid -------------------------------------------------------------

    def is_accessible(self) -> bool:
        user = current_user
        if not user.is_authenticated or user.role not in self.roles:
            return False
        return not (self.require_approved_org and not access.business_user(user))

    def is_visible(self) -> bool:
        return self.is_accessible()

    # ---- one scope through every door --------------------------------------------------------

    def get_query(self):
        return access.scoped(super().get_query(), self.model, current_user)

    def get_count_query(self):
        return access.scoped(super().get_count_query(), self.model, current_user)

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """Grids with `simple_list_pager` (big tables) skip Flask-Admin's count(*); their total
        and page numbers come from grid_counts (an estimate or a bounded count), never fewer
        than the rows this page proves exist. In the default order the bounded count comes
        with the page's own SELECT (one statement for both)."""
        count, page_query = super().get_list(page, sort_column, sort_desc, search, filters, False, page_size)
        size = page_size if page_size is not None else self.page_size
        if not (execute and self.simple_list_pager and size):
            return count, (self.page_rows(page_query)[0] if execute else page_query)
        key = (self.endpoint, current_user.get_id(), search, tuple(map(tuple, filters or ())))

        def query():
            if sort_column is None:
                # The page's own query without its page: in the default order it has no joins
                # of its own (a sort by a related column may add one), so it counts the same rows.
                return page_query.limit(None).offset(None)
            parent = super(RoleView, self)
            return parent.get_list(None, None, False, search, filters, execute=False, page_size=0)[1]

        plan = grid_counts.Plan(query, cache_key=key)
        along = plan.limit is not None and sort_column is None
        data, counted = self.page_rows(page_query, plan.count_column() if along else None)
        # (a page past the end brings no row, so no count either: it is counted on its own)
        total = plan.total(counted)
        # Rows this page proves exist (none: a page past the end proves nothing).
        seen = (page or 0) * size + len(data) + (1 if len(data) == size else 0) if data else 0
        return total.at_least(seen), data

    def _get_list_url(self, view_args):
        """Flask-Admin's link to a page of the grid; the one without search, filters, sort or
        page (every page's return and clear-search link as the grid opens) once per
        application root, host and page size: the same url_for each time."""
        if (
            view_args.page
            or view_args.sort is not None
            or view_args.sort_desc
            or view_args.search
            or view_args.filters
            or view_args.extra_args
        ):
            return super()._get_list_url(view_args)
        key = (request.script_root, request.host, view_args.page_size)
        memo = self.__dict__.setdefault("_ecqs_list_urls", {})
        url = memo.get(key)
        if url is None:
            if len(memo) > 64:  # roots × hosts × page sizes: a handful
                memo.clear()
            url = memo[key] = super()._get_list_url(view_args)
        return url

    _get_list_url.flask_admins_links = True  # the same links (list_rows.flask_admins_list_url)

    def page_rows(self, page_query, count=None) -> tuple[list, int | None]:
        """The rows of a grid page from its page query (Flask-Admin's: scoped, filtered,
        searched, sorted, paged), and the value of `count` (a column: the grid's bounded
        count) read with them (None without it or without rows). A grid may select lighter
        records that show the same."""
        if count is None:
            return page_query.all(), None
        rows = page_query.add_columns(count).all()
        return [row[0] for row in rows], (rows[0][1] if rows else None)

    # Rows built in Python (admin_views/list_rows.py); False where the template overrides the
    # row blocks (tests/views/test_list_rows.py checks every grid).
    fast_list_rows = True
    # Pages compiled with their literal labels and static links folded in (ecqs/folded_templates.py);
    # the same page as the plain template gives (tests/views/test_list_rows.py compares them).
    folded_templates = True
    # The list page around the table without Flask-Admin's imports and macros (admin_views/
    # list_page.py); the same page as Flask-Admin's list.html (tests/views/test_list_page.py).
    lean_list_page = True

    @pass_context
    def list_rows_html(self, context, data, list_columns, actions, row_actions, return_url):
        return list_rows.rows_html(self, context, data, list_columns, actions, row_actions, return_url)

    @pass_context
    def list_header_html(self, context, list_columns, actions, sort_column, sort_desc, sort_url):
        return list_rows.header_html(self, context, list_columns, actions, sort_column, sort_desc, sort_url)

    def render(self, template, **kwargs):
        if "pager_url" in kwargs and self.fast_list_rows:  # a grid: its page links from one url_for
            kwargs["pager_url"] = list_rows.NumberedUrls(kwargs["pager_url"], special=(0,))
        if "pager_url" in kwargs:  # a grid: Flask-Admin's list page or the lean one
            list_page.prepare(self, kwargs)
        reword_admin_flashes()
        self._template_args["_gettext"] = admin_gettext
        self._template_args["_ngettext"] = admin_ngettext
        if self.folded_templates and isinstance(template, str):
            # Flask-Admin's render adds its own names (none folded) and then _template_args.
            template = folded_template(template, {**kwargs, **self._template_args}, ADMIN_CONTEXT_FUNCTIONS)
        return super().render(template, **kwargs)

    def get_one(self, id):
        pk = self.model.__mapper__.primary_key[0]
        try:
            key = pk.type.python_type(id)
        except NotImplementedError:
            key = id
        except (TypeError, ValueError):
            # "abc" for an integer key would be a database error on PostgreSQL, not a 404.
            deny(f"{self.model.__name__}:{str(id)[:20]}", code=404)
        if isinstance(key, int) and not _in_bigint_range(key):
            deny(f"{self.model.__name__}:{str(id)[:20]}", code=404)
        obj = self.get_query().filter(pk == key).one_or_none()
        if obj is None:
            deny(f"{self.model.__name__}:{id}", code=404)
        return obj

    def _get_filter_groups(self):
        """Flask-Admin's filter list with its labels in the request's language: the same for
        every request in that language (the filters and their fixed options are set up once),
        so worked out once per catalogue; each page gets its own copies of the entries (the
        dynamic filters fill in their options per request)."""
        catalogue = babel.domain_instance.get_translations()
        memo = self.__dict__.setdefault("_ecqs_filter_groups", {})
        key = (catalogue, id(self._filter_groups))  # filters set up again: a new list
        groups = memo.get(key)
        if groups is None:
            groups = memo[key] = super()._get_filter_groups()
        if not groups:
            return groups
        return type(groups)((label, [dict(item) for item in items]) for label, items in groups.items())

    def delete_form(self):
        # Built on a page's first use (GET: a page that shows it); a POST validates it at once.
        if request.method == "GET":
            return FormOnUse(super().delete_form)
        return super().delete_form()

    def scoped_rows(self, ids):
        """Re-select posted ids through the scope: other tenants' ids silently drop out."""
        pk = self.model.__mapper__.primary_key[0]
        try:
            keys = [pk.type.python_type(i) for i in ids]
        except (TypeError, ValueError):
            abort(400)
        keys = [k for k in keys if not isinstance(k, int) or _in_bigint_range(k)]
        return self.get_query().filter(pk.in_(keys)).all() if keys else []

    @expose("/ajax/update/", methods=("POST",))
    def ajax_update(self):
        # Inline editing is off on every scoped grid; the endpoint must not bypass can_edit.
        deny(f"ajax_update:{self.endpoint}")

    # ---- forms: workflow-owned fields are never mass-assignable, relations are scoped --------

    def scaffold_form(self):
        excluded = set(self.form_excluded_columns or ()) | set(WORKFLOW_OWNED)
        self.form_excluded_columns = sorted(excluded)
        return super().scaffold_form()

    def _scope_relation_fields(self, form):
        for field in form:
            if getattr(field, "allow_blank", False) and not getattr(field, "blank_text", None):
                # Without a text the empty choice shows its value "__None".
                field.blank_text = _("（无）")
            factory = getattr(field, "query_factory", None)
            if factory is None or getattr(factory, "_scoped", False):
                continue

            def scoped_factory(original=factory):
                query = original()
                model = query.column_descriptions[0]["entity"]
                return access.scoped(query, model, current_user)

            scoped_factory._scoped = True
            field.query_factory = scoped_factory
        return form

    def create_form(self, obj=None):
        return self._scope_relation_fields(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._scope_relation_fields(super().edit_form(obj))

    def handle_view_exception(self, exc: Exception) -> bool:
        """Say what went wrong in Chinese without showing SQL or internals to the user."""
        if isinstance(exc, ValidationError | workflows.WorkflowError | uploads.UploadError):
            flash(str(exc), "error")
        elif isinstance(exc, IntegrityError):
            log.warning("integrity error in %s: %s", self.endpoint, exc)
            flash(_("保存失败：与已有记录冲突（例如用户名、手机号或代码重复）"), "error")
        else:
            log.exception("error in %s", self.endpoint)
            flash(_("操作失败，请检查输入后重试"), "error")
        return True

    def on_model_change(self, form, model, is_created):
        if not is_created:
            refusal = self.edit_refusal(model)
            if refusal:
                raise ValidationError(refusal)
        if is_created:
            audit.record("record_created", user=current_user, obj=model)
        else:
            # The fields changed, old -> new (personal values masked), from SQLAlchemy's history.
            audit.record_change(current_user, model)

    def on_model_delete(self, model):
        refusal = self.delete_refusal(model)
        if refusal:
            raise ValidationError(refusal)
        audit.record("record_deleted", user=current_user, obj=model)

    # ---- workflow actions --------------------------------------------------------------------

    @property
    def workflow(self):
        return workflows.workflow_for(self.model)

    # Transitions that ask for a comment or inputs are offered in bulk only on grids that list
    # them here (the 预约受理 grid's 退回); the others stay buttons on the record.
    bulk_input_actions: frozenset[str] = frozenset()
    # Per grid, a confirmation text other than the transition's own (e.g. naming a box above it).
    bulk_confirm: dict = {}
    # Per grid, the success message of a bulk transition: action -> callable(n) (else 已处理 n 条).
    bulk_done: dict = {}

    def init_actions(self):
        super().init_actions()
        wf = self.workflow
        if wf is None:
            return
        for t in wf.transitions:
            if not t.bulk or not (t.roles & self.roles):
                continue
            asks = bool(t.needs_comment or t.fields)
            if asks and t.action not in self.bulk_input_actions:
                continue
            name = f"wf_{t.action}"
            self._actions.append((name, t.label))
            # A transition that asks for inputs confirms on its own form page.
            default = None if asks else _l("确定对选中的记录执行“%(label)s”吗？", label=t.label)
            confirm = self.bulk_confirm.get(t.action) or t.confirm or default
            self._actions_data[name] = (self._bulk_handler(t), t.label, confirm)

    def is_action_allowed(self, name):
        if name.startswith("wf_"):
            t = self.workflow.by_action.get(name[3:])
            return t is not None and current_user.role in t.roles
        if name == "delete":
            return self.can_delete
        return super().is_action_allowed(name)

    def _refuse_out_of_scope(self, ids, rows, what: str) -> None:
        missing = len(set(map(str, ids))) - len(rows)
        if missing:
            audit.record(
                "access_denied",
                user=current_user,
                result="failure",
                object_type=self.model.__name__,
                comment=f"bulk {what}: {missing} ids out of scope",
            )
            flash(_("有 %(n)d 条记录不存在或无权操作，已忽略", n=missing), "error")

    def _bulk_handler(self, t):
        """The one bulk handler of every grid. A transition that asks for a comment or inputs
        first shows a small form (its declared fields and the comment) unless they came with
        the post; each row then goes through the engine, refused when another user changed it
        since the form was shown (its version) or when it lies outside the actor's scope."""

        def handler(ids):
            rows = self.scoped_rows(ids)
            asks = bool(t.needs_comment or t.fields)
            comment = request.form.get("comment")
            inputs = self.transition_inputs(None, t.action)
            given = (comment or "").strip() or any(v not in (None, "") for v in inputs.values())
            confirmed = request.form.get("bulk_confirmed") == "1"
            if asks and not (confirmed or given):
                self._refuse_out_of_scope(ids, rows, t.action)
                db.session.commit()
                return self.render(
                    "admin/ecqs_bulk_form.html",
                    transition=t,
                    rows=rows,
                    return_url=get_redirect_target() or self.get_url(".index_view"),
                )
            done, refused = 0, []
            for obj in rows:
                try:
                    workflows.transition(
                        obj,
                        t.action,
                        current_user,
                        comment=comment,
                        expected_version=request.form.get(f"version_{obj.id}") or None,
                        **inputs,
                    )
                    done += 1
                except workflows.WorkflowError as exc:
                    refused.append(f"{obj}: {exc}")
                    if isinstance(exc, workflows.StaleTransition):
                        break  # the engine rolled the session back
            self._refuse_out_of_scope(ids, rows, t.action)
            db.session.commit()
            if done:
                said = self.bulk_done.get(t.action)
                flash(said(done) if said else _("已处理 %(n)d 条记录", n=done), "success")
            for message in refused[:10]:
                flash(message, "error")
            return None

        return handler

    @expose("/transition/<id>/<action_name>", methods=("POST",))
    def transition_view(self, id, action_name):
        obj = self.get_one(id)
        return_url = get_redirect_target() or self.get_url(".details_view", id=id)
        try:
            workflows.transition(
                obj,
                action_name,
                current_user,
                comment=request.form.get("comment"),
                expected_state=request.form.get("expected_state") or None,
                expected_version=request.form.get("expected_version") or None,
                **self.transition_inputs(obj, action_name),
            )
            db.session.commit()
            flash(self.transition_done(obj, action_name), "success")
        except workflows.WorkflowError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        return redirect(return_url)

    def transition_done(self, obj, action_name) -> str:
        """The success message of a transition (a grid may name what was issued)."""
        return _("操作成功")

    def transition_inputs(self, obj, action_name) -> dict:
        """The raw posted values of the inputs the transition declares (the engine parses them)."""
        wf = self.workflow
        t = wf.by_action.get(action_name) if wf else None
        if t is None:
            return {}
        return {
            f.name: request.files.get(f.name) if f.kind == "file" else request.form.get(f.name)
            for f in t.fields
        }

    def available_transitions(self, obj):
        return workflows.available(obj, current_user)

    def timeline(self, obj):
        return audit.timeline(obj)

    def state_label(self, obj):
        wf = self.workflow
        return wf.state_label(getattr(obj, wf.field)) if wf else ""

    @pass_context
    def get_detail_value(self, context, model, name):
        # The workflow's state shows its Chinese label on details pages too, even where a
        # view only gave a list formatter (column_formatters_detail is bound at __init__).
        detail = self.column_formatters_detail if self.column_formatters_detail is not None else {}
        if name not in detail and detail is self._defaulted_detail_formatters:
            # Follow the list's labels, but keep full personal numbers on details (masked
            # formatters are for lists and exports).
            candidate = (self.column_formatters or {}).get(name)
            if candidate is not None and not getattr(candidate, "masked", False):
                return candidate(self, context, model, name)
        wf = self.workflow
        if wf is not None and name == wf.field and name not in detail:
            return wf.state_label(getattr(model, name))
        return super().get_detail_value(context, model, name)

    # ---- file downloads through the scope ----------------------------------------------------

    @expose("/file/<id>/<field>")
    def file_view(self, id, field):
        if field not in self.file_fields:
            abort(404)
        obj = self.get_one(id)
        upload = getattr(obj, field)
        if upload is None:
            abort(404)
        audit.record("file_download", user=current_user, obj=obj, comment=field)
        db.session.commit()
        return uploads.serve(upload)

    def file_link(self, field):
        def formatter(view, context, model, name):
            upload = getattr(model, field)
            if upload is None:
                return ""
            url = view.get_url(".file_view", id=model.id, field=field)
            return Markup('<a href="{}">{}</a>').format(url, escape(upload.original_name))

        return formatter

    # ---- xlsx export: scoped, filtered, streamed ---------------------------------------------

    def export_value(self, obj, name):
        formatter = self.column_formatters_export.get(name) if self.column_formatters_export else None
        if formatter is None and self.column_formatters:
            candidate = self.column_formatters.get(name)
            if candidate is not None and getattr(candidate, "masked", False):
                formatter = candidate
        if formatter is not None:
            value = formatter(self, None, obj, name)
            return str(value) if isinstance(value, Markup) else value
        wf = self.workflow
        if wf is not None and name == wf.field:
            return wf.state_label(getattr(obj, name))
        value = obj
        for part in name.split("."):
            value = getattr(value, part, None) if value is not None else None
        if self.column_choices and name in self.column_choices:
            return str(dict(self.column_choices[name]).get(value, value or ""))
        if isinstance(value, bool):
            return _("是") if value else _("否")
        if value is None or isinstance(value, str | int | float | bool | date | datetime):
            return value
        return str(value)

    def export_filename(self) -> str:
        return f"{self.name}_{datetime.now():%Y%m%d%H%M%S}.xlsx"

    def export_list_query(self):
        """The grid's (scoped) query with its current filter, search and order, unpaged."""
        view_args = self._get_list_extra_args()
        sort = self._get_column_by_idx(view_args.sort)
        _count, query = self.get_list(
            None,
            sort[0] if sort else None,
            view_args.sort_desc,
            view_args.search,
            view_args.filters,
            execute=False,
            page_size=0,
        )
        return query

    def iter_export_rows(self, columns):
        for obj in self.export_list_query().yield_per(1000):
            yield [self.export_value(obj, name) for name, _label in columns]

    @expose("/export/<export_type>/")
    def export(self, export_type):
        if export_type != "xlsx" or not self.can_export:
            flash(_("仅支持导出 Excel (.xlsx)"), "error")
            return redirect(self.get_url(".index_view"))
        columns = self.get_export_columns()
        audit.record(
            "export",
            user=current_user,
            object_type=self.model.__name__,
            comment=request.query_string.decode()[:500],
        )
        db.session.commit()
        if exports.should_queue(self):  # a big export becomes a job (我的导出)
            job = exports.start_export(self)
            return redirect(url_for("my_exports.job_view", job_id=job.id))
        return xlsx_export.xlsx_response(
            self.export_filename(),
            [str(label) for _n, label in columns],
            self.iter_export_rows(columns),
            sheet_name=str(self.name),
        )

    def delete_refusal(self, obj) -> str | None:
        """Why this row may not be deleted (a message for the user), or None. Views override;
        the single delete, the bulk delete and the row's trash icon all ask it."""
        return None

    def edit_refusal(self, obj) -> str | None:
        """Why this row may not be edited, or None: the save and the row's pencil both ask it."""
        return None

    # Extra row buttons (column_extra_row_actions) that lead to a workflow transition, by the
    # endpoint they link to: shown only where the engine would allow that transition.
    row_action_transitions: dict[str, str] = {}

    def row_action_refusal(self, action, row) -> str | None:
        """Why `action` (a row button) is not offered on `row`, or None: the same predicates
        as the actions themselves, so no button leads to a certain refusal."""
        return self.row_action_rule(action)(row)

    def row_action_rule(self, action):
        """row_action_refusal's predicate for `action`, as a function of the row: the grid asks
        it for every row of a page, the action's kind is looked at once."""
        if isinstance(action, row_template.DeleteRowAction):
            return self.delete_refusal
        if isinstance(action, row_template.EditRowAction | row_template.EditPopupRowAction):
            return self.edit_refusal
        transition = self.row_action_transitions.get(getattr(action, "endpoint", None))
        if transition:

            def refusal(row):
                return None if workflows.can(row, transition, current_user) else _("当前状态不能执行该操作")

            return refusal
        return _never_refused

    def get_list_row_actions(self):
        # Flask-Admin builds the buttons anew on every page from these few switches (some views
        # decide them per user) with their titles in the request's language: the same switches
        # and catalogue give the same buttons, built once.
        key = (
            list_rows.request_memo("_ecqs_admin_catalogue", None, admin_babel.domain.get_translations),
            self.can_view_details,
            self.details_modal,
            self.can_edit,
            self.edit_modal,
            self.can_delete,
            id(self.column_extra_row_actions),
        )
        memo = self.__dict__.setdefault("_ecqs_row_actions", {})
        actions = memo.get(key)
        if actions is None:
            built = [AllowedRowAction(self, a) for a in super().get_list_row_actions()]
            # (the extra actions' list is kept too: its id stays its own while it is in the memo)
            actions = memo[key] = (built, self.column_extra_row_actions)
        return list(actions[0])

    def get_actions_list(self):
        """Flask-Admin's list of the bulk actions this user may run, with their labels and
        confirmations in the request's language: each text turned from its lazy form once per
        catalogue (a grid page spent 270 calls on it)."""
        catalogue = babel.domain_instance.get_translations()
        texts = self.__dict__.setdefault("_ecqs_action_texts", {}).setdefault(catalogue, {})

        def text(lazy):
            found = texts.get(id(lazy))
            if found is None:  # (the lazy text is kept with it: its id stays its own)
                found = texts[id(lazy)] = (str(lazy), lazy)
            return found[0]

        actions, confirmations = [], {}
        for name, label in self._actions:
            if self.is_action_allowed(name):
                actions.append((name, text(label)))
                confirmation = self._actions_data[name][2]
                if confirmation is not None:  # (a lazy text's truth is its translation)
                    said = text(confirmation)
                    if said:
                        confirmations[name] = said
        return actions, confirmations

    @action("delete", _l("删除"), _l("确定删除选中的记录吗？此操作不可恢复。"))
    def action_delete(self, ids):
        if not self.can_delete:
            deny(f"delete:{self.endpoint}")
        deleted, refused = 0, False
        for obj in self.scoped_rows(ids):
            try:
                self.on_model_delete(obj)
            except ValidationError as exc:
                flash(str(exc), "error")
                refused = True
                continue
            db.session.delete(obj)
            deleted += 1
        db.session.commit()
        if deleted or not refused:
            flash(_("已删除 %(n)d 条记录", n=deleted), "success")
