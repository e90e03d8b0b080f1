"""人员项目目录 maintenance: the seed loader and the administrators' .xlsx import.

Both go through the same row validation. The import is all-or-nothing: every row is checked,
a file with any error changes nothing and returns a per-row, per-column Chinese report; a clean
file is applied in one transaction. A project is matched by its code, or, when it has no code,
by personnel type + name, so that a later import can complete a partial row (e.g. give Y-DT its
name and approval level, or give an inspector item its code).

Reading the file (archive checks, header, formulas), the errors, the result and the error
report are the shared ones of ecqs/xlsx_import.py."""

from __future__ import annotations

import logging
import re

from sqlalchemy import select, update

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import PERSONNEL_TYPES, PersonnelProject
from ecqs.services import xlsx_import
from ecqs.services.xlsx_import import CellError, ImportResult

log = logging.getLogger("ecqs.personnel_catalogue")

SEED_FILE = "personnel_projects.csv"
MAX_ROWS = 5000
CODE_RE = re.compile(r"^[A-Za-z0-9()\-_.]+$")
APPROVAL_VALUES = {
    "国家": "national",
    "省级": "provincial",
    "national": "national",
    "provincial": "provincial",
}
APPROVAL_TEXT = {"national": "国家", "provincial": "省级"}
ACTIVE_VALUES = {"是": True, "启用": True, "否": False, "停用": False}

# (field, column header of the .xlsx template)
COLUMNS = (
    ("personnel_type", _l("人员类型")),
    ("code", _l("项目代号")),
    ("name", _l("项目名称")),
    ("level", _l("级别")),
    ("approval", _l("审批层级")),
    ("notes", _l("备注")),
    ("active", _l("是否启用")),
)
REQUIRED_HEADERS = ("personnel_type", "code", "name", "level", "approval")


def _header(name: str) -> str:
    return str(dict(COLUMNS)[name])


_text = xlsx_import.as_code


def validate_row(raw: dict, row: int, errors: list[CellError]) -> dict | None:
    """Check one row (values keyed by field); return the clean values or None after adding errors."""
    before = len(errors)

    def err(name, message):
        errors.append(CellError(row, _header(name), message, raw.get(name)))

    ptype = _text(raw.get("personnel_type"))
    code = _text(raw.get("code"))
    name = _text(raw.get("name"))
    level = _text(raw.get("level"))
    approval = _text(raw.get("approval"))
    notes = _text(raw.get("notes"))
    active_text = _text(raw.get("active"))

    if not ptype:
        err("personnel_type", _("不能为空"))
    elif ptype not in PERSONNEL_TYPES:
        err("personnel_type", _("只能填写：%(values)s", values="、".join(PERSONNEL_TYPES)))
    if code and (len(code) > 30 or not CODE_RE.match(code)):
        err("code", _("项目代号最多 30 个字符，只能包含字母、数字、括号、连字符"))
    if len(name) > 100:
        err("name", _("不能超过 %(n)d 个字符", n=100))
    if not code and not name:
        err("code", _("项目代号和项目名称不能同时为空"))
    if len(level) > 20:
        err("level", _("不能超过 %(n)d 个字符", n=20))
    approval_level = None
    if approval:
        approval_level = APPROVAL_VALUES.get(approval)
        if approval_level is None:
            err("approval", _("只能填写“国家”或“省级”（尚未确定可留空）"))
    if len(notes) > 500:
        err("notes", _("不能超过 %(n)d 个字符", n=500))
    active = True
    if active_text:
        if active_text not in ACTIVE_VALUES:
            err("active", _("只能填写“是”或“否”"))
        else:
            active = ACTIVE_VALUES[active_text]
    if len(errors) > before:
        return None
    return {
        "personnel_type": ptype,
        "code": code,
        "name": name,
        "level": level,
        "approval_level": approval_level,
        "notes": notes or None,
        "active": active,
    }


def _key(values: dict) -> tuple:
    return ("code", values["code"]) if values["code"] else ("name", values["personnel_type"], values["name"])


def find_existing(values: dict) -> PersonnelProject | None:
    """The catalogue row this row describes: same code, or an uncoded row of the same type + name."""
    if values["code"]:
        found = db.session.execute(
            select(PersonnelProject).where(PersonnelProject.code == values["code"])
        ).scalar()
        if found is not None:
            return found
    if values["name"]:
        return db.session.execute(
            select(PersonnelProject).where(
                PersonnelProject.code == "",
                PersonnelProject.personnel_type == values["personnel_type"],
                PersonnelProject.name == values["name"],
            )
        ).scalar()
    return None


