"""Finding 1: an .xlsx whose sheet has no <dimension> and a great many empty <row>s passed the
zip checks and made openpyxl parse (and keep) the whole sheet before any row was checked. The
row count is now bounded while streaming, before openpyxl opens the file; the refusal is fast,
small in memory and in Chinese."""

from __future__ import annotations

import io
import re
import threading
import time
import tracemalloc
import zipfile

import pytest

from ecqs.instruments.ledger_import import HEADERS
from ecqs.services import xlsx_import
from tests.instruments.fixtures import template_row, upload, xlsx_bytes

pytestmark = pytest.mark.usefixtures("instrument_kinds")
URL = "/admin/instruments/import/"
EMPTY_ROWS = 600_000


def crafted(empty_rows: int = EMPTY_ROWS, *, gap: bool = False) -> bytes:
    """A real template with one data row, its <dimension> removed and `empty_rows` empty rows
    appended (or, with `gap`, one row numbered far below, which openpyxl fills with empties)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([template_row("A")])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<dimension[^>]*/>", b"", data)
                if gap:
                    tail = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
                else:
                    tail = b"".join(b'<row r="%d"/>' % n for n in range(10, 10 + empty_rows))
                data = data.replace(b"</sheetData>", tail + b"</sheetData>")
            target.writestr(info.filename, data)
    return out.getvalue()


def test_crafted_file_passes_the_zip_checks():
    data = crafted()
    xlsx_import.check_zip(data)  # ratio and size are those of an honest file
    assert len(data) < 5 * 1024 * 1024


def test_refused_fast_and_small_in_memory(app):
    data = crafted()
    tracemalloc.start()
    started = time.perf_counter()
    with app.test_request_context():
        with pytest.raises(xlsx_import.ImportRefused) as refusal:
            xlsx_import.read_xlsx(data, HEADERS, header_row=2)
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "行" in str(refusal.value) and "拆分" in str(refusal.value)
    assert elapsed < 2.0, elapsed
    assert peak < 64 * 1024 * 1024, peak


def test_far_row_number_refused(app):
    with app.test_request_context():
        with pytest.raises(xlsx_import.ImportRefused):
            xlsx_import.read_xlsx(crafted(gap=True), HEADERS, header_row=2)


def test_import_page_refuses_with_chinese_message_and_others_are_answered(app, client, login_as):
    login_as("enterprise")
    data = crafted()
    other = app.test_client()
    waits = []

    def probe():
        while len(waits) < 5:
            start = time.perf_counter()
            other.get("/login")
            waits.append(time.perf_counter() - start)

    thread = threading.Thread(target=probe)
    started = time.perf_counter()
    thread.start()
    response = upload(client, URL, data)
    elapsed = time.perf_counter() - started
    thread.join(timeout=30)
    assert response.status_code == 400
    assert "请删除多余行或拆分后分批导入" in response.get_data(as_text=True)
    assert elapsed < 3.0, elapsed
    assert waits and max(waits) < 1.0, waits


def test_every_import_goes_through_the_shared_reader():
    """No module but the shared reader opens workbooks for import."""
    import pathlib

    import ecqs

    root = pathlib.Path(ecqs.__file__).parent
    for path in root.rglob("*.py"):
        if path.name == "xlsx_import.py":
            continue
        assert "load_workbook(" not in path.read_text(encoding="utf-8"), path
