"""检定结果 in batches (issue 11): one result for several accepted items, or an .xlsx of results
(template pre-filled with the institution's accepted items, all or nothing, error report).
Every item goes through the engine's 录入检定结果 like the single-item form; the new 有效期至 is
proposed from the 检定周期 of the instrument's kind and may be changed per item."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

import xlsxwriter
from sqlalchemy import select

from ecqs import access, workflows
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import VERIFICATION_RESULT_LABELS, BookingItem, User
from ecqs.services import workdays, xlsx_export, xlsx_import

SHEET_TITLE = "检定结果"
HEADERS = [
    "明细编号*",
    "预约单号",
    "使用单位",
    "器具名称",
    "出厂编号",
    "器具种别",
    "检定结论*",
    "证书编号*",
    "检定日期*",
    "有效期至",
]
INSTRUCTIONS = (
    "填写说明：第 3 行起每行一件已受理的器具，请勿修改“明细编号”和表头；检定结论填“合格”或“不合格”；"
    "检定日期格式如 2026-01-31，不能晚于今天；"
    "有效期至留空时按器具种别的检定周期推算，不合格时不更新有效期至。"
    "任何一行有错误时，全部数据均不导入。"
)
MAX_ROWS = 1_000  # below IMPORT_JOB_THRESHOLD: a results sheet is imported in the request
RESULT_BY_LABEL = {"合格": "qualified", "不合格": "unqualified"}


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def proposed_valid_until(item: BookingItem, verified_on: date | None) -> date | None:
    """The 有效期至 a qualified result proposes: 检定日期 + 检定周期 of the kind, the day before
    (a six-month period verified on 2026-01-15 runs to 2026-07-14); None without a period."""
    months = item.instrument.kind.verification_period_months
    if not months or verified_on is None:
        return None
    return add_months(verified_on, months) - timedelta(days=1)


@dataclass
class ResultRow:
    item: BookingItem
    certificate_no: str
    valid_until: date | None = None
    version: str | None = None
    row: int = 0  # the Excel row, for error messages
    result: str | None = None
    verified_on: date | None = None


@dataclass
class BatchOutcome(xlsx_import.ImportResult):
    rows: list[ResultRow] = field(default_factory=list)


def accepted_items(user: User):
    """The user's institution's items waiting for a result (the scope of 检定结果录入)."""
    return access.scoped(select(BookingItem), BookingItem, user).where(BookingItem.status == "accepted")


def record_all(rows: list[ResultRow], result: str, verified_on: date | None, actor: User) -> list[str]:
    """Record one result for every row through the engine, all or nothing (合格: the row's
    有效期至 or the proposal; 不合格: none, the ledger keeps its date): returns the problems
    (each naming its item) after rolling everything back, or [] with every item 已检定 (flushed;
    the caller commits)."""
    problems = []
    for r in rows:
        # An unqualified instrument gets no new 有效期至 (the proposals are prefilled in the form
        # and the template, and must not extend it).
        valid_until = r.valid_until if result == "qualified" else None
        if valid_until is None and result == "qualified":
            valid_until = proposed_valid_until(r.item, verified_on)
        try:
            workflows.transition(
                r.item,
                "record_result",
                actor,
                expected_state="accepted",
                expected_version=r.version,
                result=result,
                certificate_no=r.certificate_no,
                verified_on=verified_on,
                valid_until=valid_until,
            )
        except workflows.StaleTransition as exc:
            problems.append(f"{r.item}: {exc}")
            break  # the engine rolled the session back
        except workflows.WorkflowError as exc:
            problems.append(f"{r.item}: {exc}")
    if problems:
        db.session.rollback()
    return problems


def check_certificate_numbers(rows: list[ResultRow]) -> list[tuple[ResultRow, str]]:
    """Problems with the certificate numbers before anything is recorded: empty, too long,
    containing spaces, or the same number twice in one batch."""
    problems, seen = [], {}
    for r in rows:
        number = r.certificate_no
        if not number or len(number) > 60 or any(ch.isspace() for ch in number):
            problems.append((r, _("证书编号必填，不超过 60 个字符，且不能包含空格")))
        elif number in seen:
            problems.append((r, _("证书编号“%(number)s”与%(other)s重复", number=number, other=seen[number])))
        else:
            seen[number] = str(r.item)
    return problems


# ---- .xlsx ---------------------------------------------------------------------------------


def import_xlsx(data: bytes, actor: User) -> BatchOutcome:
    """Validate an uploaded results sheet; record every row only when all are valid."""
    raw = xlsx_import.read_xlsx(data, HEADERS, header_row=2, max_rows=MAX_ROWS)
    outcome = BatchOutcome()
    labels = [xlsx_import.normalise_header(h) for h in HEADERS]
    ids: dict[int, int] = {}
    parsed = []
    today = workdays.today()
    for row_no, values in raw:
        errors_before = len(outcome.errors)

        def err(col, message, value=None, row_no=row_no):
            outcome.errors.append(xlsx_import.CellError(row_no, labels[col], message, value))

        item_id = None
        try:
            item_id = xlsx_import.as_int(values[0], 1, 2**62)
        except ValueError as exc:
            err(0, str(exc), values[0])
        if item_id is not None:
            if item_id in ids:
                err(0, _("与第 %(row)d 行重复", row=ids[item_id]), values[0])
            ids.setdefault(item_id, row_no)
        result = RESULT_BY_LABEL.get(str(values[6] or "").strip())
        if result is None:
            err(6, _("请填写“合格”或“不合格”"), values[6])
        certificate_no = ""
        try:
            certificate_no = xlsx_import.as_text(values[7], 60).strip()
        except ValueError as exc:
            err(7, str(exc), values[7])
        verified_on = valid_until = None
        try:
            verified_on = xlsx_import.as_date(values[8])
            if verified_on is None:
                err(8, _("不能为空"), values[8])
            elif verified_on > today:
                err(8, _("检定日期不能晚于今天"), values[8])
        except ValueError as exc:
            err(8, str(exc), values[8])
        try:
            valid_until = xlsx_import.as_date(values[9])
        except ValueError as exc:
            err(9, str(exc), values[9])
        if valid_until is not None and verified_on is not None and valid_until <= verified_on:
            err(9, _("有效期至必须晚于检定日期"), values[9])
        if len(outcome.errors) == errors_before:
            parsed.append((row_no, item_id, result, certificate_no, verified_on, valid_until))
    items = {}
    if ids:
        items = {
            i.id: i
            for i in db.session.execute(
                access.scoped(select(BookingItem), BookingItem, actor).where(BookingItem.id.in_(list(ids)))
            ).scalars()
        }
    for row_no, item_id, result, certificate_no, verified_on, valid_until in parsed:
        item = items.get(item_id)
        if item is None or item.status != "accepted":
            outcome.errors.append(
                xlsx_import.CellError(row_no, labels[0], _("不是本机构已受理、待录入结果的器具"), item_id)
            )
            continue
        if result == "qualified" and valid_until is None:
            valid_until = proposed_valid_until(item, verified_on)
            if valid_until is None:
                outcome.errors.append(
                    xlsx_import.CellError(
                        row_no, labels[9], _("该器具种别没有检定周期，合格时须填写有效期至"), None
                    )
                )
                continue
        outcome.rows.append(
            ResultRow(item, certificate_no, valid_until, row=row_no, result=result, verified_on=verified_on)
        )
    for r, message in check_certificate_numbers(outcome.rows):
        outcome.errors.append(xlsx_import.CellError(r.row, labels[7], message, r.certificate_no))
    if outcome.errors:
        return outcome
    for r in outcome.rows:
        problems = record_all([r], r.result, r.verified_on, actor)
        if problems:
            outcome.errors.append(xlsx_import.CellError(r.row, labels[0], problems[0], r.item.id))
            db.session.rollback()
            return outcome
    outcome.added = len(outcome.rows)
    return outcome


def write_template(path: str, user: User) -> None:
    """The results template, pre-filled with the institution's accepted items (the conclusion,
    certificate number and dates are left for the institution; 检定日期 defaults to today)."""
    wb = xlsxwriter.Workbook(path, {"strings_to_numbers": False, "strings_to_formulas": False})
    widths = [18] * len(HEADERS)
    ws = xlsx_export.template_sheet(wb, SHEET_TITLE, INSTRUCTIONS, HEADERS, widths, instruction_height=60)
    ws.data_validation(2, 6, MAX_ROWS + 1, 6, {"validate": "list", "source": list(RESULT_BY_LABEL)})
    today = workdays.today()
    stmt = accepted_items(user).order_by(BookingItem.id).limit(MAX_ROWS)
    for r, item in enumerate(db.session.execute(stmt).scalars(), start=2):
        inst = item.instrument
        ws.write_number(r, 0, item.id)
        for c, value in enumerate(
            (
                str(item.booking),
                item.booking.organization.name,
                inst.name,
                inst.serial_no,
                inst.kind.name,
                "",
                "",
                today.isoformat(),
            ),
            start=1,
        ):
            ws.write_string(r, c, value)
        proposal = proposed_valid_until(item, today)
        ws.write_string(r, 9, proposal.isoformat() if proposal else "")
    wb.close()


__all__ = [
    "HEADERS",
    "VERIFICATION_RESULT_LABELS",
    "ResultRow",
    "accepted_items",
    "add_months",
    "check_certificate_numbers",
    "import_xlsx",
    "proposed_valid_until",
    "record_all",
    "write_template",
]
