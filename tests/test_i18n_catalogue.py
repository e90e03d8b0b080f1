"""The English catalogue is complete and the language switch works on the login page.

msgids are Chinese (the source language); zh_Hans_CN keeps empty msgstrs on purpose (gettext
falls back to the msgid), en must translate every one of them."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import get_domain, refresh

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
ZH_PO = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"

PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-+ #0]*\d*(?:\.\d+)?[sdifr%]")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _read(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def _compile_if_stale() -> None:
    """`make test` compiles the catalogues first; a bare `pytest` run may find no (or an old)
    .mo file, and Flask-Babel would then cache an empty English catalogue for the session."""
    for po in (EN_PO, ZH_PO):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with mo.open("wb") as f:
                write_mo(f, _read(po))


_compile_if_stale()  # at collection, before any test asks for English


def _messages(catalogue):
    return [m for m in catalogue if m.id]


def _visible_text(html: str) -> str:
    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html)


def _labels(html: str) -> list[str]:
    """Texts of <label> and <option> elements: what a user reads in the form."""
    found = re.findall(r"(?is)<(label|option)\b[^>]*>(.*?)</\1>", html)
    return [re.sub(r"(?s)<[^>]+>", "", text).strip() for _tag, text in found]


def _switch(client, code: str) -> None:
    """Choose the language. The test's app context (conftest) is shared by the client's requests,
    so Flask-Babel's per-context locale cache is refreshed by hand; in production every request
    has its own context."""
    response = client.post(f"/lang/{code}", data={"next": "/login"})
    assert response.status_code == 302
    refresh()


@pytest.fixture
def fresh_translations(app):
    """Forget catalogues loaded earlier in the session (they may predate the compile)."""
    with app.app_context():
        get_domain().cache.clear()
    yield


# ---- the catalogue ------------------------------------------------------------------------


def test_en_catalogue_translates_every_msgid():
    catalogue = _read(EN_PO)
    messages = _messages(catalogue)
    assert len(messages) > 300
    untranslated = [m.id for m in messages if not (m.string if isinstance(m.string, str) else all(m.string))]
    assert untranslated == []
    fuzzy = [m.id for m in messages if "fuzzy" in m.flags]
    assert fuzzy == []
    assert not catalogue.fuzzy  # the header is not fuzzy either


def test_en_placeholders_match_msgids():
    wrong = []
    for m in _messages(_read(EN_PO)):
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        expected = Counter(PLACEHOLDER.findall(ids[0]))
        for s in strings:
            if Counter(PLACEHOLDER.findall(s)) != expected:
                wrong.append((m.id, s))
    assert wrong == []


def test_en_translations_are_english():
    bad = []
    for m in _messages(_read(EN_PO)):
        s = m.string
        if "“" in s or "”" in s or "（" in s or "。" in s:
            bad.append(s)
        if "e-CQS" in m.id and "e-CQS" not in s:
            bad.append(s)
        # Chinese left in English text only where it quotes what the user must type or see
        # verbatim (sheet names and cell values of the Chinese import templates).
        leftover = CJK.sub("", re.sub(r'"[^"]*"', "", s))
        if leftover != re.sub(r'"[^"]*"', "", s):
            bad.append(s)
    assert bad == []


def test_both_catalogues_have_the_same_msgids():
    en = {m.id for m in _messages(_read(EN_PO))}
    zh = {m.id for m in _messages(_read(ZH_PO))}
    assert en == zh
    assert all(CJK.search(mid if isinstance(mid, str) else mid[0]) or "e-CQS" in str(mid) for mid in en)


# ---- the login page in both languages -------------------------------------------------------


def test_login_page_in_english(client, fresh_translations):
    _switch(client, "en")
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    text = _visible_text(html)
    assert "User login" in text
    assert "Log in" in text
    assert "用户登录" not in text
    labels = _labels(html)
    for expected in ("User type", "Username", "Password", "Individual user", "Enterprise user"):
        assert any(expected in label for label in labels), (expected, labels)
    assert [label for label in labels if CJK.search(label)] == []
    # Everything visible is English but the switch back to Chinese, which names its language.
    assert CJK.findall(text.replace("简体中文", "")) == []


def test_login_page_in_english_with_captcha(client, app, monkeypatch, fresh_translations):
    monkeypatch.setitem(app.config, "ECQS_CAPTCHA", True)
    _switch(client, "en")
    html = client.get("/login").get_data(as_text=True)
    labels = _labels(html)
    assert "*Captcha" in labels
    assert [label for label in labels if CJK.search(label)] == []
    assert "Click to refresh" in html


def test_login_page_in_chinese_by_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert "用户登录" in html
    assert '<html lang="zh-CN">' in html
    labels = _labels(html)
    assert "用户名" in " ".join(labels) and "密码" in " ".join(labels)
    assert "User login" not in html


def test_switching_back_to_chinese(client, fresh_translations):
    _switch(client, "en")
    assert "User login" in client.get("/login").get_data(as_text=True)
    _switch(client, "zh_Hans_CN")
    html = client.get("/login").get_data(as_text=True)
    assert "用户登录" in html and "User login" not in html


def test_every_string_in_the_code_is_in_the_english_catalogue():
    """A new gettext string without an English translation fails here (run `make babel-update`)."""
    from pathlib import Path

    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent
    method_map = [("ecqs/**.py", "python"), ("ecqs/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(root), method_map=method_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    with open(root / "translations/en/LC_MESSAGES/messages.po", "rb") as fh:
        english = {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(fh) if m.id}
    missing = sorted(m for m in found if m not in english or not english[m].string)
    assert not missing, f"untranslated in en: {missing[:10]}"


# ---- ecqs.i18n: the application's gettext --------------------------------------------------


def test_the_application_gettext_answers_as_flask_babel(app, fresh_translations):
    """ecqs.i18n's gettext and lazy_gettext (straight through the request's domain) give what
    Flask-Babel's give, in both languages, with variables, and outside any application."""
    import flask_babel

    from ecqs import i18n

    samples = [("登录", {}), ("导入成功，共导入 %(n)d 条器具信息", {"n": 3})]
    with app.test_request_context("/"):
        for code, login in (("zh_Hans_CN", "登录"), ("en", "Log in"), ("zh_Hans_CN", "登录")):
            with flask_babel.force_locale(code):
                for text, variables in samples:
                    expected = flask_babel.gettext(text, **variables)
                    assert i18n.gettext(text, **variables) == expected
                    assert str(i18n.lazy_gettext(text, **variables)) == expected
                assert i18n.gettext("登录") == login


def test_gettext_outside_an_application_is_the_text_as_written():
    from ecqs import i18n

    assert i18n.gettext("登录") == "登录"
    assert i18n.gettext("共 %(n)d 条", n=2) == "共 2 条"


def test_the_code_translates_through_ecqs_i18n():
    """Flask-Babel's gettext/lazy_gettext cost thirty calls a label: ecqs imports ecqs.i18n's."""
    root = Path(__file__).resolve().parent.parent / "ecqs"
    direct = re.compile(r"from flask_babel import .*\b(gettext|lazy_gettext|ngettext)\b")
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "i18n.py" and direct.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders
