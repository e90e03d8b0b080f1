"""The public front page, error pages inside the back office, grid totals."""

from __future__ import annotations

from datetime import timedelta

from ecqs.extensions import db
from ecqs.models import Notice, utcnow


def _notice(title, audience="all", days=0):
    n = Notice(
        title=title, body=f"{title}正文", audience=audience, published_at=utcnow() + timedelta(days=days)
    )
    db.session.add(n)
    db.session.commit()
    return n


def test_front_page_is_public_not_a_redirect(app, client):
    public = _notice("关于开展强检器具登记的通知")
    _notice("仅审批人员可见", audience="reviewer")
    _notice("明天发布", days=1)
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "关于开展强检器具登记的通知" in page
    assert "仅审批人员可见" not in page and "明天发布" not in page
    for target in (
        "/login",
        "/public/instruments/query",
        "/public/instruments/institutions",
        "/public/instruments/catalogue",
    ):
        assert f'href="{target}' in page, target
    assert 'id="home-register"' in page
    opened = client.get(f"/?notice={public.id}").get_data(as_text=True)
    assert "关于开展强检器具登记的通知正文" in opened


def test_front_page_for_a_signed_in_user(app, client, login_as):
    login_as("enterprise")
    page = client.get("/").get_data(as_text=True)
    assert 'id="enter-back-office"' in page and 'id="home-login"' not in page


def test_404_and_403_show_the_users_menu(app, client, login_as):
    login_as("enterprise")
    missing = client.get("/admin/instruments/details/?id=999999")
    assert missing.status_code == 404
    page = missing.get_data(as_text=True)
    assert 'id="user-menu"' in page and 'id="error-message"' in page
    assert 'href="/register' not in page
    denied = client.get("/admin/statistics/instruments/")
    assert denied.status_code == 403
    assert 'id="user-menu"' in denied.get_data(as_text=True)


def test_visitors_get_the_public_error_page(app, client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert 'id="user-menu"' not in page and "/login" in page


def test_grid_shows_its_total(app, client, login_as):
    login_as("admin")
    for i in range(3):
        _notice(f"公告{i}")
    page = client.get("/admin/notices/").get_data(as_text=True)
    assert 'id="grid-total"' in page and "共 3 条" in page


def test_login_form_focuses_its_first_field(app, client):
    page = client.get("/login").get_data(as_text=True)
    assert 'id="user_type"' in page
    select = page[page.index("<select") : page.index(">", page.index("<select"))]
    assert "autofocus" in select
