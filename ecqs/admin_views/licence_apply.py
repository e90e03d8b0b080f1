"""生产企业许可申请: the enterprise's multi-page application wizard (choose items, fill each page
of the 许可申请书 as a draft, print a page, submit)."""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ecqs import access, workflows
from ecqs.admin_views.base import RoleView, deny
from ecqs.documents import operations as document_operations
from ecqs.documents import rules as document_rules
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.licences import form as licence_form
from ecqs.licences import operations as licence_applications
from ecqs.models import LICENCE_CATEGORY_LABELS, LicenceApplication, licence_type_label


def _posted_selection() -> dict:
    """The category, licence type and items chosen on an application's items form."""
    return {
        "category": request.form.get("category", ""),
        "licence_type": request.form.get("licence_type", ""),
        "items": request.form.getlist("items"),
    }


def load_application(application_id) -> LicenceApplication:
    """One application through the scope of the current user, or 404 (and an audit entry)."""
    try:
        key = int(application_id)
    except (TypeError, ValueError):
        abort(404)
    stmt = access.scoped(
        select(LicenceApplication).where(LicenceApplication.id == key), LicenceApplication, current_user
    )
    application = db.session.execute(stmt).scalar()
    if application is None:
        deny(f"LicenceApplication:{application_id}", code=404)
    return application


# ---- 生产企业许可申请: the multi-page application form -----------------------------------


