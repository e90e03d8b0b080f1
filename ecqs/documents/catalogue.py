"""申请材料目录 maintenance: the seed loader (seed/application_documents.csv) and the
administrators' .xlsx import, through one row validation. The import is all-or-nothing: a file
with any error changes nothing and returns a per-row, per-column Chinese report; a clean file is
applied as one unit (a document is matched by business + name: new rows added, others updated)."""

from __future__ import annotations

from sqlalchemy import select

from ecqs.documents.rules import CATEGORY_LABELS
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import LIST_SEPARATOR, PERSONNEL_TYPES, DocumentRequirement, LicenceItem, split_list
from ecqs.services import xlsx_import
from ecqs.services.seed_files import read_csv
from ecqs.services.xlsx_import import CellError, ImportResult

SEED_FILE = "application_documents.csv"
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
DOMAIN_BY_LABEL = {
    "生产单位许可": "licence",
    "人员资格认定": "qualification",
    "licence": "licence",
    "qualification": "qualification",
}
DOMAIN_LABEL = {"licence": "生产单位许可", "qualification": "人员资格认定"}
YES_NO = {"是": True, "否": False}
ACTIVE = {"是": True, "否": False, "": True}

# (attribute, header, required, max length)
COLUMNS = (
    ("domain", _l("业务"), True, 20),
    ("name", _l("材料名称"), True, 100),
    ("applies_to", _l("适用类型"), False, 200),
    ("categories", _l("适用申请类别"), False, 200),
    ("required", _l("是否必须提交"), True, 2),
    ("basis", _l("依据"), False, 300),
    ("sort_order", _l("排序"), False, 6),
    ("active", _l("启用"), False, 2),
)


def headers() -> list[str]:
    return [str(header) for _attr, header, _req, _max in COLUMNS]


def _header(attr: str) -> str:
    return next(str(h) for a, h, _r, _m in COLUMNS if a == attr)


def kinds(domain: str) -> list[str]:
    """The types a document may be limited to: licence types of the catalogue, personnel types."""
    if domain == "qualification":
        return list(PERSONNEL_TYPES)
    return sorted(set(db.session.execute(select(LicenceItem.licence_type)).scalars()))


def validate_row(record: dict, number: int, errors: list[CellError]) -> dict | None:
    """Check one row (text values keyed by attribute); the clean values, or None after errors."""
    before = len(errors)

    def err(attr, message):
        errors.append(CellError(number, _header(attr), message, record.get(attr)))

    for attr, _h, required, max_len in COLUMNS:
        value = record.get(attr, "")
        if required and not value:
            err(attr, _("不能为空"))
        elif len(value) > max_len:
            err(attr, _("不能超过 %(n)d 个字符", n=max_len))
    domain = DOMAIN_BY_LABEL.get(record.get("domain", ""))
    if record.get("domain") and domain is None:
        err("domain", _("只能填写“生产单位许可”或“人员资格认定”"))
    if domain is not None:
        allowed = kinds(domain)
        # Licence types come from 许可项目目录; before it is loaded there is nothing to check against.
        unknown = [k for k in split_list(record.get("applies_to")) if allowed and k not in allowed]
        if unknown:
            err(
                "applies_to",
                _(
                    "“%(value)s”不是可选的类型（%(allowed)s；不填表示全部）",
                    value="、".join(unknown),
                    allowed="、".join(allowed),
                ),
            )
        labels = [str(v) for v in CATEGORY_LABELS[domain].values()]
        unknown = [c for c in split_list(record.get("categories")) if c not in labels]
        if unknown:
            err(
                "categories",
                _(
                    "“%(value)s”不是可选的申请类别（%(allowed)s；不填表示全部）",
                    value="、".join(unknown),
                    allowed="、".join(labels),
                ),
            )
    if record.get("required") and record["required"] not in YES_NO:
        err("required", _("只能填写“是”或“否”"))
    if record.get("active", "") not in ACTIVE:
        err("active", _("只能填写“是”或“否”"))
    sort_text = record.get("sort_order", "")
    if sort_text and not sort_text.isdigit():
        err("sort_order", _("请填写非负整数"))
    if len(errors) > before:
        return None
    return {
        "domain": domain,
        "name": record["name"],
        "applies_to": LIST_SEPARATOR.join(split_list(record.get("applies_to"))),
        "categories": LIST_SEPARATOR.join(split_list(record.get("categories"))),
        "required": YES_NO[record["required"]],
        "basis": record.get("basis") or None,
        "sort_order": int(sort_text or 0),
        "active": ACTIVE[record.get("active", "")],
    }


def _key(row) -> tuple[str, str]:
    if isinstance(row, DocumentRequirement):
        return (row.domain, row.name)
    return (row["domain"], row["name"])


def load_seed() -> int:
    """Insert rows of seed/application_documents.csv that are missing; never overwrites what
    administrators changed since. Returns the number added."""
    existing = {_key(r) for r in db.session.execute(select(DocumentRequirement)).scalars()}
    added = 0
    for number, raw in enumerate(read_csv(SEED_FILE), start=2):
        errors: list[CellError] = []
        row = validate_row({k: (v or "").strip() for k, v in raw.items()}, number, errors)
        if row is None:
            raise ValueError(f"seed/{SEED_FILE}: " + "; ".join(str(e) for e in errors))
        if _key(row) in existing:
            continue
        db.session.add(DocumentRequirement(**row))
        existing.add(_key(row))
        added += 1
    db.session.flush()
    return added


def template_rows():
    """The current catalogue in the import layout (so the template is also a full export)."""
    stmt = select(DocumentRequirement).order_by(
        DocumentRequirement.domain, DocumentRequirement.sort_order, DocumentRequirement.id
    )
    for r in db.session.execute(stmt).scalars():
        yield [
            DOMAIN_LABEL[r.domain],
            r.name,
            r.applies_to,
            r.categories,
            "是" if r.required else "否",
            r.basis or "",
            r.sort_order,
            "是" if r.active else "否",
        ]


def import_requirements(data: bytes) -> ImportResult:
    """Validate the whole file, then apply it in one unit, or apply nothing. Raises
    xlsx_import.ImportRefused when the file itself is unusable. The caller commits."""
    required = [str(h) for _a, h, req, _m in COLUMNS if req]
    rows = xlsx_import.read_xlsx(data, headers(), max_rows=MAX_ROWS, required=required)
    attrs = [a for a, _h, _r, _m in COLUMNS]
    errors: list[CellError] = []
    parsed: list[dict] = []
    seen: dict[tuple, int] = {}
    for number, values in rows:
        record = dict(zip(attrs, map(xlsx_import.as_code, values), strict=True))
        row = validate_row(record, number, errors)
        if row is None:
            continue
        if _key(row) in seen:
            errors.append(CellError(number, _header("name"), _("与第 %(row)d 行重复", row=seen[_key(row)])))
            continue
        seen[_key(row)] = number
        parsed.append(row)
    result = ImportResult(errors=errors)
    if errors:
        return result
    existing = {_key(r): r for r in db.session.execute(select(DocumentRequirement)).scalars()}
    for row in parsed:
        current = existing.get(_key(row))
        if current is None:
            db.session.add(DocumentRequirement(**row))
            result.added += 1
            continue
        changed = False
        for attr, value in row.items():
            if getattr(current, attr) != value:
                setattr(current, attr, value)
                changed = True
        result.updated += int(changed)
    db.session.flush()
    return result
