"""Flask-Admin's own words follow the manuals where they differ (seed 003: 【新增】)."""

from tests.conftest import make_user


def test_create_tab_says_xinzeng_and_page_size_in_chinese(client, login_as):
    login_as(make_user("admin"))
    page = client.get("/admin/notices/").get_data(as_text=True)
    assert ">新增</a>" in page
    assert "创建" not in page
    assert "20 条/页" in page


def test_details_pages_have_no_empty_filter_box(client, login_as):
    admin = login_as(make_user("admin"))
    page = client.get(f"/admin/users/details/?id={admin.id}").get_data(as_text=True)
    assert 'id="fa_filter"' not in page
