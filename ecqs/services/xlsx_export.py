"""Streaming .xlsx export with XlsxWriter constant_memory: Chinese headers, typed cells, and
text that Excel would treat as a formula neutralised; and the header rows of an import
template's first sheet."""

from __future__ import annotations

import decimal
import os
import re
import tempfile
from datetime import date, datetime
from urllib.parse import quote

import xlsxwriter
from flask import Response, stream_with_context

from ecqs.services import workdays

FORMULA_START = ("=", "+", "-", "@", "{", "\t", "\r")

HEADER_FORMAT = {"bold": True, "bg_color": "#DDEBF7", "border": 1}
REQUIRED_HEADER_FORMAT = {"bold": True, "bg_color": "#FCE4D6", "border": 1}
INSTRUCTION_FORMAT = {"text_wrap": True, "font_color": "#C00000", "valign": "top"}


SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
FILENAME_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def valid_sheet_name(name: str) -> str:
    """A name Excel accepts for a worksheet: no []:*?/\\, no edge apostrophes, 31 characters."""
    cleaned = SHEET_NAME_FORBIDDEN.sub("_", str(name)).strip("'")[:31]
    return cleaned or "Sheet1"


def safe_filename(name: str) -> str:
    """A download name without path separators or characters Windows refuses."""
    return FILENAME_FORBIDDEN.sub("_", str(name)).strip(" .") or "export.xlsx"


def neutralise(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def write_rows(path: str, headers: list[str], rows, sheet_name: str = "Sheet1") -> int:
    """Write rows (iterables of Python values) to an .xlsx file; returns the row count."""
    wb = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "strings_to_urls": False,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "tmpdir": tempfile.gettempdir(),
        },
    )
    ws = wb.add_worksheet(valid_sheet_name(sheet_name))
    bold = wb.add_format(HEADER_FORMAT)
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    dt_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for col, header in enumerate(headers):
        ws.write_string(0, col, str(header), bold)
        ws.set_column(col, col, max(10, min(40, len(str(header)) * 2 + 4)))
    ws.freeze_panes(1, 0)
    count = 0
    write_string = ws.write_string
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if type(value) is str:  # the common case first: this loop runs once per cell
                if value:
                    write_string(r, c, "'" + value if value.startswith(FORMULA_START) else value)
                continue
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, int | float | decimal.Decimal):
                ws.write_number(r, c, float(value))
            elif isinstance(value, datetime):
                if value.tzinfo is not None:
                    value = value.astimezone(workdays.CN).replace(tzinfo=None)
                ws.write_datetime(r, c, value, dt_fmt)
            elif isinstance(value, date):
                ws.write_datetime(r, c, datetime(value.year, value.month, value.day), date_fmt)
            else:
                ws.write_string(r, c, neutralise(str(value)))
        count += 1
    wb.close()
    return count


def template_sheet(
    workbook,
    title: str,
    instructions: str,
    headers: list[str],
    widths: list[int],
    *,
    instruction_height: int,
    required: frozenset[int] = frozenset(),
    date_columns: frozenset[int] = frozenset(),
):
    """Add the first sheet of an import template to `workbook` (an xlsxwriter.Workbook) and
    return it: row 1 holds `instructions` in red over every column, `instruction_height` points
    high; row 2 the headers in blue (the columns in `required` in orange). Column i is
    `widths[i]` wide and formatted as text, or as a date when i is in `date_columns`, so that
    Excel keeps codes such as 0101 as typed. The data rows start at row 3."""
    ws = workbook.add_worksheet(title)
    note = workbook.add_format(INSTRUCTION_FORMAT)
    head = workbook.add_format(HEADER_FORMAT)
    required_head = workbook.add_format(REQUIRED_HEADER_FORMAT) if required else head
    text = workbook.add_format({"num_format": "@"})
    date_fmt = workbook.add_format({"num_format": "yyyy-mm-dd"}) if date_columns else text
    ws.merge_range(0, 0, 0, len(headers) - 1, instructions, note)
    ws.set_row(0, instruction_height)
    for col, header in enumerate(headers):
        ws.write_string(1, col, header, required_head if col in required else head)
        ws.set_column(col, col, widths[col], date_fmt if col in date_columns else text)
    return ws


def xlsx_response(filename: str, headers: list[str], rows, sheet_name: str = "Sheet1") -> Response:
    """Build the workbook in a temporary file (constant memory) and stream it back."""
    return file_response(filename, lambda path: write_rows(path, headers, rows, sheet_name))


def file_response(filename: str, write) -> Response:
    """`write(path)` fills a temporary .xlsx, which is streamed back as a download named
    `filename` and deleted (grid exports, import templates)."""
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        write(path)
    except BaseException:
        os.unlink(path)
        raise

    def generate():
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(256 * 1024):
                    yield chunk
        finally:
            os.unlink(path)

    response = Response(
        stream_with_context(generate()),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response.headers["Content-Disposition"] = (
        f"attachment; filename=export.xlsx; filename*=UTF-8''{quote(safe_filename(filename), safe='')}"
    )
    response.headers["Content-Length"] = str(os.path.getsize(path))
    return response
