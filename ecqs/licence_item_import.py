"""许可项目目录 .xlsx import: every row is validated first; a file with any error imports
nothing and returns a per-row, per-column report; a clean file is applied as one unit
(insert new rows, update existing ones matched by their natural key).

The archive is checked (size, number of zip entries, uncompressed size) before openpyxl parses
it; defusedxml is installed, so openpyxl parses the XML parts safely."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .extensions import db
from .licence_seed import item_key
from .models import LICENCE_EQUIPMENT_CATEGORIES, LicenceItem

MAX_BYTES = 5 * 1024 * 1024
MAX_ZIP_ENTRIES = 100
MAX_UNCOMPRESSED = 50 * 1024 * 1024
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


class CatalogueImportError(Exception):
    """The file itself is refused (not an .xlsx, too large, no sheet...)."""


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


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


def _check_archive(data: bytes) -> None:
    if len(data) > MAX_BYTES:
        raise CatalogueImportError(_("文件不能超过 %(mb)d MB", mb=MAX_BYTES // (1024 * 1024)))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise CatalogueImportError(_("文件不是有效的 Excel (.xlsx) 文件")) from None
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > MAX_UNCOMPRESSED:
        raise CatalogueImportError(_("文件内容过大或结构异常，已拒绝"))
    if "xl/workbook.xml" not in {e.filename for e in entries}:
        raise CatalogueImportError(_("文件不是有效的 Excel (.xlsx) 文件"))


def _read(data: bytes) -> list[tuple[int, dict]]:
    import openpyxl

    _check_archive(data)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise CatalogueImportError(_("文件不是有效的 Excel (.xlsx) 文件")) from None
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    first = next(rows, None)
    if first is None:
        raise CatalogueImportError(_("文件中没有数据"))
    names = [str(v).strip() if v is not None else "" for v in first]
    wanted = {str(header): attr for attr, header, _req, _max in COLUMNS}
    positions = {wanted[name]: i for i, name in enumerate(names) if name in wanted}
    missing = [str(h) for a, h, req, _m in COLUMNS if req and a not in positions]
    if missing:
        raise CatalogueImportError(_("缺少列：%(cols)s", cols="、".join(missing)))
    result = []
    for number, values in enumerate(rows, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        if len(result) >= MAX_ROWS:
            raise CatalogueImportError(_("一次最多导入 %(n)d 行", n=MAX_ROWS))
        record = {}
        for attr, pos in positions.items():
            value = values[pos] if pos < len(values) else None
            record[attr] = "" if value is None else str(value).strip()
        result.append((number, record))
    wb.close()
    return result


def _validate(rows: list[tuple[int, dict]]) -> tuple[list[dict], list[RowError]]:
    errors: list[RowError] = []
    parsed: list[dict] = []
    seen: dict[tuple, int] = {}
    for number, record in rows:
        row_errors = []
        for attr, header, required, max_len in COLUMNS:
            value = record.get(attr, "")
            if required and not value:
                row_errors.append(RowError(number, str(header), _("必填")))
            elif len(value) > max_len:
                row_errors.append(RowError(number, str(header), _("不能超过 %(n)d 个字", n=max_len)))
        category = record.get("equipment_category", "")
        if category and category not in LICENCE_EQUIPMENT_CATEGORIES:
            row_errors.append(
                RowError(
                    number,
                    str(COLUMNS[0][1]),
                    _(
                        "“%(value)s”不是目录中的设备类别（%(allowed)s）",
                        value=category,
                        allowed="、".join(LICENCE_EQUIPMENT_CATEGORIES),
                    ),
                )
            )
        approval = record.get("approval", "")
        if approval and approval not in APPROVAL_BY_LABEL:
            row_errors.append(RowError(number, str(COLUMNS[5][1]), _("只能填写“国家”或“省级”")))
        active = record.get("active", "")
        if active not in YES_NO:
            row_errors.append(RowError(number, str(COLUMNS[7][1]), _("只能填写“是”或“否”")))
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
            errors.append(RowError(number, str(COLUMNS[2][1]), _("与第 %(row)d 行重复", row=seen[key])))
            continue
        seen[key] = number
        parsed.append(entry)
    return parsed, errors


def import_items(data: bytes) -> ImportResult:
    """Validate the whole file, then apply it in one unit, or apply nothing.

    Raises CatalogueImportError when the file itself is unusable. The caller commits."""
    rows = _read(data)
    if not rows:
        raise CatalogueImportError(_("文件中没有数据"))
    parsed, errors = _validate(rows)
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
