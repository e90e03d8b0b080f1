"""Uploads: JPEG, PNG or PDF up to 5 MB, type checked by content, stored under a random name
outside the web root; the original filename is kept in the database."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from datetime import timedelta
from pathlib import Path

import filetype
from flask import current_app, send_file

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import Upload
from ecqs.services import rate_limits

ALLOWED = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
MAX_BYTES = 5 * 1024 * 1024
STORED_NAME_RE = re.compile(r"[0-9a-f]{32}\.(jpg|png|pdf)")


class UploadError(Exception):
    """The file was refused; str(exc) is the Chinese message."""


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def store(file_storage) -> dict:
    """Check an uploaded file and write it under a random name; no database row yet.

    Returns the metadata `record()` needs. A multi-step form keeps this dict until its last
    step, so that an abandoned form leaves no Upload row behind."""
    if file_storage is None or not file_storage.filename:
        raise UploadError(_("请选择要上传的文件"))
    data = file_storage.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise UploadError(_("文件不能超过 5 MB"))
    if not data:
        raise UploadError(_("文件为空"))
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ALLOWED:
        raise UploadError(_("只能上传 JPG、PNG 图片或 PDF 文件（按文件内容检查）"))
    stored = f"{secrets.token_hex(16)}.{ALLOWED[kind.mime]}"
    (upload_dir() / stored).write_bytes(data)
    original = Path(file_storage.filename.replace("\\", "/")).name[:255] or stored
    return {
        "stored_name": stored,
        "original_name": original,
        "content_type": kind.mime,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def record(meta: dict, user=None) -> Upload:
    """The (flushed) Upload row of a file `store()` or `quarantine()` kept (a quarantined file
    is moved out of quarantine now)."""
    if not STORED_NAME_RE.fullmatch(meta.get("stored_name", "")):
        raise UploadError(_("上传的文件已失效，请重新上传"))
    if meta.get("quarantined"):
        source = quarantine_dir() / meta["stored_name"]
        if not source.is_file():
            raise UploadError(_("上传的文件已失效，请重新上传"))
        source.replace(upload_dir() / meta["stored_name"])
    if not (upload_dir() / meta["stored_name"]).is_file():
        raise UploadError(_("上传的文件已失效，请重新上传"))
    row = Upload(
        stored_name=meta["stored_name"],
        original_name=meta["original_name"],
        content_type=meta["content_type"],
        size=meta["size"],
        sha256=meta["sha256"],
        uploaded_by_id=getattr(user, "id", None),
    )
    db.session.add(row)
    db.session.flush()
    return row


# ---- quarantine: files of anonymous multi-step forms -------------------------------------------

QUARANTINE_LIFETIME = timedelta(hours=2)  # an abandoned wizard's file is purged after this
QUARANTINE_MAX_BYTES = 200 * 1024 * 1024  # all unclaimed files together, whoever sent them
ANONYMOUS_UPLOAD_LIMIT = "10 per hour"  # per client address


def quarantine_dir() -> Path:
    path = upload_dir() / "quarantine"
    path.mkdir(parents=True, exist_ok=True)
    return path


def purge_quarantine(now: float | None = None) -> tuple[int, int]:
    """Delete quarantined files older than QUARANTINE_LIFETIME at `now` (a timestamp, default
    the current time); run on every quarantine write and by the hourly purge (schedules.py).
    Returns (files deleted, bytes still held)."""
    cutoff = (time.time() if now is None else now) - QUARANTINE_LIFETIME.total_seconds()
    removed = held = 0
    for path in quarantine_dir().iterdir():
        try:
            stat = path.stat()
            if stat.st_mtime < cutoff:
                path.unlink()
                removed += 1
            else:
                held += stat.st_size
        except FileNotFoundError:  # another worker purged it first
            continue
    return removed, held


def quarantine(file_storage, replaces: dict | None = None) -> dict:
    """Check and keep a file sent before any account exists (a wizard step): rate limited per
    address, held apart from claimed files, purged if no `record()` claims it within
    QUARANTINE_LIFETIME. `replaces` is the metadata of the file this one supersedes."""
    if not rate_limits.hit(ANONYMOUS_UPLOAD_LIMIT, "anonymous-upload", rate_limits.client_address()):
        raise UploadError(_("上传过于频繁，请稍后再试"))
    _removed, held = purge_quarantine()
    if held > QUARANTINE_MAX_BYTES:
        raise UploadError(_("系统繁忙，暂时无法接收上传文件，请稍后再试"))
    meta = store(file_storage)
    (upload_dir() / meta["stored_name"]).replace(quarantine_dir() / meta["stored_name"])
    meta["quarantined"] = True
    if replaces and replaces.get("quarantined") and STORED_NAME_RE.fullmatch(replaces.get("stored_name", "")):
        (quarantine_dir() / replaces["stored_name"]).unlink(missing_ok=True)
    return meta


def reopen(stored_name: str, original_name: str) -> dict:
    """The metadata `record()` needs of a file `store()` kept earlier, from the file itself (a
    multi-step form may keep only the two names, e.g. in the signed session cookie)."""
    if not STORED_NAME_RE.fullmatch(stored_name or ""):
        raise UploadError(_("上传的文件已失效，请重新上传"))
    path = upload_dir() / stored_name
    if not path.is_file():
        raise UploadError(_("上传的文件已失效，请重新上传"))
    data = path.read_bytes()
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ALLOWED:
        raise UploadError(_("上传的文件已失效，请重新上传"))
    return {
        "stored_name": stored_name,
        "original_name": (original_name or stored_name)[:255],
        "content_type": kind.mime,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def save(file_storage, user=None) -> Upload:
    """Check and store an uploaded file; returns the (flushed) Upload row."""
    return record(store(file_storage), user)


def serve(upload: Upload):
    """Send a stored file as an attachment with its original name (never inline as HTML)."""
    path = upload_dir() / upload.stored_name
    response = send_file(
        path,
        mimetype=upload.content_type,
        as_attachment=True,
        download_name=upload.original_name,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
