from tests.conftest import make_user


def test_login_page_is_chinese(client):
    page = client.get("/login").get_data(as_text=True)
    assert "用户登录" in page and "验证码" not in page  # captcha is off in tests


def test_home_after_login(client, login_as):
    login_as("admin")
    page = client.get("/admin/").get_data(as_text=True)
    assert "待办事项" in page


def test_each_role_reaches_home(client, login_as):
    for role in ["person", "enterprise", "metrology", "assessor", "unit", "reviewer", "association", "admin"]:
        user = make_user(role)
        login_as(user)
        response = client.get("/admin/")
        assert response.status_code == 200, role
        client.post("/logout")
