"""Rules of application documents 申请材料, each written once: which documents an application
needs, which required ones are missing, which ones a 补正告知书 still waits for. The wizard
pages, the submit guards and the details pages all ask these."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import select

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import (
    LICENCE_CATEGORY_LABELS,
    QUALIFICATION_CATEGORY_LABELS,
    ApplicationDocument,
    DocumentRequirement,
    LicenceApplication,
    QualificationApplication,
    utcnow,
)
from ecqs.workflows import GuardFailed

# The application categories of each business, as the catalogue names them.
CATEGORY_LABELS = {"licence": LICENCE_CATEGORY_LABELS, "qualification": QUALIFICATION_CATEGORY_LABELS}


def requirements(domain: str, kind: str | None, category: str | None) -> list[DocumentRequirement]:
    """The active documents of `domain` for an application of type `kind` (licence type or
    personnel type) and category code `category`, required ones first, catalogue order."""
    label = str(CATEGORY_LABELS[domain].get(category, category or ""))
    rows = db.session.execute(
        select(DocumentRequirement)
        .where(DocumentRequirement.domain == domain, DocumentRequirement.active.is_(True))
        .order_by(DocumentRequirement.sort_order, DocumentRequirement.id)
    ).scalars()
    found = [r for r in rows if r.applies(kind, label)]
    return sorted(found, key=lambda r: not r.required)


def missing(needed: list[DocumentRequirement], present_ids) -> list[DocumentRequirement]:
    """The required documents of `needed` with no file among `present_ids` (requirement ids of
    the current files); optional documents are never missing."""
    present = set(present_ids)
    return [r for r in needed if r.required and r.id not in present]


def missing_message(absent: list[DocumentRequirement]) -> str:
    return _("以下必须提交的申请材料尚未上传：%(names)s", names="、".join(r.name for r in absent))


def current_documents(parent) -> list[ApplicationDocument]:
    """The files of an application that stand (not replaced or removed), oldest first."""
    return [d for d in parent.documents if d.is_current]


def application_requirements(parent) -> list[DocumentRequirement]:
    if isinstance(parent, LicenceApplication):
        return requirements("licence", parent.licence_type, parent.category)
    if isinstance(parent, QualificationApplication):
        return requirements("qualification", parent.personnel_type, parent.category)
    raise TypeError(parent)


def missing_for(parent) -> list[DocumentRequirement]:
    """The required documents this application does not carry yet."""
    return missing(application_requirements(parent), (d.requirement_id for d in current_documents(parent)))


def correction_pending(application) -> list[DocumentRequirement]:
    """Documents the 补正告知书 asked to replace for which no new file came since it was issued."""
    asked = [int(i) for i in (application.correction_documents or [])]
    if not asked or application.correction_requested_at is None:
        return []
    since = application.correction_requested_at
    renewed = {
        d.requirement_id
        for d in current_documents(application)
        if d.uploaded_at is not None and _aware(d.uploaded_at) > _aware(since)
    }
    stmt = select(DocumentRequirement).where(DocumentRequirement.id.in_(asked))
    rows = {r.id: r for r in db.session.execute(stmt).scalars()}
    return [rows[i] for i in asked if i in rows and i not in renewed]


def _aware(moment):
    # SQLite hands back naive UTC datetimes in some paths; compare like with like.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def submission_problems(parent) -> list[str]:
    """What about the documents stops a (re)submission, as Chinese sentences."""
    problems = []
    absent = missing_for(parent)
    if absent:
        problems.append(missing_message(absent))
    if parent.status == "correction":
        pending = correction_pending(parent)
        if pending:
            problems.append(
                _("补正告知书要求更换的材料尚未重新上传：%(names)s", names="、".join(r.name for r in pending))
            )
    return problems


def may_replace(application, requirement_id: int) -> bool:
    """During correction, a document the notice names is replaced (its earlier files
    superseded) by a new upload rather than added to."""
    return application.status == "correction" and requirement_id in [
        int(i) for i in (application.correction_documents or [])
    ]


@dataclass
class DocumentSummary:
    rows: list  # (requirement, its current files), catalogue order
    missing: list[DocumentRequirement]
    history: list[ApplicationDocument]  # replaced and removed files, newest first


def summary(parent) -> DocumentSummary:
    """What an application's details page shows of its documents."""
    needed = application_requirements(parent)
    current = current_documents(parent)
    extra = [d.requirement for d in current if d.requirement not in needed]
    rows = [(r, [d for d in current if d.requirement_id == r.id]) for r in [*needed, *dict.fromkeys(extra)]]
    history = sorted(
        (d for d in parent.documents if not d.is_current), key=lambda d: (d.superseded_at, d.id), reverse=True
    )
    return DocumentSummary(rows, missing(needed, (d.requirement_id for d in current)), history)


