"""The statutory clock of a production licence application (Administrative Licensing Law).

- art. 32: a correction notice 补正告知书 is due within 5 working days of receiving the
  application (counted again from each resubmission, since the applicant's correction time is
  the applicant's, not the authority's);
- art. 42 / 82: the decision is due 20 working days after acceptance;
- art. 45: the expert review 鉴定评审 (from the engagement of the institution until its report)
  does not count: the clock pauses and later resumes with the working days already used.

Every count uses ecqs.workdays (Chinese public holidays and make-up working days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ecqs.i18n import gettext as _
from ecqs.services import workdays

CORRECTION_NOTICE_DAYS = 5
DECISION_DAYS = 20
RUNNING_STATES = ("accepted", "reviewed")
PAUSED_STATES = ("engaged", "scheduled")


def start(application, on: date) -> None:
    application.clock_started_on = on
    application.clock_used_days = 0


def pause(application, on: date) -> None:
    if application.clock_started_on is not None:
        used = max(0, workdays.working_days_between(application.clock_started_on, on))
        application.clock_used_days = (application.clock_used_days or 0) + used
        application.clock_started_on = None


def resume(application, on: date) -> None:
    if application.clock_started_on is None:
        application.clock_started_on = on


def deadline(application) -> date | None:
    """The date by which the authority must act now, or None while the clock does not run."""
    if application.status == "submitted" and application.received_at is not None:
        return workdays.add_working_days(application.received_at, CORRECTION_NOTICE_DAYS)
    if application.status in RUNNING_STATES and application.clock_started_on is not None:
        left = DECISION_DAYS - (application.clock_used_days or 0)
        return workdays.add_working_days(application.clock_started_on, left)
    return None


@dataclass
class ClockStatus:
    text: str
    remaining: int | None  # working days left (negative: overdue), None when not running
    deadline: date | None
    level: str  # bootstrap colour: success, warning, danger, secondary

    def __str__(self) -> str:
        return self.text


def status(application, today: date | None = None) -> ClockStatus:
    """What both sides see: remaining working days, overdue, paused or not applicable."""
    today = today or workdays.today()
    due = deadline(application)
    if due is not None:
        remaining = workdays.working_days_between(today, due)
        what = _("补正告知期限") if application.status == "submitted" else _("许可决定期限")
        if remaining < 0:
            text = _("%(what)s已超期 %(n)d 个工作日（%(due)s）", what=what, n=-remaining, due=due.isoformat())
            level = "danger"
        else:
            text = _("%(what)s剩余 %(n)d 个工作日（%(due)s 前）", what=what, n=remaining, due=due.isoformat())
            level = "warning" if remaining <= 3 else "success"
        return ClockStatus(text, remaining, due, level)
    if application.status in PAUSED_STATES:
        used = application.clock_used_days or 0
        return ClockStatus(_("鉴定评审期间不计时（已用 %(n)d 个工作日）", n=used), None, None, "secondary")
    if application.status == "correction":
        return ClockStatus(_("等待申请人补正，不计时"), None, None, "secondary")
    return ClockStatus("", None, None, "secondary")
