"""站内消息: unread badge, read when opened, 全部标为已读, filter by read state, links to the
record, archive after 180 days (function and CLI)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from ecqs.accounts import auth
from ecqs.extensions import db
from ecqs.models import Notification, UserSession, utcnow
from ecqs.services import notify
from tests.conftest import make_user, recorded_statements


def _message(user, title="预约已受理", link=None, age_days=0, read=False):
    n = Notification(
        user_id=user.id,
        title=title,
        link=link,
        created_at=utcnow() - timedelta(days=age_days),
        read_at=utcnow() if read else None,
    )
    db.session.add(n)
    db.session.commit()
    return n


def test_badge_counts_own_unread_only(app, client, login_as):
    user = login_as("enterprise")
    other = make_user("enterprise")
    first = _message(user)
    _message(user)
    _message(user, read=True)
    _message(other)
    page = client.get("/admin/").get_data(as_text=True)
    assert 'id="unread-badge"' in page
    assert 'data-unread="2"' in page
    assert f'href="/admin/notifications/open/?id={first.id}"' in page  # the home's unread list


def test_badge_count_comes_with_the_session_load(app, client, login_as):
    """The top bar's count is loaded with the session row (no statement of its own)."""
    user = login_as("enterprise")
    _message(user)
    _message(user)
    db.session.expunge_all()  # as a new request's session: nothing loaded yet
    with recorded_statements() as statements:
        page = client.get("/admin/instruments/").get_data(as_text=True)
    assert 'data-unread="2"' in page
    counting = [s for s in statements if "FROM notifications" in s]
    assert len(counting) == 1 and "FROM user_sessions" in counting[0], counting


def test_badge_count_follows_changes_made_in_the_same_request(app, client, login_as):
    """The count loaded with the user holds only until this request touches notifications: a
    message added (even unflushed), one read, or all read in bulk."""
    user = login_as("enterprise")
    _message(user)
    _message(user)
    token = db.session.execute(select(UserSession.token).where(UserSession.user_id == user.id)).scalar()
    db.session.expunge_all()
    with app.test_request_context("/"):
        loaded = db.session.execute(auth._SESSION_AND_USER, {"token": token}).scalar_one().user
        assert loaded.unread_at_load == 2
        with recorded_statements() as statements:
            assert notify.unread_count(loaded) == 2
        assert statements == []  # from the load
        notify.notify_user(loaded, "新消息")  # pending, not flushed
        assert notify.unread_count(loaded) == 3
        first = db.session.scalars(select(Notification).where(Notification.user_id == user.id)).first()
        notify.mark_read(first)
        assert notify.unread_count(loaded) == 2
        notify.mark_all_read(loaded)  # a bulk UPDATE
        assert notify.unread_count(loaded) == 0
        db.session.rollback()
    db.session.remove()
    with app.test_request_context("/"):
        # A new session: the count from the load again; a bulk UPDATE alone is noticed too.
        loaded = db.session.execute(auth._SESSION_AND_USER, {"token": token}).scalar_one().user
        assert notify.unread_count(loaded) == 2
        notify.mark_all_read(loaded)
        assert notify.unread_count(loaded) == 0
        db.session.rollback()


def test_open_marks_read_and_goes_to_the_record(app, client, login_as):
    user = login_as("enterprise")
    n = _message(user, link="/admin/instruments/")
    response = client.get(f"/admin/notifications/open/?id={n.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/instruments/")
    db.session.refresh(n)
    assert n.read_at is not None


def test_open_never_follows_an_outside_link(app, client, login_as):
    user = login_as("enterprise")
    n = _message(user, link="//evil.example/x")
    response = client.get(f"/admin/notifications/open/?id={n.id}")
    assert f"/admin/notifications/details/?id={n.id}" in response.headers["Location"]


def test_someone_elses_message_is_404(app, client, login_as):
    login_as("enterprise")
    n = _message(make_user("enterprise"))
    assert client.get(f"/admin/notifications/open/?id={n.id}").status_code == 404
    db.session.refresh(n)
    assert n.read_at is None


def test_read_all_and_filter(app, client, login_as):
    user = login_as("enterprise")
    _message(user, title="甲消息")
    _message(user, title="乙消息", read=True)
    unread_page = client.get("/admin/notifications/?flt0_0=unread").get_data(as_text=True)
    assert "甲消息" in unread_page and "乙消息" not in unread_page
    read_page = client.get("/admin/notifications/?flt0_0=read").get_data(as_text=True)
    assert "乙消息" in read_page and "甲消息" not in read_page
    response = client.post("/admin/notifications/read-all/")
    assert response.status_code == 302
    assert notify.unread_count(user) == 0
    assert 'data-unread="' not in client.get("/admin/").get_data(as_text=True)


def test_read_all_is_post_only(app, client, login_as):
    login_as("enterprise")
    assert client.get("/admin/notifications/read-all/").status_code == 405


def test_archive_after_180_days(app):
    user = make_user("enterprise")
    _message(user, age_days=181)
    _message(user, age_days=181, read=True)
    keep = _message(user, age_days=179)
    assert notify.archive_old() == 2
    db.session.commit()
    assert db.session.execute(select(Notification.id)).scalars().all() == [keep.id]


def test_purge_command(app):
    user = make_user("enterprise")
    _message(user, age_days=200)
    result = app.test_cli_runner().invoke(args=["purge-notifications"])
    assert result.exit_code == 0, result.output
    assert "notifications removed: 1" in result.output
    assert db.session.execute(select(func.count()).select_from(Notification)).scalar() == 0


def test_transition_notification_links_to_its_record(app, client, login_as):
    """Messages queued by a workflow transition carry the link of the record's details page."""
    from flask import current_app

    from ecqs.models import Organization

    with current_app.test_request_context("/"):
        org = make_user("enterprise").organization
        link = notify.record_link(org)
    assert link is not None and link.startswith("/admin/") and f"id={org.id}" in link
    assert isinstance(org, Organization)