def validate_rows(rows: list[tuple[int, dict]]) -> tuple[list[dict], list[CellError]]:
    """Validate numbered rows; also refuse two rows that describe the same catalogue project."""
    errors: list[CellError] = []
    clean: list[dict] = []
    seen: dict[tuple, int] = {}
    claimed: dict[int, int] = {}
    for row_number, raw in xlsx_import.validating(rows):
        values = validate_row(raw, row_number, errors)
        if values is None:
            continue
        column = _header("code" if values["code"] else "name")
        key = _key(values)
        if key in seen:
            errors.append(CellError(row_number, column, _("与第 %(row)d 行重复", row=seen[key])))
            continue
        seen[key] = row_number
        # A coded row may complete an uncoded project; two rows must not both land on one project.
        existing = find_existing(values)
        if existing is not None:
            if existing.id in claimed:
                errors.append(
                    CellError(
                        row_number, column, _("与第 %(row)d 行对应同一目录项目", row=claimed[existing.id])
                    )
                )
                continue
            claimed[existing.id] = row_number
        clean.append(values)
    return clean, errors


def apply_rows(clean: list[dict], overwrite: bool = True) -> ImportResult:
    """Insert new projects and (if overwrite) update existing ones. Flushes, does not commit."""
    result = ImportResult()
    for values in clean:
        existing = find_existing(values)
        if existing is None:
            db.session.add(PersonnelProject(**values))
            result.added += 1
            continue
        if not overwrite:
            result.unchanged += 1
            continue
        changed = False
        for name, value in values.items():
            if getattr(existing, name) != value:
                setattr(existing, name, value)
                changed = True
        result.updated += changed
        result.unchanged += not changed
        db.session.flush()
    db.session.flush()
    return result


def load_personnel_projects(rows: list[dict]) -> int:
    """Seed loader over the rows of seed/personnel_projects.csv: add the projects that are
    missing. Idempotent; never overwrites what administrators changed."""
    # The seed's `notes` are source notes for maintainers (partly English) and stay in the
    # file; users see its `remark`, the Chinese 备注.
    numbered = [
        (n, {**r, "notes": r.get("remark") or ""}) for n, r in enumerate(rows, start=4)
    ]  # after the 2 comments + header
    clean, errors = validate_rows(numbered)
    if errors:
        raise ValueError(f"seed/{SEED_FILE}: " + "; ".join(map(str, errors)))
    _reword_source_notes(rows)
    return apply_rows(clean, overwrite=False).added


def _reword_source_notes(rows: list[dict]) -> None:
    """Projects loaded before the seed had its `remark` column kept the source note as 备注:
    replace exactly those by the Chinese remark (a 备注 an administrator wrote stays)."""
    for row in rows:
        source, remark = row.get("notes") or "", row.get("remark") or ""
        if not source or not remark:
            continue
        db.session.execute(
            update(PersonnelProject)
            .where(PersonnelProject.notes == source)
            .values(notes=remark)
            .execution_options(synchronize_session="fetch")
        )


def read_xlsx(data: bytes) -> list[tuple[int, dict]]:
    """Rows of the first sheet keyed by field, numbered as Excel shows them."""
    rows = xlsx_import.read_xlsx(
        data,
        headers(),
        max_rows=MAX_ROWS,
        required=[_header(n) for n in REQUIRED_HEADERS],
    )
    names = [name for name, _label in COLUMNS]
    return [(number, dict(zip(names, values, strict=True))) for number, values in rows]


def import_xlsx(data: bytes) -> ImportResult:
    """All-or-nothing import of an administrator's .xlsx. On errors nothing is changed.

    Raises xlsx_import.ImportRefused when the file itself is unusable."""
    clean, errors = validate_rows(read_xlsx(data))
    if errors:
        return ImportResult(errors=errors)
    try:
        with db.session.begin_nested():
            return apply_rows(clean, overwrite=True)
    except Exception:
        log.exception("personnel project import failed while applying")
        raise xlsx_import.ImportRefused(_("导入失败，数据未做任何修改，请检查文件后重试")) from None


def template_rows():
    """The current catalogue as template rows: edit and re-import to maintain it."""
    projects = db.session.execute(
        select(PersonnelProject).order_by(
            PersonnelProject.personnel_type, PersonnelProject.code, PersonnelProject.id
        )
    ).scalars()
    for p in projects:
        yield [
            p.personnel_type,
            p.code,
            p.name,
            p.level,
            APPROVAL_TEXT.get(p.approval_level or "", ""),
            p.notes or "",
            "是" if p.active else "否",
        ]


def headers() -> list[str]:
    return [str(label) for _name, label in COLUMNS]
