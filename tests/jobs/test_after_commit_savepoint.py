"""SQLAlchemy 2.1 calls `after_commit` when a SAVEPOINT is released too. A message queued in the
outer transaction must wait for the outer commit: delivering it at the savepoint would write its
status on a second connection while the outer transaction still holds SQLite's write lock
("database is locked"), and would announce something the outer transaction may yet roll back."""

from __future__ import annotations

from sqlalchemy import select

from ecqs.extensions import db
from ecqs.models import SmsMessage
from ecqs.services import sms


def test_sms_queued_before_a_savepoint_waits_for_the_outer_commit(app):
    message = sms.send("13800000077", "【e-CQS】保存点测试")
    db.session.flush()
    with db.session.begin_nested():
        db.session.execute(select(SmsMessage.id).limit(1))
    assert message.status == "queued"  # not delivered at the savepoint
    db.session.commit()
    db.session.expire_all()
    delivered = db.session.execute(select(SmsMessage).where(SmsMessage.mobile == "13800000077")).scalar_one()
    assert delivered.status == "sent"


def test_sms_queued_then_rolled_back_with_the_outer_transaction_is_never_sent(app):
    sms.send("13800000079", "【e-CQS】回滚测试")
    db.session.flush()
    with db.session.begin_nested():
        pass
    db.session.rollback()
    assert db.session.execute(select(SmsMessage).where(SmsMessage.mobile == "13800000079")).scalar() is None
