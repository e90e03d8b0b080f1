"""强检器具目录: the seed loader and the administrators' .xlsx import (all or nothing, the same
validation for both), plus the import template."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import xlsxwriter
from sqlalchemy import select

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import InstrumentItem, InstrumentKind
from ecqs.services import xlsx_export, xlsx_import

CODE_RE = re.compile(r"^[0-9A-Za-z.\-]{1,20}$")
SHEET_TITLE = "强检器具目录"
HEADERS = ["项别代码*", "项别*", "种别代码*", "种别*", "监管方式", "强制检定方式", "检定周期（月）"]
PERIOD_RANGE = (1, 240)  # 检定周期 in months: the database holds the same bounds
INSTRUCTIONS = (
    "填写说明：第 3 行起每行一个种别；带 * 的列必填；代码只能由字母、数字、点和短横线组成（不超过 20 位）。"
    "检定周期填 1 至 240 的整数（月），用于推算检定结果的新有效期至，可留空。"
    "已有的项别、种别按代码更新名称，新代码新增；已有种别不能改挂到其他项别下。请勿修改表头。"
)


@dataclass
class CatalogueRow:
    item_code: str
    item_name: str
    kind_code: str
    kind_name: str
    type_approval: str | None = None
    compulsory_verification: str | None = None
    verification_period_months: int | None = None


@dataclass
class CatalogueResult(xlsx_import.ImportResult):
    rows: list[CatalogueRow] = field(default_factory=list)
    items_added: int = 0
    kinds_added: int = 0


def validate(raw_rows) -> CatalogueResult:
    """raw_rows: (row_number, [item_code, item, kind_code, kind, type_approval, verification,
    period in months])."""
    result = CatalogueResult()
    item_names: dict[str, tuple[str, int]] = {}
    kind_rows: dict[str, int] = {}
    existing_kind_item = dict(
        db.session.execute(
            select(InstrumentKind.code, InstrumentItem.code).join(
                InstrumentItem, InstrumentItem.id == InstrumentKind.item_id
            )
        ).all()
    )
    labels = [xlsx_import.normalise_header(h) for h in HEADERS]
    for row_no, values in xlsx_import.validating(raw_rows):
        errors_before = len(result.errors)
        cleaned = []
        values = list(values) + [None] * (len(HEADERS) - len(values))
        period = None
        if values[6] not in (None, ""):
            try:
                period = xlsx_import.as_int(values[6], *PERIOD_RANGE)
            except ValueError as exc:
                result.errors.append(xlsx_import.CellError(row_no, labels[6], str(exc), values[6]))
        for col, (value, max_len) in enumerate(zip(values[:6], (20, 100, 20, 100, 60, 60), strict=True)):
            try:
                text = xlsx_import.as_code(value) if col in (0, 2) else xlsx_import.as_text(value, max_len)
                if len(text) > max_len:
                    raise ValueError(_("不能超过 %(n)d 个字符", n=max_len))
            except ValueError as exc:
                result.errors.append(xlsx_import.CellError(row_no, labels[col], str(exc), value))
                text = ""
            cleaned.append(text)
        item_code, item_name, kind_code, kind_name, type_approval, verification = cleaned
        for col in range(4):
            if not cleaned[col]:
                result.errors.append(xlsx_import.CellError(row_no, labels[col], _("不能为空"), values[col]))
        for col, code in ((0, item_code), (2, kind_code)):
            if code and not CODE_RE.match(code):
                result.errors.append(
                    xlsx_import.CellError(
                        row_no, labels[col], _("代码只能由字母、数字、点和短横线组成（不超过 20 位）"), code
                    )
                )
        if item_code and item_name:
            if item_code in item_names and item_names[item_code][0] != item_name:
                result.errors.append(
                    xlsx_import.CellError(
                        row_no,
                        labels[1],
                        _(
                            "项别代码“%(code)s”在第 %(row)d 行的名称为“%(name)s”，同一代码名称必须一致",
                            code=item_code,
                            row=item_names[item_code][1],
                            name=item_names[item_code][0],
                        ),
                        item_name,
                    )
                )
            item_names.setdefault(item_code, (item_name, row_no))
        if kind_code:
            if kind_code in kind_rows:
                result.errors.append(
                    xlsx_import.CellError(
                        row_no,
                        labels[2],
                        _("种别代码“%(code)s”与第 %(row)d 行重复", code=kind_code, row=kind_rows[kind_code]),
                        kind_code,
                    )
                )
            kind_rows.setdefault(kind_code, row_no)
            owner = existing_kind_item.get(kind_code)
            if owner is not None and item_code and owner != item_code:
                result.errors.append(
                    xlsx_import.CellError(
                        row_no,
                        labels[2],
                        _(
                            "种别代码“%(code)s”已属于项别“%(item)s”，不能改挂到其他项别",
                            code=kind_code,
                            item=owner,
                        ),
                        kind_code,
                    )
                )
        if len(result.errors) == errors_before:
            result.rows.append(
                CatalogueRow(
                    item_code,
                    item_name,
                    kind_code,
                    kind_name,
                    type_approval or None,
                    verification or None,
                    period,
                )
            )
    return result


def apply(result: CatalogueResult) -> CatalogueResult:
    """Upsert the validated rows (call only when there are no errors). Flushes; caller commits."""
    items = {i.code: i for i in db.session.execute(select(InstrumentItem)).scalars()}
    kinds = {k.code: k for k in db.session.execute(select(InstrumentKind)).scalars()}
    for row in result.rows:
        item = items.get(row.item_code)
        if item is None:
            item = InstrumentItem(code=row.item_code, name=row.item_name)
            db.session.add(item)
            items[row.item_code] = item
            result.items_added += 1
        elif item.name != row.item_name:
            item.name = row.item_name
            result.updated += 1
        kind = kinds.get(row.kind_code)
        if kind is None:
            kind = InstrumentKind(code=row.kind_code, item=item)
            db.session.add(kind)
            kinds[row.kind_code] = kind
            result.kinds_added += 1
        elif (
            kind.name,
            kind.type_approval,
            kind.compulsory_verification,
            kind.verification_period_months,
        ) != (
            row.kind_name,
            row.type_approval,
            row.compulsory_verification,
            row.verification_period_months,
        ):
            result.updated += 1
        kind.name = row.kind_name
        kind.type_approval = row.type_approval
        kind.compulsory_verification = row.compulsory_verification
        kind.verification_period_months = row.verification_period_months
    db.session.flush()
    return result


def load_seed(rows: list[dict]) -> int:
    """Seed loader (idempotent): the rows of seed/instrument_catalogue.csv, through the same
    validation as the administrators' import."""
    raw = [
        (
            n,
            [
                r["item_code"],
                r["item"],
                r["kind_code"],
                r["kind"],
                r.get("type_approval"),
                r.get("compulsory_verification"),
                r.get("verification_period_months"),
            ],
        )
        for n, r in enumerate(rows, start=2)
    ]
    result = validate(raw)
    if result.errors:
        raise ValueError(f"seed/instrument_catalogue.csv: {result.errors[:5]}")
    apply(result)
    return result.items_added + result.kinds_added


