"""到期提醒: `flask --app app remind` (meant for cron) sends every enterprise ONE digest of its
in-use instruments due within 30 days or overdue: an in-app notice to each active account of
the enterprise and one SMS to its contact mobile. An instrument is reminded at most once per
window ('due', then 'overdue') and 有效期至; a new 有效期至 starts afresh."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta

import click
from sqlalchemy import insert, select

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import EXPIRY_WARNING_DAYS, Instrument, InstrumentReminder, Organization, User, utcnow
from ecqs.services import notify, sms, workdays

log = logging.getLogger("ecqs.reminders")
MAX_LISTED = 10  # instruments named in one digest; the rest are counted


def due_instruments(today: date):
    """(instrument id, organization id, name, serial, valid_until, window) not yet reminded."""
    horizon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    stmt = (
        select(
            Instrument.id,
            Instrument.organization_id,
            Instrument.name,
            Instrument.serial_no,
            Instrument.valid_until,
        )
        .where(
            Instrument.status == "in_use",
            Instrument.valid_until.is_not(None),
            Instrument.valid_until <= horizon,
        )
        .order_by(Instrument.organization_id, Instrument.valid_until, Instrument.id)
    )
    rows = db.session.execute(stmt).all()
    sent = set()
    ids = [r.id for r in rows]
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        sent.update(
            db.session.execute(
                select(
                    InstrumentReminder.instrument_id,
                    InstrumentReminder.window,
                    InstrumentReminder.valid_until,
                ).where(InstrumentReminder.instrument_id.in_(chunk))
            ).all()
        )
    for row in rows:
        window = "overdue" if row.valid_until < today else "due"
        if (row.id, window, row.valid_until) not in sent:
            yield row, window


def send_reminders(today: date | None = None) -> dict:
    """Send the digests and record what was sent, in one transaction. Returns counts."""
    today = today or workdays.today()
    per_org: dict[int, list] = defaultdict(list)
    for row, window in due_instruments(today):
        per_org[row.organization_id].append((row, window))
    digests = 0
    now = utcnow()
    for org_id, rows in per_org.items():
        org = db.session.get(Organization, org_id)
        if org is None or org.status != "approved":
            continue
        overdue = [r for r, w in rows if w == "overdue"]
        due = [r for r, w in rows if w == "due"]
        title = _(
            "强检器具到期提醒：%(overdue)d 件已超期，%(due)d 件 %(days)d 天内到期",
            overdue=len(overdue),
            due=len(due),
            days=EXPIRY_WARNING_DAYS,
        )
        lines = [
            _(
                "%(name)s（出厂编号 %(serial)s）有效期至 %(date)s",
                name=r.name,
                serial=r.serial_no,
                date=r.valid_until.isoformat(),
            )
            for r, _w in rows[:MAX_LISTED]
        ]
        if len(rows) > MAX_LISTED:
            lines.append(_("等共 %(n)d 件，请登录强检器具台账查看", n=len(rows)))
        body = "\n".join(lines) + "\n" + _("已超期的器具请及时发起检定预约。")
        users = db.session.execute(
            select(User).where(
                User.organization_id == org_id, User.active.is_(True), User.role == "enterprise"
            )
        ).scalars()
        recipients = list(users)
        for user in recipients:
            notify.notify_user(user, title, body=body, link="/admin/instruments/")
        mobile = org.contact_mobile or next(
            (u.mobile for u in recipients if u.is_org_admin and u.mobile), None
        )
        if mobile:
            sms.send(
                mobile, f"【e-CQS】{org.name}：{title}，请登录系统查看并及时预约检定。"[:500], "reminder"
            )
        db.session.execute(
            insert(InstrumentReminder),
            [
                {"instrument_id": r.id, "window": w, "valid_until": r.valid_until, "sent_at": now}
                for r, w in rows
            ],
        )
        digests += 1
    db.session.commit()
    counts = {"digests": digests, "instruments": sum(len(v) for v in per_org.values())}
    log.info("expiry reminders sent: %s", counts)
    return counts


def register_remind_command(app) -> None:
    @app.cli.command("remind")
    @click.option("--date", "on", default=None, help="Pretend today is this date (YYYY-MM-DD).")
    def remind_command(on):
        """Send each enterprise one digest of instruments due within 30 days or overdue."""
        today = date.fromisoformat(on) if on else None
        counts = send_reminders(today)
        click.echo(f"reminders: {counts}")
