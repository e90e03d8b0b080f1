"""许可项目目录 .xlsx import: every row is validated first; a file with any error imports
nothing and returns a per-row, per-column report; a clean file is applied as one unit
(insert new rows, update existing ones matched by their natural key).

Reading the file (archive checks, header, formulas), the errors, the result and the error
report are the shared ones of ecqs/xlsx_import.py; this module keeps the rows' rules."""

from __future__ import annotations

from sqlalchemy import select

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.licences.seed import item_key
from ecqs.models import LICENCE_EQUIPMENT_CATEGORIES, LicenceItem
from ecqs.services import xlsx_import
from ecqs.services.xlsx_import import CellError, ImportResult

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000

# (attribute, header, required, max length)
COLUMNS = (
    ("equipment_category", _l("设备类别"), True, 30),
    ("licence_type", _l("许可类型"), True, 20),
    ("item", _l("许可项目"), True, 100),
    ("sub_item", _l("品种"), False, 100),
    ("level", _l("参数级别"), False, 10),
    ("approval", _l("审批级别"), True, 10),
    ("notes", _l("备注"), False, 2000),
    ("active", _l("启用"), False, 2),
)
APPROVAL_BY_LABEL = {"国家": "national", "省级": "provincial"}
APPROVAL_LABEL = {v: k for k, v in APPROVAL_BY_LABEL.items()}
YES_NO = {"是": True, "否": False, "": True}


def headers() -> list[str]:
    return [str(header) for _attr, header, _req, _max in COLUMNS]


def template_rows():
    """The current catalogue in the import layout (so the template is also a full export)."""
    stmt = select(LicenceItem).order_by(
        LicenceItem.equipment_category, LicenceItem.licence_type, LicenceItem.id
    )
    for item in db.session.execute(stmt).scalars():
        yield [
            item.equipment_category,
            item.licence_type,
            item.item,
            item.sub_item,
            item.level,
            APPROVAL_LABEL[item.approval],
            item.notes or "",
            "是" if item.active else "否",
        ]


def _read(data: bytes) -> list[tuple[int, dict]]:
    """The rows keyed by attribute, each cell as stripped text."""
    required = [str(header) for _attr, header, req, _max in COLUMNS if req]
    rows = xlsx_import.read_xlsx(data, headers(), max_rows=MAX_ROWS, required=required)
    attrs = [attr for attr, _h, _r, _m in COLUMNS]
    return [
        (number, dict(zip(attrs, map(xlsx_import.as_code, values), strict=True))) for number, values in rows
    ]


def _validate(rows: list[tuple[int, dict]]) -> tuple[list[dict], list[CellError]]:
    errors: list[CellError] = []
    parsed: list[dict] = []
    seen: dict[tuple, int] = {}
    for number, record in xlsx_import.validating(rows):
        row_errors = []
        for attr, header, required, max_len in COLUMNS:
            value = record.get(attr, "")
            if required and not value:
                row_errors.append(CellError(number, str(header), _("不能为空"), value))
            elif len(value) > max_len:
                row_errors.append(
                    CellError(number, str(header), _("不能超过 %(n)d 个字符", n=max_len), value)
                )
        category = record.get("equipment_category", "")
        if category and category not in LICENCE_EQUIPMENT_CATEGORIES:
            row_errors.append(
                CellError(
                    number,
                    str(COLUMNS[0][1]),
                    _(
                        "“%(value)s”不是目录中的设备类别（%(allowed)s）",
                        value=category,
                        allowed="、".join(LICENCE_EQUIPMENT_CATEGORIES),
                    ),
                    category,
                )
            )
        approval = record.get("approval", "")
        if approval and approval not in APPROVAL_BY_LABEL:
            row_errors.append(CellError(number, str(COLUMNS[5][1]), _("只能填写“国家”或“省级”"), approval))
        active = record.get("active", "")
        if active not in YES_NO:
            row_errors.append(CellError(number, str(COLUMNS[7][1]), _("只能填写“是”或“否”"), active))
        if row_errors:
            errors.extend(row_errors)
            continue
        entry = {
            "equipment_category": category,
            "licence_type": record["licence_type"],
            "item": record["item"],
            "sub_item": record.get("sub_item", ""),
            "level": record.get("level", ""),
            "approval": APPROVAL_BY_LABEL[approval],
            "notes": record.get("notes") or None,
            "active": YES_NO[active],
        }
        key = item_key(entry)
        if key in seen:
            errors.append(CellError(number, str(COLUMNS[2][1]), _("与第 %(row)d 行重复", row=seen[key])))
            continue
        seen[key] = number
        parsed.append(entry)
    return parsed, errors


def import_items(data: bytes) -> ImportResult:
    """Validate the whole file, then apply it in one unit, or apply nothing.

    Raises xlsx_import.ImportRefused when the file itself is unusable. The caller commits."""
    parsed, errors = _validate(_read(data))
    result = ImportResult(errors=errors)
    if errors:
        return result
    existing = {item_key(item): item for item in db.session.execute(select(LicenceItem)).scalars()}
    for entry in parsed:
        item = existing.get(item_key(entry))
        if item is None:
            db.session.add(LicenceItem(**entry))
            result.added += 1
        else:
            changed = False
            for attr in ("approval", "notes", "active"):
                if getattr(item, attr) != entry[attr]:
                    setattr(item, attr, entry[attr])
                    changed = True
            result.updated += int(changed)
    db.session.flush()
    return result
