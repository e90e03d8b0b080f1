"""强制检定器具信息导入 (seed 003 appendix 1): the .xlsx template (instructions row, dropdowns,
the catalogue and the division list as extra sheets) and the all-or-nothing import.

Every row and column is validated; a file with any error imports nothing and yields an error
report; a clean file is inserted in one transaction with one bulk INSERT."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import xlsxwriter
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import (
    DELIVERY_MODE_LABELS,
    INSTRUMENT_ORIGIN_LABELS,
    INSTRUMENT_PURPOSE_LABELS,
    INSTRUMENT_TYPE_LABELS,
    Division,
    Instrument,
    InstrumentItem,
    InstrumentKind,
    utcnow,
)
from ecqs.services import audit, workdays, xlsx_export, xlsx_import

SHEET_TITLE = "强检器具信息"
HEADER_ROW = 2  # row 1 holds the instructions
FIRST_DATA_ROW = 3
MAX_QUANTITY = 100_000


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool
    kind: str = "text"  # text, enum, kind, division, date, int
    max_len: int = 100
    choices: dict | None = None

    @property
    def label(self) -> str:
        return self.header.rstrip("*")


COLUMNS = (
    Column("name", "器具名称*", True, max_len=100),
    Column("instrument_type", "器具类型*", True, "enum", choices=INSTRUMENT_TYPE_LABELS),
    Column("kind_id", "强检器具种别代码*", True, "kind"),
    Column("model_spec", "型号规格*", True, max_len=100),
    Column("measuring_range", "测量范围*", True, max_len=100),
    Column("accuracy_class", "准确度等级*", True, max_len=50),
    Column("serial_no", "出厂编号*", True, max_len=60),
    Column("manufacturer", "生产厂家*", True, max_len=120),
    Column("origin", "器具产地*", True, "enum", choices=INSTRUMENT_ORIGIN_LABELS),
    Column("usage_division_code", "使用地点行政区划代码*", True, "division"),
    Column("usage_place", "安装/使用地点*", True, max_len=200),
    Column("purchase_date", "购置时间", False, "date"),
    Column("quantity", "器具数量*", True, "int"),
    Column("purpose", "器具用途*", True, "enum", choices=INSTRUMENT_PURPOSE_LABELS),
    Column("delivery_mode", "送检方式*", True, "enum", choices=DELIVERY_MODE_LABELS),
    Column("valid_until", "有效期至", False, "date"),
)
HEADERS = [c.header for c in COLUMNS]
INSTRUCTIONS = (
    "填写说明：1. 带 * 的列必填，第 3 行起每行一台（套）器具，请勿修改表头、请勿使用公式；"
    "2. “强检器具种别代码”按《强检器具目录》工作表填写，“使用地点行政区划代码”按《行政区划信息》工作表填写；"
    "3. 器具类型、器具产地、器具用途、送检方式请从下拉列表选择；4. 日期格式如 2026-01-31；"
    "5. 同一种别下出厂编号不能重复；6. “有效期至”一经导入不可修改，请谨慎填写；"
    "7. 文件中任何一行有错误时全部不导入，请按错误报告修改后重新导入；每个文件最多 50000 行。"
)


# ---- template ------------------------------------------------------------------------------


def write_template(path: str) -> None:
    """强制检定器具信息导入模板 with the catalogue and division list as extra sheets."""
    wb = xlsxwriter.Workbook(
        path, {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    )
    ws = xlsx_export.template_sheet(
        wb,
        SHEET_TITLE,
        INSTRUCTIONS,
        HEADERS,
        [14 if c.kind in ("enum", "date", "int") else 22 for c in COLUMNS],
        instruction_height=75,
        required=frozenset(i for i, c in enumerate(COLUMNS) if c.required),
        date_columns=frozenset(i for i, c in enumerate(COLUMNS) if c.kind == "date"),
    )
    ws.freeze_panes(HEADER_ROW, 0)
    cat = wb.add_worksheet("强检器具目录")
    div = wb.add_worksheet("行政区划信息")
    lists = wb.add_worksheet("选项")
    head = wb.add_format(xlsx_export.HEADER_FORMAT)  # the same format as the first sheet's
    last = FIRST_DATA_ROW - 1 + xlsx_import.MAX_ROWS

    # Catalogue and divisions, also the sources of the code dropdowns.
    cat_rows = db.session.execute(
        select(InstrumentItem.code, InstrumentItem.name, InstrumentKind.code, InstrumentKind.name)
        .join(InstrumentKind, InstrumentKind.item_id == InstrumentItem.id)
        .order_by(InstrumentKind.code)
    ).all()
    for c, h in enumerate(("项别代码", "项别", "强检器具种别代码", "种别")):
        cat.write_string(0, c, h, head)
        cat.set_column(c, c, 20)
    for r, row in enumerate(cat_rows, start=1):
        for c, value in enumerate(row):
            cat.write_string(r, c, value)
    divisions = db.session.execute(select(Division).order_by(Division.code)).scalars().all()
    names = {d.code: d for d in divisions}
    for c, h in enumerate(("行政区划代码", "名称", "全称")):
        div.write_string(0, c, h, head)
        div.set_column(c, c, 14 if c == 0 else 30)
    for r, d in enumerate(divisions, start=1):
        div.write_string(r, 0, d.code)
        div.write_string(r, 1, d.name)
        div.write_string(r, 2, _full_name(d, names))

    for col, column in enumerate(COLUMNS):
        if column.kind == "enum":
            values = [str(v) for v in column.choices.values()]
            for r, v in enumerate(values):
                lists.write_string(r, col, v)
            letter = xlsx_col(col)
            ws.data_validation(
                FIRST_DATA_ROW - 1,
                col,
                last,
                col,
                {
                    "validate": "list",
                    "source": f"='选项'!${letter}$1:${letter}${len(values)}",
                    "error_title": column.label,
                    "error_message": "请从下拉列表中选择",
                },
            )
        elif column.kind == "kind" and cat_rows:
            ws.data_validation(
                FIRST_DATA_ROW - 1,
                col,
                last,
                col,
                {"validate": "list", "source": f"='强检器具目录'!$C$2:$C${len(cat_rows) + 1}"},
            )
        elif column.kind == "division" and divisions:
            ws.data_validation(
                FIRST_DATA_ROW - 1,
                col,
                last,
                col,
                {
                    "validate": "list",
                    "source": f"='行政区划信息'!$A$2:$A${len(divisions) + 1}",
                    "show_error": False,
                },
            )
        elif column.kind == "int":
            ws.data_validation(
                FIRST_DATA_ROW - 1,
                col,
                last,
                col,
                {
                    "validate": "integer",
                    "criteria": "between",
                    "minimum": 1,
                    "maximum": MAX_QUANTITY,
                    "error_message": f"请填写 1 到 {MAX_QUANTITY} 之间的整数",
                },
            )
        elif column.kind == "date":
            ws.data_validation(
                FIRST_DATA_ROW - 1,
                col,
                last,
                col,
                {
                    "validate": "date",
                    "criteria": "between",
                    "minimum": date(1950, 1, 1),
                    "maximum": date(2100, 12, 31),
                    "error_message": "请填写日期，如 2026-01-31",
                },
            )
    lists.hide()
    ws.activate()
    wb.close()


def _full_name(d: Division, by_code: dict) -> str:
    names, node = [], d
    while node is not None:
        if node.name not in {"市辖区", "县"} or node is d:
            names.append(node.name)
        node = by_code.get(node.parent_code) if node.parent_code else None
    return "".join(reversed(names))


def xlsx_col(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# ---- validation ----------------------------------------------------------------------------


class _Lookups:
    """Reference data loaded once per import."""

    def __init__(self, organization_id: int):
        self.kinds = dict(db.session.execute(select(InstrumentKind.code, InstrumentKind.id)).all())
        self.kind_codes = {v: k for k, v in self.kinds.items()}
        self.divisions = set(db.session.execute(select(Division.code)).scalars())
        self.existing = set(
            db.session.execute(
                select(Instrument.kind_id, Instrument.serial_no).where(
                    Instrument.organization_id == organization_id
                )
            ).all()
        )
        self.enums = {
            c.key: {str(label): code for code, label in c.choices.items()} for c in COLUMNS if c.choices
        }


def validate_rows(raw_rows, organization_id: int):
    """Returns (records, errors); records are dicts ready for a bulk insert."""
    lookups = _Lookups(organization_id)
    today = workdays.today()
    records, errors = [], []
    seen: dict[tuple[int, str], int] = {}
    for row_no, values in xlsx_import.validating(raw_rows):
        record: dict = {}
        row_errors = []
        for column, value in zip(COLUMNS, values, strict=True):
            try:
                parsed = _parse(column, value, lookups, today)
            except ValueError as exc:
                row_errors.append(xlsx_import.CellError(row_no, column.label, str(exc), value))
                continue
            if parsed in (None, "") and column.required:
                row_errors.append(xlsx_import.CellError(row_no, column.label, _("不能为空"), value))
                continue
            record[column.key] = parsed if parsed != "" else None
        kind_id, serial = record.get("kind_id"), record.get("serial_no")
        if kind_id and serial:
            key = (kind_id, serial)
            label = _("出厂编号")
            if key in lookups.existing:
                row_errors.append(
                    xlsx_import.CellError(
                        row_no,
                        label,
                        _(
                            "出厂编号“%(serial)s”（种别代码 %(kind)s）已存在于台账中",
                            serial=serial,
                            kind=lookups.kind_codes[kind_id],
                        ),
                        serial,
                    )
                )
            elif key in seen:
                row_errors.append(
                    xlsx_import.CellError(
                        row_no,
                        label,
                        _(
                            "出厂编号“%(serial)s”（种别代码 %(kind)s）与第 %(row)d 行重复",
                            serial=serial,
                            kind=lookups.kind_codes[kind_id],
                            row=seen[key],
                        ),
                        serial,
                    )
                )
            else:
                seen[key] = row_no
        if record.get("purchase_date") and record["purchase_date"] > today:
            row_errors.append(
                xlsx_import.CellError(row_no, _("购置时间"), _("不能晚于今天"), record["purchase_date"])
            )
        if row_errors:
            errors.extend(row_errors)
        else:
            records.append(record)
    return records, errors


def _parse(column: Column, value, lookups: _Lookups, today: date):
    if column.kind == "text":
        return xlsx_import.as_text(value, column.max_len)
    if column.kind == "enum":
        text = xlsx_import.as_text(value, 20)
        if not text:
            return ""
        if text not in lookups.enums[column.key]:
            raise ValueError(_("只能填写：%(values)s", values="、".join(lookups.enums[column.key])))
        return lookups.enums[column.key][text]
    if column.kind == "kind":
        code = xlsx_import.as_code(value)
        if not code:
            return ""
        if code not in lookups.kinds:
            raise ValueError(_("强检器具种别代码“%(code)s”不存在，请按《强检器具目录》填写", code=code))
        return lookups.kinds[code]
    if column.kind == "division":
        code = xlsx_import.as_code(value)
        if not code:
            return ""
        if code not in lookups.divisions:
            raise ValueError(_("行政区划代码“%(code)s”不存在，请按《行政区划信息》填写", code=code))
        return code
    if column.kind == "date":
        return xlsx_import.as_date(value)
    if column.kind == "int":
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return xlsx_import.as_int(value, 1, MAX_QUANTITY)
    raise AssertionError(column.kind)


# ---- the import ----------------------------------------------------------------------------


def import_file(data: bytes, user, organization_id: int) -> xlsx_import.ImportResult:
    """Validate the whole file; insert every row in this transaction only if all are valid.

    Raises xlsx_import.ImportRefused for a file refused as a whole. Flushes, never commits."""
    raw = xlsx_import.read_xlsx(data, HEADERS, header_row=HEADER_ROW, empty_message=_("模板中没有器具数据"))
    records, errors = validate_rows(raw, organization_id)
    outcome = xlsx_import.ImportResult()
    if errors:
        outcome.errors = errors
        outcome.report = xlsx_import.save_error_report(errors, user)
        audit.record(
            "instrument_import",
            user=user,
            result="failure",
            object_type="Instrument",
            comment=f"{len(raw)} rows, {len(errors)} errors",
        )
        return outcome
    now = utcnow()
    for record in records:
        record.update(
            organization_id=organization_id,
            status="in_use",
            version=1,
            created_at=now,
            created_by_id=getattr(user, "id", None),
        )
    try:
        with db.session.begin_nested():
            db.session.execute(insert(Instrument), records)
    except IntegrityError:
        raise xlsx_import.ImportRefused(
            _("导入的器具与台账中已有器具的出厂编号重复（可能有其他用户同时录入），请刷新后重试")
        ) from None
    outcome.added = len(records)
    audit.record(
        "instrument_import", user=user, object_type="Instrument", comment=f"{len(records)} rows imported"
    )
    return outcome