def named_documents(application, raw_ids) -> list[DocumentRequirement] | None:
    """The documents a 补正告知书 names (posted requirement ids), each once, in the order given;
    None when one of them is not a document of this application."""
    offered = {r.id: r for r in application_requirements(application)}
    named: list[DocumentRequirement] = []
    for raw in raw_ids or ():
        try:
            key = int(raw)
        except (TypeError, ValueError):
            return None
        if key not in offered:
            return None
        if offered[key] not in named:
            named.append(offered[key])
    return named


def correction_line(named: list[DocumentRequirement]) -> str:
    """The line of the 补正告知书 that asks for new files."""
    return _("请更换以下申请材料：%(names)s", names="、".join(r.name for r in named))


def correction_guard(application, actor, data) -> None:
    """The guard of 补正告知 (licence and qualification applications alike): the points, one a
    line, and the documents to replace, which must be this application's; at least one of them,
    at most 50 points of 500 characters. Keeps the named documents in data["_documents"] for
    apply_correction."""
    points = correction_points(data)
    named = named_documents(application, data.get("documents"))
    if named is None:
        raise GuardFailed(_("所选需要更换的申请材料不属于本申请，请刷新页面后重试"))
    if not points and not named:
        raise GuardFailed(_("请逐条填写需要补正的内容（每行一条），或选择需要更换的申请材料"))
    if len(points) > 50 or any(len(p) > 500 for p in points):
        raise GuardFailed(_("补正内容最多 50 条，每条不超过 500 个字"))
    data["_documents"] = named


def apply_correction(application, actor, data) -> None:
    """The effect of 补正告知 (TSG Z8001-2019 第十二条), after correction_guard: the notice
    carries every point at once and a last line naming the documents to replace, which
    correction_pending then waits for."""
    points = correction_points(data)
    named = data.get("_documents") or []
    if named:
        points.append(correction_line(named))
    application.correction_points = "\n".join(points)
    application.correction_documents = [r.id for r in named]
    application.correction_requested_at = utcnow()


# A number the reviewer typed before a point: "1." "1．" "1、" "1)" "（1）" "(1)" "一、" "①". The
# notice numbers its points itself (<ol>), so this prefix would print "1. 1. …". "1.5 MPa" and
# "2024 年" are no numbering (a digit follows the dot, or no mark follows the number).
_NUMBERING = re.compile(
    r"^\s*(?:[（(]\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*[）)]"
    r"|\d{1,2}\s*(?:[.．](?!\d)|[、)）])"
    r"|[一二三四五六七八九十]{1,3}\s*[、.．]"
    r"|[\u2460-\u2473])\s*"
)


def strip_numbering(point: str) -> str:
    return _NUMBERING.sub("", point, count=1).strip() or point.strip()


def correction_list(points: str | None) -> list[str]:
    """The 补正告知书's points as stored (one a line), without blank lines or the numbers a
    reviewer typed: the notice and the details page number them once, themselves."""
    return [strip_numbering(p) for p in (points or "").splitlines() if p.strip()]


def correction_points(data) -> list[str]:
    """The points of a 补正告知书 as posted (a list, or the comment one point a line), without
    the numbers the reviewer typed: the notice numbers them itself."""
    points = data.get("points") or (data.get("comment") or "").splitlines()
    return [strip_numbering(p) for p in points if p and p.strip()]
