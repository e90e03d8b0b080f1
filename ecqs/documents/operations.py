"""Attaching, replacing and removing the files of an application's documents 申请材料. A file
is checked by the upload service (PDF/JPEG/PNG by content, 5 MB); nothing is ever deleted: a
replaced or removed file is marked superseded and stays in the application's history."""

from __future__ import annotations

from ecqs.documents import rules
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import (
    QUALIFICATION_STATUS_LABELS,
    ApplicationDocument,
    LicenceApplication,
    QualificationApplication,
    User,
    utcnow,
)
from ecqs.services import audit, uploads

MAX_FILES_PER_DOCUMENT = 10


class DocumentError(Exception):
    """Refused input; str(exc) is the Chinese message. Nothing was changed."""


def _parent_key(parent) -> dict:
    if isinstance(parent, LicenceApplication):
        return {"licence_application_id": parent.id}
    if isinstance(parent, QualificationApplication):
        return {"qualification_application_id": parent.id}
    raise TypeError(parent)


def _check_may_change(parent, user: User, creating: bool = False) -> None:
    if isinstance(parent, LicenceApplication):
        if not parent.can_edit(user):
            raise DocumentError(_("当前状态为“%(state)s”，不能修改申请材料", state=parent.status_label))
        return
    # A qualification application takes its files when it is created (operations.py there),
    # and changes them only while 待补正.
    if user is None or user.id != parent.applicant_id:
        raise DocumentError(_("只有申请人可以上传申请材料"))
    if not creating and parent.status != "correction":
        state = QUALIFICATION_STATUS_LABELS.get(parent.status, parent.status)
        raise DocumentError(_("当前状态为“%(state)s”，不能修改申请材料", state=state))


def _requirement(parent, requirement_id):
    try:
        key = int(requirement_id)
    except (TypeError, ValueError):
        raise DocumentError(_("请选择要上传的材料")) from None
    for requirement in rules.application_requirements(parent):
        if requirement.id == key:
            return requirement
    raise DocumentError(_("所选材料不属于本申请，请刷新页面后重试"))


def attach(parent, requirement_id, files, user: User, creating: bool = False) -> list[ApplicationDocument]:
    """Attach uploaded files (werkzeug FileStorage, or metadata a multi-step form kept from
    uploads.store()) to one document of `parent`. During correction a document the 补正告知书
    names is replaced: its earlier files are superseded. `creating`: the files of a
    qualification application being created. Flushes; the caller commits."""
    _check_may_change(parent, user, creating)
    requirement = _requirement(parent, requirement_id)
    files = [f for f in files or () if f is not None and (isinstance(f, dict) or getattr(f, "filename", ""))]
    if not files:
        raise DocumentError(_("请选择要上传的文件"))
    current = [d for d in rules.current_documents(parent) if d.requirement_id == requirement.id]
    replacing = rules.may_replace(parent, requirement.id)
    if len(files) + (0 if replacing else len(current)) > MAX_FILES_PER_DOCUMENT:
        raise DocumentError(
            _("每项材料最多 %(n)d 个文件（%(name)s）", n=MAX_FILES_PER_DOCUMENT, name=requirement.name)
        )
    stored = []
    try:
        for f in files:
            stored.append(uploads.record(f, user) if isinstance(f, dict) else uploads.save(f, user))
    except uploads.UploadError as exc:
        raise DocumentError(_("“%(name)s”：%(error)s", name=requirement.name, error=str(exc))) from None
    now = utcnow()
    if replacing:
        for old in current:
            old.superseded_at, old.superseded_reason, old.superseded_by_id = now, "replaced", user.id
    added = []
    for upload in stored:
        document = ApplicationDocument(
            requirement_id=requirement.id,
            upload=upload,
            uploaded_by_id=user.id,
            uploaded_at=now,
            **_parent_key(parent),
        )
        db.session.add(document)
        added.append(document)
    db.session.flush()
    db.session.expire(parent, ["documents"])
    names = "、".join(u.original_name for u in stored)
    verb = _("更换") if replacing and current else _("上传")
    audit.record(
        "record_changed",
        user=user,
        obj=parent,
        comment=_("%(verb)s申请材料“%(name)s”：%(files)s", verb=verb, name=requirement.name, files=names),
    )
    return added


def remove(parent, document_id, user: User) -> ApplicationDocument:
    """Take one file off the application (it stays in the history as 已删除)."""
    _check_may_change(parent, user)
    try:
        key = int(document_id)
    except (TypeError, ValueError):
        raise DocumentError(_("该文件不存在或已删除")) from None
    document = next((d for d in rules.current_documents(parent) if d.id == key), None)
    if document is None:
        raise DocumentError(_("该文件不存在或已删除"))
    document.superseded_at, document.superseded_reason, document.superseded_by_id = (
        utcnow(),
        "removed",
        user.id,
    )
    db.session.flush()
    db.session.expire(parent, ["documents"])
    audit.record(
        "record_changed",
        user=user,
        obj=parent,
        comment=_(
            "删除申请材料“%(name)s”的文件：%(file)s",
            name=document.requirement.name,
            file=document.upload.original_name,
        ),
    )
    return document
