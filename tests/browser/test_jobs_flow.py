"""Export and import as background jobs in a browser, with a real consumer process on the default
SQLite queue: the export link leads to a progress page that turns into a download, the big
import into its outcome; 我的导出 lists both."""

from __future__ import annotations

import io

import openpyxl
import pytest

from tests.browser.conftest import serving
from tests.browser.flow_helpers import login
from tests.conftest import PASSWORD, make_user
from tests.instruments.fixtures import make_instrument, template_row, xlsx_bytes
from tests.jobs.consumer import running_consumer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def jobs_server(app):
    """A live server whose exports over 3 rows and imports over 5 rows become jobs."""
    with serving(app, HUEY_IMMEDIATE=False, EXPORT_JOB_THRESHOLD=3, IMPORT_JOB_THRESHOLD=5) as base:
        yield base


def test_export_and_import_jobs_with_a_real_consumer(app, page, jobs_server, instrument_kinds, tmp_path):
    base = jobs_server
    user = make_user("enterprise")
    for n in range(6):
        make_instrument(user.organization, serial_no=f"WEB{n}")
    with running_consumer(app, tmp_path):
        login(page, base, "enterprise", user.username, PASSWORD)
        page.goto(f"{base}/admin/instruments/")
        page.click('a[href*="/export/xlsx/"]')
        page.wait_for_url("**/admin/my_exports/*/")
        assert "导出任务" in page.inner_text("#job-title")
        page.wait_for_selector("#job-download a", state="visible", timeout=60_000)
        assert "100%" in page.inner_text(".progress-bar")
        with page.expect_download() as info:
            page.click("#job-download a")
        rows = list(
            openpyxl.load_workbook(
                io.BytesIO(info.value.path().read_bytes()), read_only=True
            ).active.iter_rows(values_only=True)
        )
        assert len(rows) == 7 and rows[0][0] == "器具名称"

        path = tmp_path / "台账.xlsx"
        path.write_bytes(xlsx_bytes([template_row(f"JOB{i:03d}") for i in range(8)]))
        page.goto(f"{base}/admin/instruments/import/")
        page.set_input_files("#import-file", str(path))
        page.click("#import-submit")
        page.wait_for_url("**/admin/my_exports/*/")
        assert "导入任务" in page.inner_text("#job-title")
        page.wait_for_selector("#job-outcome", timeout=60_000)
        assert "导入成功，共导入 8 条" in page.inner_text("#job-outcome")
        # The bar counts the rows validated of the file's data rows.
        assert "已校验 8 / 8 行" in page.inner_text("#job .job-progress-text")

    page.goto(f"{base}/admin/my_exports/")
    listing = page.inner_text("#my-exports")
    assert listing.count("已完成") == 2
    assert not page.js_errors, page.js_errors
