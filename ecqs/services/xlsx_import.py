"""Reading an uploaded .xlsx safely: size and zip entries are checked before any XML is parsed
(openpyxl parses with defusedxml, which is installed), the workbook is opened read-only, and
formulas, oversized sheets and foreign templates are refused with a Chinese message.

Used by every all-or-nothing .xlsx import: the instrument ledger and the three catalogues
(强检器具目录, 许可项目目录, 人员项目目录). A module importing a file keeps only its row
validation and apply logic; reading, the row errors, the result and the error report are here."""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from zlib import error as zlib_error

from openpyxl import load_workbook

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import Upload
from ecqs.services import uploads, workdays, xlsx_export

MAX_ROWS = 50_000
MAX_ZIP_ENTRIES = 2_000
MAX_UNZIPPED_BYTES = 400 * 1024 * 1024
# One part (a sheet, the shared strings) of a 50,000-row template stays well below this.
MAX_PART_BYTES = 100 * 1024 * 1024
# Rows a sheet may hold beyond its header and data rows (formatted blank rows Excel keeps).
SPARE_ROWS = 1_000
# Columns read per row: a cell far to the right (XFD) must not make every row 16,384 wide.
MAX_COLUMNS = 100
SCAN_CHUNK = 1024 * 1024
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
MAX_RATIO = 200  # a compressed entry may expand at most this much (zip bombs expand ~1000x)
REQUIRED_ENTRIES = ("[Content_Types].xml", "xl/workbook.xml")


class ImportRefused(Exception):
    """The whole file is refused (not a row error); str(exc) is the Chinese message."""


@dataclass
class CellError:
    row: int  # the Excel row number the user sees
    column: str  # the column header
    message: str
    value: object = None

    def __str__(self) -> str:
        if self.row <= 0:
            return self.message
        return _(
            "第 %(row)d 行【%(column)s】：%(message)s", row=self.row, column=self.column, message=self.message
        )


@dataclass
class ImportResult:
    """What an all-or-nothing import did: counts when applied, otherwise the errors (nothing
    applied) and, once stored, the downloadable error report (an Upload)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[CellError] = field(default_factory=list)
    report: object = None

    @property
    def ok(self) -> bool:
        return not self.errors


def read_upload(file_storage, max_bytes: int) -> bytes:
    """The uploaded bytes, refusing empty, oversized and non-.xlsx files before parsing."""
    if file_storage is None or not getattr(file_storage, "filename", ""):
        raise ImportRefused(_("请选择要导入的 Excel 文件（.xlsx）"))
    if not file_storage.filename.lower().endswith(".xlsx"):
        raise ImportRefused(_("只能导入 Excel 2007 及以上格式（.xlsx）的文件"))
    data = file_storage.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImportRefused(_("文件超过 %(mb)d MB，请拆分后分批导入", mb=max_bytes // (1024 * 1024)))
    if not data:
        raise ImportRefused(_("文件为空"))
    return data


def check_zip(data: bytes) -> None:
    """An .xlsx is a zip: check its entries (count, sizes, ratio, required parts) without
    decompressing anything."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ImportRefused(_("文件不是有效的 Excel（.xlsx）文件"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportRefused(_("文件不是有效的 Excel（.xlsx）文件")) from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise ImportRefused(_("文件结构异常（压缩包条目过多），已拒绝"))
    names = {i.filename for i in infos}
    if not all(n in names for n in REQUIRED_ENTRIES):
        raise ImportRefused(_("文件不是有效的 Excel（.xlsx）文件"))
    if "xl/vbaProject.bin" in names:
        raise ImportRefused(_("文件包含宏，已拒绝；请另存为不含宏的 .xlsx 文件"))
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ImportRefused(_("文件结构异常（压缩比过高），已拒绝"))
        if info.file_size > MAX_PART_BYTES:
            raise ImportRefused(_("文件解压后过大，请拆分后分批导入"))
    if total > MAX_UNZIPPED_BYTES:
        raise ImportRefused(_("文件解压后过大，请拆分后分批导入"))