def import_xlsx(data: bytes) -> CatalogueResult:
    """Validate an uploaded catalogue; apply it only when every row is valid."""
    result = validate(xlsx_import.read_xlsx(data, HEADERS, header_row=2))
    if not result.errors:
        apply(result)
    return result


def write_template(path: str) -> None:
    """The catalogue import template, pre-filled with the current catalogue."""
    wb = xlsxwriter.Workbook(path, {"strings_to_numbers": False, "strings_to_formulas": False})
    widths = [16 if col in (0, 2) else 28 for col in range(len(HEADERS))]  # the codes narrower
    ws = xlsx_export.template_sheet(wb, SHEET_TITLE, INSTRUCTIONS, HEADERS, widths, instruction_height=48)
    rows = db.session.execute(
        select(InstrumentItem.code, InstrumentItem.name, InstrumentKind)
        .join(InstrumentKind, InstrumentKind.item_id == InstrumentItem.id)
        .order_by(InstrumentItem.code, InstrumentKind.code)
    ).all()
    for r, (item_code, item_name, kind) in enumerate(rows, start=2):
        for c, value in enumerate(
            (
                item_code,
                item_name,
                kind.code,
                kind.name,
                kind.type_approval or "",
                kind.compulsory_verification or "",
            )
        ):
            ws.write_string(r, c, value)
        if kind.verification_period_months:
            ws.write_number(r, 6, kind.verification_period_months)
    wb.close()
