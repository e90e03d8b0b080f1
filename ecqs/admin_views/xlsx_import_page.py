"""The web side shared by every all-or-nothing .xlsx import page (instrument ledger, 强检器具目录,
许可项目目录, 申请材料目录, 人员项目目录): receiving the upload, refusing a file as a whole, keeping the
error report of a file with row errors, the report's download door (its uploader only), and the
page a body over the request limit (413) gets.
The page shows the errors with templates/import_errors.html. CatalogueImportMixin is the whole
import of an administrators' catalogue grid, configured by one CatalogueImport."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import current_app, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from ecqs.admin_views.base import deny
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import Upload
from ecqs.services import audit, import_jobs, uploads, xlsx_export, xlsx_import


def receive_import(run, *, action: str, object_type: str, max_bytes: int | None = None):
    """Handle the POST: read the upload safely and call `run(data)`, which validates and applies
    all or nothing and returns an xlsx_import.ImportResult.

    Returns None when the file is refused as a whole (flashed and audited; answer 400). With row
    errors nothing was applied: the error report is stored for its uploader and committed, and
    the common message flashed. On success the caller audits, commits and flashes its counts."""
    limit = max_bytes or current_app.config["IMPORT_MAX_BYTES"]
    try:
        result = run(xlsx_import.read_upload(request.files.get("file"), limit))
    except xlsx_import.ImportRefused as exc:
        db.session.rollback()
        audit.record_now(action, user=current_user, object_type=object_type, comment=str(exc))
        flash(str(exc), "error")
        return None
    if result.errors:
        if result.report is None:
            db.session.rollback()
            result.report = xlsx_import.save_error_report(result.errors, current_user)
        db.session.commit()
        flash(
            _(
                "文件中有 %(n)d 处错误，全部数据均未导入；请下载错误报告，修改后重新导入",
                n=len(result.errors),
            ),
            "error",
        )
    return result


def import_page(
    view, run, *, template: str, action: str, object_type: str, summary, max_bytes=None, **context
):
    """An import page of `view`: GET shows `template`; POST runs receive_import and answers 400
    when the file is refused, the page with the errors and the report link when rows are wrong,
    and on success audits `summary(result)` = (audit comment or None, Chinese message), commits,
    flashes the message and goes back to the list."""
    result = None
    if request.method == "POST":
        job = import_jobs.maybe_queue(view)  # a big file is imported by the job consumer
        if job is not None:
            return redirect(url_for("my_exports.job_view", job_id=job.id))
        result = g.import_result = receive_import(
            run, action=action, object_type=object_type, max_bytes=max_bytes
        )
        if result is None:
            return view.render(template, result=None, **context), 400
        if result.ok:
            comment, message = summary(result)
            if comment is not None:
                audit.record(action, user=current_user, object_type=object_type, comment=comment)
            db.session.commit()
            flash(message, "success")
            return redirect(view.get_url(".index_view"))
    return view.render(template, result=result, **context)


class ImportLimitMixin:
    """A body beyond the request limit gets the import page with a Chinese message, not a bare
    413. `import_limit_key` names the config value of the limit that applies to the view's
    requests; `import_template_name` is the page shown."""

    import_limit_key = "IMPORT_MAX_BYTES"
    import_template_name = "instruments/import.html"

    def create_blueprint(self, admin):
        blueprint = super().create_blueprint(admin)
        blueprint.register_error_handler(413, self._too_large)
        return blueprint

    def _too_large(self, error):
        mb = current_app.config[self.import_limit_key] // (1024 * 1024)
        flash(_("文件超过 %(mb)d MB，请拆分后分批导入", mb=mb), "error")
        return self.render(self.import_template_name, result=None), 413


class ErrorReportMixin:
    """/import/report/<id>/ of an import page: the error report, for the user who uploaded the
    file only; any other upload id is a 404."""

    @expose("/import/report/<int:upload_id>/")
    def import_report(self, upload_id):
        upload = db.session.get(Upload, upload_id)
        if (
            upload is None
            or upload.uploaded_by_id != current_user.id
            or not upload.original_name.startswith(xlsx_import.ERROR_REPORT_PREFIX)
        ):
            deny(f"import_report:{upload_id}", code=404)
        return uploads.serve(upload)


@dataclass(frozen=True)
class CatalogueImport:
    """What differs between two catalogue imports: the domain's all-or-nothing import and its
    template (headers and the current catalogue as rows), the audit's object type, and the words
    of the page (lazy gettext)."""

    run: Callable[[bytes], xlsx_import.ImportResult]
    headers: Callable[[], list[str]]
    template_rows: Callable[[], Iterable]
    object_type: str
    catalogue_name: str  # the sheet's name; the template file is named after it
    template_name: str  # the download's name, e.g. "许可项目目录导入模板"
    heading: str
    help: str
    template_link_id: str
    max_bytes: int | None = None


class CatalogueImportMixin(ErrorReportMixin):
    """/import/ and /import/template.xlsx of a catalogue grid: the template is the current
    catalogue; an import adds new rows and updates known ones, or changes nothing. A view sets
    `catalogue_import` and its list template links to `.import_view`."""

    catalogue_import: CatalogueImport

    @expose("/import/", methods=("GET", "POST"))
    def import_view(self):
        config = self.catalogue_import
        return import_page(
            self,
            config.run,
            template="xlsx_catalogue_import.html",
            action="import",
            object_type=config.object_type,
            max_bytes=config.max_bytes,
            summary=lambda r: (
                f"added={r.added} updated={r.updated}",
                _("导入成功：新增 %(a)d 条，更新 %(u)d 条", a=r.added, u=r.updated),
            ),
            catalogue_import=config,
        )

    @expose("/import/template.xlsx")
    def import_template(self):
        config = self.catalogue_import
        return xlsx_export.xlsx_response(
            str(config.template_name) + ".xlsx",
            config.headers(),
            config.template_rows(),
            sheet_name=str(config.catalogue_name),
        )