class LicenceApplyView(BaseView):
    """The wizard: choose items, fill each page of the 许可申请书 (saved as a draft), print the
    current page, submit once everything is complete."""

    roles = frozenset({"enterprise"})
    require_approved_org = True
    inaccessible_callback = RoleView.inaccessible_callback

    def is_accessible(self) -> bool:
        user = current_user
        return user.is_authenticated and user.role in self.roles and access.business_user(user)

    def is_visible(self) -> bool:
        return self.is_accessible()

    def _editable(self, application_id) -> LicenceApplication | None:
        application = load_application(application_id)
        if not application.can_edit(current_user):
            flash(_("当前状态为“%(state)s”，不能修改", state=application.status_label), "error")
            return None
        return application

    def _steps(self, application):
        steps = [("items", _("申请项目"), bool(application and application.items), True)]
        for p in licence_form.PAGES:
            if p.kind == "documents":
                done = application is not None and not document_rules.missing_for(application)
                steps.append((p.key, str(p.title), done, True))
                continue
            done = application is not None and licence_form.page_complete(application, p)
            if not p.required:  # an optional page counts as done once something is written on it
                done = done and any(licence_form.values_of(application, p.key).values())
            steps.append((p.key, str(p.title), done, p.required))
        steps.append(("submit", _("提交"), False, False))
        return steps

    def _selection_context(self, application=None, form=None):
        enterprise = current_user.organization
        national = licence_applications.national_authority()
        provincial = licence_applications.provincial_authority(enterprise.province_code)
        chosen = (
            form
            if form is not None
            else {
                "category": application.category if application else "first",
                "licence_type": application.licence_type if application else "",
                "items": [str(i.id) for i in application.items] if application else [],
            }
        )
        return {
            "categories": list(LICENCE_CATEGORY_LABELS.items()),
            "types": [(t, licence_type_label(t)) for t in licence_applications.licence_types()],
            "items": licence_applications.active_items(),
            "chosen": chosen,
            "national": national,
            "provincial": provincial,
        }

    @expose("/", methods=("GET", "POST"))
    def index(self):
        """Start a new application: category, licence type and items (审批机关 shown live)."""
        posted = None
        if request.method == "POST":
            posted = _posted_selection()
            try:
                application = licence_applications.create(
                    current_user.organization,
                    current_user,
                    posted["category"],
                    posted["licence_type"],
                    posted["items"],
                    client_token=(request.form.get("client_token") or "")[:64] or None,
                )
                db.session.commit()
            except licence_applications.DuplicateSubmission as exc:
                db.session.rollback()
                flash(str(exc), "warning")
                return redirect(url_for(".page", application_id=exc.application.id, key="basic"))
            except IntegrityError:
                db.session.rollback()
                flash(_("请勿重复提交，请在“生产企业许可申请管理”中查看已创建的申请"), "warning")
                return redirect(url_for("licence_applications.index_view"))
            except licence_applications.ApplicationError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                flash(
                    _(
                        "已创建申请 %(number)s，审批机关：%(authority)s。请逐页填写许可申请书。",
                        number=application.number,
                        authority=application.authority.name,
                    ),
                    "success",
                )
                return redirect(url_for(".page", application_id=application.id, key="basic"))
        open_ones = (
            db.session.execute(
                access.scoped(
                    select(LicenceApplication).where(LicenceApplication.status.in_(("draft", "correction"))),
                    LicenceApplication,
                    current_user,
                ).order_by(LicenceApplication.id.desc())
            )
            .scalars()
            .all()
        )
        return self.render(
            "licence/apply_items.html",
            application=None,
            steps=self._steps(None),
            current="items",
            open_ones=open_ones,
            client_token=secrets.token_urlsafe(24),
            **self._selection_context(form=posted),
        )

    @expose("/<int:application_id>/<key>", methods=("GET", "POST"))
    def page(self, application_id, key):
        application = self._editable(application_id)
        if application is None:
            return redirect(url_for("licence_applications.details_view", id=application_id))
        if key == "items":
            return self._items_page(application)
        if key == "submit":
            return self._submit_page(application)
        form_page = licence_form.page(key)
        if form_page is None:
            abort(404)
        if form_page.kind == "documents":
            return self._documents_page(application, form_page)
        errors, values = {}, licence_form.values_of(application, key)
        if request.method == "POST":
            try:
                licence_applications.save_page(application, current_user, key, request.form)
                db.session.commit()
            except licence_form.FormErrors as exc:
                db.session.rollback()
                errors, values = exc.errors, {f.name: request.form.get(f.name, "") for f in form_page.fields}
                flash(str(exc), "error")
            else:
                flash(_("“%(page)s”已保存", page=form_page.title), "success")
                return redirect(url_for(".page", application_id=application.id, key=self._next_key(key)))
        return self.render(
            "licence/apply_page.html",
            application=application,
            page=form_page,
            values=values,
            errors=errors,
            steps=self._steps(application),
            current=key,
            missing=[f.name for f in licence_form.missing_fields(application, form_page)],
        )

    def _documents_page(self, application, form_page):
        """申请材料: upload several files per document, remove one, see what is still missing."""
        if request.method == "POST":
            action = request.form.get("action")
            try:
                if action == "upload":
                    requirement_id = request.form.get("requirement_id")
                    files = request.files.getlist(f"files_{requirement_id}")
                    document_operations.attach(application, requirement_id, files, current_user)
                    db.session.commit()
                    flash(_("申请材料已上传"), "success")
                elif action == "remove":
                    document_operations.remove(application, request.form.get("document_id"), current_user)
                    db.session.commit()
                    flash(_("文件已删除（仍保留在办理记录中）"), "success")
            except document_operations.DocumentError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            target = self._next_key(form_page.key)
            return redirect(url_for(".page", application_id=application.id, key=target))
        needed = document_rules.application_requirements(application)
        current = document_rules.current_documents(application)
        return self.render(
            "licence/apply_documents.html",
            application=application,
            page=form_page,
            steps=self._steps(application),
            current=form_page.key,
            requirements=needed,
            files={r.id: [d for d in current if d.requirement_id == r.id] for r in needed},
            missing=document_rules.missing(needed, (d.requirement_id for d in current)),
            to_replace=document_rules.correction_pending(application),
            max_files=document_operations.MAX_FILES_PER_DOCUMENT,
            document_endpoint="licence_applications.document_view",
            removable=True,
        )

    def _next_key(self, key):
        """Where the navigation button asked to go after saving (default: stay)."""
        target = request.form.get("goto") or key
        valid = {"items", "submit", *licence_form.PAGE_BY_KEY}
        return target if target in valid else key

    def _items_page(self, application):
        posted = None
        if request.method == "POST":
            posted = _posted_selection()
            try:
                licence_applications.update_selection(
                    application, current_user, posted["category"], posted["licence_type"], posted["items"]
                )
                db.session.commit()
            except licence_applications.ApplicationError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                flash(
                    _("申请项目已保存，审批机关：%(authority)s", authority=application.authority.name),
                    "success",
                )
                return redirect(url_for(".page", application_id=application.id, key=self._next_key("items")))
        return self.render(
            "licence/apply_items.html",
            application=application,
            steps=self._steps(application),
            current="items",
            open_ones=[],
            client_token=None,
            **self._selection_context(application, form=posted),
        )

    def _submit_page(self, application):
        action = "resubmit" if application.status == "correction" else "submit"
        if request.method == "POST":
            try:
                workflows.transition(
                    application,
                    action,
                    current_user,
                    expected_state=request.form.get("expected_state") or None,
                )
                db.session.commit()
            except workflows.WorkflowError as exc:
                db.session.rollback()
                flash(str(exc), "error")
                return redirect(url_for(".page", application_id=application.id, key="submit"))
            flash(
                _(
                    "申请 %(number)s 已提交至 %(authority)s",
                    number=application.number,
                    authority=application.authority.name,
                ),
                "success",
            )
            return redirect(url_for("licence_applications.index_view"))
        problems = licence_applications.submission_problems(application)
        try:
            authority = licence_applications.route_authority(application.organization, application.items)
        except licence_applications.ApplicationError:
            authority = None
        return self.render(
            "licence/apply_submit.html",
            application=application,
            steps=self._steps(application),
            current="submit",
            problems=problems,
            authority=authority,
            action=action,
        )