def check_row_counts(data: bytes, max_rows: int) -> None:
    """Count the <row> elements of every sheet while streaming it (bounded memory, stopping at
    the cap), before openpyxl opens anything: without a <dimension> element openpyxl parses a
    whole sheet just to size it, keeping every row element in memory. A sheet with more rows
    than `max_rows` (data, header and a spare allowance) is refused."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    if count_sheet_rows(zf, info, max_rows) > max_rows:
                        raise ImportRefused(
                            _("工作表超过 %(n)d 行（含空行），请删除多余行或拆分后分批导入", n=max_rows)
                        )
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib_error):
        raise ImportRefused(_("无法读取该 Excel 文件，文件可能已损坏")) from None


def count_sheet_rows(zf: zipfile.ZipFile, info, cap: int) -> int:
    """The <row> elements of one sheet part, streamed in chunks without parsing the XML; stops
    once past `cap` (the result is then some number above it). A part unzipping to more than
    MAX_PART_BYTES is refused. The one row counter of the imports (the job threshold uses it)."""
    rows = read = 0
    carry = b""
    with zf.open(info) as part:
        while chunk := part.read(SCAN_CHUNK):
            read += len(chunk)
            if read > MAX_PART_BYTES:
                raise ImportRefused(_("文件解压后过大，请拆分后分批导入"))
            buffer = carry + chunk
            cut = buffer.rfind(b"<")  # a tag split over two chunks is counted with the next one
            if cut == -1:
                carry = b""
                continue
            rows += len(_ROW_TAG.findall(buffer, 0, cut))
            carry = buffer[cut:][:256]
            if rows > cap:
                return rows
    return rows + len(_ROW_TAG.findall(carry))


def first_sheet_rows(data: bytes, cap: int) -> int:
    """Rows of the first worksheet (the one every import reads), counted up to about `cap` by
    count_sheet_rows after check_zip; 0 when the file is unreadable (the import then refuses it
    with its message)."""
    try:
        check_zip(data)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            name = _first_sheet_part(zf)
            return 0 if name is None else count_sheet_rows(zf, zf.getinfo(name), cap)
    except (
        ImportRefused,
        zipfile.BadZipFile,
        OSError,
        ValueError,
        EOFError,
        KeyError,
        NotImplementedError,
        zlib_error,
    ):
        return 0


def _first_sheet_part(zf: zipfile.ZipFile) -> str | None:
    # The first <sheet> of xl/workbook.xml and its target in the workbook's relationships
    # (both small parts, read with a bound and matched, not parsed).
    workbook = zf.open("xl/workbook.xml").read(1 << 20).decode("utf-8", "replace")
    rels = zf.open("xl/_rels/workbook.xml.rels").read(1 << 20).decode("utf-8", "replace")
    sheet = re.search(r"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"", workbook)
    if sheet is None:
        return None
    for rel in re.finditer(r"<(?:\w+:)?Relationship\b[^>]*>", rels):
        tag = rel.group(0)
        if f'Id="{sheet.group(1)}"' in tag and (target := re.search(r'Target="([^"]+)"', tag)):
            path = target.group(1).lstrip("/")
            return path if path.startswith("xl/") else f"xl/{path}"
    return None


# ---- progress of a long validation (an import running as a job) -------------------------------

Reporter = Callable[[int, int], None]
_progress_reporter: ContextVar[Reporter | None] = ContextVar("import_progress", default=None)
PROGRESS_EVERY = 500


@contextmanager
def reporting_progress(callback: Reporter):
    """Within the block, every validation loop written `for row in validating(rows)` calls
    `callback(validated, total)` every PROGRESS_EVERY rows and once at its end."""
    token = _progress_reporter.set(callback)
    try:
        yield
    finally:
        _progress_reporter.reset(token)


def validating(rows: Iterable):
    """The rows of a validation loop, reporting the rows validated so far of the total to the
    callback of reporting_progress() (a job's progress bar); plain iteration without one."""
    callback = _progress_reporter.get()
    if callback is None:
        yield from rows
        return
    rows = rows if isinstance(rows, list | tuple) else list(rows)
    total = len(rows)
    callback(0, total)
    for done, row in enumerate(rows, start=1):
        yield row
        if done % PROGRESS_EVERY == 0 and done < total:
            callback(done, total)
    callback(total, total)


def open_workbook(data: bytes, max_rows: int = MAX_ROWS + SPARE_ROWS):
    """Check the zip and the sheets' row counts, then open read-only (formulas are kept as
    formulas so we can refuse them)."""
    check_zip(data)
    check_row_counts(data, max_rows)
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds of errors on malformed parts
        raise ImportRefused(_("无法读取该 Excel 文件，文件可能已损坏")) from None


def normalise_header(value) -> str:
    return str(value or "").replace("*", "").replace("＊", "").strip()


def _is_formula(cell, strict: bool) -> bool:
    """A formula cell; in a read column also text that Excel would take as a formula."""
    if getattr(cell, "data_type", None) == "f":
        return True
    value = getattr(cell, "value", None)
    return strict and isinstance(value, str) and value.startswith("=") and len(value) > 1


def _header_positions(cells, headers, header_row: int, required) -> dict[int, int]:
    """{sheet column index: index in `headers`}. Without `required` the header row must be
    exactly `headers`; with it, columns are found by name (any order, unknown ones ignored) and
    only the `required` ones must be there."""
    wanted = [normalise_header(h) for h in headers]
    found = [normalise_header(c.value) for c in cells]
    if required is None:
        if found[: len(wanted)] + [""] * (len(wanted) - len(found)) != wanted or any(found[len(wanted) :]):
            raise ImportRefused(
                _("表头与本系统的导入模板不一致，请下载最新模板后填写（第 %(row)d 行）", row=header_row)
            )
        return {i: i for i in range(len(wanted))}
    positions: dict[int, int] = {}
    for index, name in enumerate(found):
        if name in wanted and name not in found[:index]:
            positions[index] = wanted.index(name)
    missing = [name for name in map(normalise_header, required) if name not in found]
    if missing:
        raise ImportRefused(_("表头缺少列：%(columns)s，请下载最新模板后填写", columns="、".join(missing)))
    return positions


def read_table(
    wb,
    sheet_index: int,
    header_row: int,
    headers: list[str],
    max_rows: int | None = None,
    required: Iterable[str] | None = None,
):
    """Rows of a sheet below its header row, as (excel_row_number, [values in `headers` order])
    with blank rows skipped. Refuses a sheet whose header row differs from `headers` (another
    system's template; with `required`, one lacking a required column), more than `max_rows`
    data rows, and any formula."""
    max_rows = MAX_ROWS if max_rows is None else max_rows
    positions: dict[int, int] = {}
    sheets = wb.worksheets
    if len(sheets) <= sheet_index:
        raise ImportRefused(_("文件不是本系统的导入模板，请下载最新模板后填写"))
    ws = sheets[sheet_index]
    width = len(headers)
    rows = []
    seen_header = False
    last_row = header_row + max_rows + SPARE_ROWS
    for excel_row, cells in enumerate(ws.iter_rows(min_row=1, max_col=MAX_COLUMNS), start=1):
        if excel_row > last_row:  # blank rows too: a sheet of empty rows is work all the same
            raise ImportRefused(_("数据超过 %(n)d 行，请拆分后分批导入", n=max_rows))
        if excel_row < header_row:
            continue
        if excel_row == header_row:
            positions = _header_positions(cells, headers, header_row, required)
            seen_header = True
            continue
        values = [None] * width
        for index, cell in enumerate(cells):
            col = positions.get(index)
            if _is_formula(cell, strict=col is not None):
                if col is None:
                    raise ImportRefused(_("第 %(row)d 行含有公式，请将公式转换为数值后再导入", row=excel_row))
                raise ImportRefused(
                    _(
                        "第 %(row)d 行“%(column)s”含有公式，请将公式转换为数值后再导入",
                        row=excel_row,
                        column=normalise_header(headers[col]),
                    )
                )
            if col is not None:
                values[col] = cell.value
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        rows.append((excel_row, values))
        if len(rows) > max_rows:
            raise ImportRefused(_("数据超过 %(n)d 行，请拆分后分批导入", n=max_rows))
    if not seen_header:
        raise ImportRefused(_("文件不是本系统的导入模板，请下载最新模板后填写"))
    return rows


def read_xlsx(
    data: bytes,
    headers: list[str],
    *,
    header_row: int = 1,
    sheet_index: int = 0,
    max_rows: int | None = None,
    required: Iterable[str] | None = None,
    empty_message: str | None = None,
):
    """open_workbook + read_table of one sheet, refusing a file without data rows."""
    limit = MAX_ROWS if max_rows is None else max_rows
    wb = open_workbook(data, header_row + limit + SPARE_ROWS)
    try:
        rows = read_table(wb, sheet_index, header_row, headers, max_rows, required)
    finally:
        wb.close()
    if not rows:
        raise ImportRefused(empty_message or _("文件中没有数据"))
    return rows


# ---- cell conversions (each returns a value or raises ValueError with a Chinese message) -------


def as_text(value, max_len: int) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date().isoformat()
    text = str(value).strip()
    if len(text) > max_len:
        raise ValueError(_("不能超过 %(n)d 个字符", n=max_len))
    return text


def as_code(value) -> str:
    """A code typed in a number-formatted cell arrives as a number: 610113.0 → '610113'."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() if value is not None else ""


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


def as_date(value) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(_("不是有效日期（格式如 2026-01-31）"))


def as_int(value, low: int, high: int) -> int:
    try:
        if isinstance(value, str):
            value = value.strip()
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(_("必须是整数")) from None
    if not number.is_integer() or not low <= number <= high:
        raise ValueError(_("必须是 %(low)d 到 %(high)d 之间的整数", low=low, high=high))
    return int(number)


def write_error_report(path: str, errors: list[CellError]) -> None:
    """错误报告: one line per problem (row, column, message, the value found)."""
    xlsx_export.write_rows(
        path,
        [_("行号"), _("列名"), _("错误信息"), _("单元格内容")],
        ([e.row, e.column, e.message, "" if e.value is None else str(e.value)] for e in errors),
        sheet_name=_("错误报告"),
    )


ERROR_REPORT_PREFIX = "导入错误报告"


def save_error_report(errors: list[CellError], user):
    """Store the error report like an upload; only its uploader may download it (see
    admin_views.xlsx_import_page.ErrorReportMixin). Flushes, never commits."""
    directory = uploads.upload_dir()
    stored = f"{secrets.token_hex(16)}.xlsx"
    fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=directory)
    os.close(fd)
    write_error_report(tmp, errors)
    os.replace(tmp, directory / stored)
    content = (directory / stored).read_bytes()
    row = Upload(
        stored_name=stored,
        original_name=f"{ERROR_REPORT_PREFIX}_{workdays.today():%Y%m%d}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by_id=getattr(user, "id", None),
    )
    db.session.add(row)
    db.session.flush()
    return row
