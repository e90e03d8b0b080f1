"""Cross-cutting audit of EVERY registered Flask-Admin view, found from the Admin object and the
url map (not listed by hand, so a view added later is covered automatically): scope functions,
role access through every door, exports, CSRF/GET on state changes, stored XSS, masking of
personal data and raw internal codes in grids.

Each test builds the two-province audit world once and walks all views and roles in a loop,
collecting every problem so one run reports them all."""

from __future__ import annotations

import ast
import html
import inspect
import re

import pytest
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import select

from ecqs import access, domains
from ecqs.extensions import db
from ecqs.licences import form as licence_form
from ecqs.workflows import WORKFLOWS
from tests.accounts.fixtures import session_login
from tests.views.fixtures import (
    CJK,
    RAW,
    ROLES,
    XSS,
    admin_of,
    all_ids,
    build_world,
    is_role_view,
    log_in,
    model_views,
    personal_numbers,
    role_views,
    scoped_ids,
    view_rules,
    xlsx_rows,
)

# Views that are deliberately not RoleViews (none today): endpoint -> reason.
NOT_ROLE_VIEW_OK: dict[str, str] = {}
# Rules whose GET is a harmless form or download although the path names a state change.
STATE_CHANGE = re.compile(
    r"/(transition|action|act|delete|cancel|remove|submit|ajax/update)/|^/lang/|^/logout$|^/sms/"
)
DOCUMENT_SKIP = ("export", "file_view", "import", "ajax", "create_view", "new_view", "action_view")
STATE_KEYS = {key for wf in WORKFLOWS.values() for key in wf.states}
SECRET_COLUMN = re.compile(r"password|_hash|secret|token")


def label_codes() -> set[str]:
    """Codes that have a Chinese label: keys of every *_LABELS dict of the app's modules."""
    import importlib
    import pkgutil

    import ecqs

    codes: set[str] = set()
    for info in pkgutil.walk_packages(ecqs.__path__, "ecqs."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if name.endswith("_LABELS") and isinstance(value, dict):
                codes.update(k for k in value if isinstance(k, str) and re.fullmatch(r"[a-z][a-z_]{2,}", k))
    return codes


def fill(rule, row_id) -> str:
    """A concrete URL for a rule (every argument filled with something plausible)."""
    values = {}
    for arg in rule.arguments:
        if arg == "export_type":
            values[arg] = "xlsx"
        elif arg == "key":
            values[arg] = licence_form.PAGES[0].key
        elif arg == "action_name":
            values[arg] = "submit"
        elif arg == "field":
            values[arg] = "x"
        elif arg == "code":
            values[arg] = "en"
        elif arg in ("filename", "token", "step", "parent"):
            values[arg] = "x"
        else:
            values[arg] = row_id
    url = rule.rule
    for arg, value in values.items():
        url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", str(value), url)
    return url


def any_id(view):
    model = getattr(view, "model", None)
    ids = sorted(all_ids(model)) if model is not None else []
    return ids[0] if ids else 1


@pytest.fixture
def world(app):
    return build_world()


@pytest.fixture
def clients(app, world):
    return {role: log_in(app, user) for role, user in world.users.items()}


def page_text(response) -> str:
    return response.get_data(as_text=True)


# ---- 1. every ModelView: one scope function, a RoleView --------------------------------------


def test_every_model_view_has_one_scope_and_is_a_role_view(app):
    registered: dict[str, int] = {}
    scope_modules = [scopes for _wf, scopes in domains.DOMAINS.values()]
    nodes = [n for m in scope_modules for n in ast.walk(ast.parse(inspect.getsource(m)))]
    for node in nodes:
        if isinstance(node, ast.FunctionDef):
            for dec in node.decorator_list:
                if isinstance(dec, ast.Call) and getattr(dec.func, "id", None) == "scope_for":
                    name = ast.unparse(dec.args[0])
                    registered[name] = registered.get(name, 0) + 1
    problems = [f"{name}: {n} scope functions" for name, n in registered.items() if n != 1]
    views = model_views(app)
    assert views, "no model views found"
    for view in views:
        if view.model not in access.SCOPES:
            problems.append(f"{view.endpoint}: model {view.model.__name__} has no scope")
        elif registered.get(view.model.__name__) != 1:
            problems.append(f"{view.endpoint}: {view.model.__name__} not registered once in scopes")
        if not is_role_view(view) and view.endpoint not in NOT_ROLE_VIEW_OK:
            problems.append(f"{view.endpoint}: {type(view).__name__} is not a RoleView")
        if not getattr(view, "roles", None):
            problems.append(f"{view.endpoint}: no roles")
        if set(view.roles) - set(ROLES):
            problems.append(f"{view.endpoint}: unknown roles {set(view.roles) - set(ROLES)}")
    # Plain admin pages (not grids) must declare roles too; only the home page is for all.
    for view in admin_of(app)._views:
        if not isinstance(view, ModelView) and view.endpoint != "admin" and not getattr(view, "roles", None):
            problems.append(f"{view.endpoint}: plain page without roles")
    assert not problems, "\n".join(problems)


# ---- 2. roles outside a view's roles, and anonymous, get nothing ------------------------------


def test_every_door_refused_to_other_roles_and_anonymous(app, world, clients):
    anonymous = app.test_client()
    problems = []
    for view in role_views(app):
        row_id = any_id(view)
        rules = view_rules(app, view)
        assert rules, view.endpoint
        for who in ["anonymous", *[r for r in ROLES if r not in view.roles]]:
            client = anonymous if who == "anonymous" else clients[who]
            for rule in rules:
                url = fill(rule, row_id)
                if "GET" in rule.methods:
                    response = client.get(url + f"?id={row_id}")
                else:
                    response = client.post(
                        url + f"?id={row_id}", data={"rowid": str(row_id), "action": "delete"}
                    )
                code = response.status_code
                if who == "anonymous":
                    ok = code == 302 and "/login" in response.headers.get("Location", "")
                else:
                    ok = code in (403, 404)
                if not ok:
                    problems.append(f"{who} {rule.endpoint} {url}: {code}")
    assert not problems, f"{len(problems)} doors open:\n" + "\n".join(problems[:80])


# ---- 3. roles in a view's roles: list, export, out-of-scope details ---------------------------


def test_allowed_roles_list_export_and_never_see_other_scopes(app, world, clients):
    problems, outside_checked = [], 0
    for view in model_views(app):
        for role in sorted(view.roles):
            client, user = clients[role], world.users[role]
            response = client.get(f"{view.url}/")
            if response.status_code != 200:
                problems.append(f"{role} {view.endpoint} list: {response.status_code}")
                continue
            if view.can_export:
                export = client.get(f"{view.url}/export/xlsx/")
                if export.status_code != 200:
                    problems.append(f"{role} {view.endpoint} export: {export.status_code}")
                else:
                    rows = xlsx_rows(export.get_data())
                    headers = [h for h in (rows[0] if rows else []) if h is not None]
                    if not headers or not all(CJK.search(str(h)) for h in headers):
                        problems.append(f"{role} {view.endpoint} export headers not Chinese: {headers}")
                    raw = {str(c) for row in rows[1:] for c in row if c is not None} & STATE_KEYS
                    if raw:
                        problems.append(f"{role} {view.endpoint} export shows raw codes {sorted(raw)}")
            outside = sorted(all_ids(view.model) - scoped_ids(view.model, user))[:3]
            for row_id in outside:
                # Without can_edit the edit page redirects before loading anything (302).
                outside_checked += 1
                for endpoint, allowed in (("details", (403, 404)), ("edit", (302, 403, 404))):
                    code = client.get(f"{view.url}/{endpoint}/?id={row_id}").status_code
                    if code not in allowed:
                        problems.append(f"{role} {view.endpoint} {endpoint} out-of-scope {row_id}: {code}")
    assert not problems, "\n".join(problems)
    assert outside_checked > 40, outside_checked  # the world really has rows outside each scope


# ---- 4. state changes: never GET, always CSRF ------------------------------------------------


def test_state_changing_rules_refuse_get(app, clients):
    problems = []
    state_rules = [r for r in app.url_map.iter_rules() if STATE_CHANGE.search(r.rule)]
    assert len(state_rules) > 30
    for rule in state_rules:
        if "GET" in rule.methods:
            problems.append(f"{rule.rule} accepts GET")
            continue
        code = clients["admin"].get(fill(rule, 1)).status_code
        if code != 405:
            problems.append(f"GET {rule.rule}: {code}")
    assert not problems, "\n".join(problems)


def test_every_post_refused_without_csrf_token(app, strict_app, world):
    from ecqs.extensions import db
    from ecqs.models import AuditEvent

    before = db.session.query(AuditEvent).count()
    problems = []
    with strict_app.app_context():
        for role in ("admin", "enterprise", "person"):
            client = strict_app.test_client()
            session_login(client, world.users[role])
            for rule in strict_app.url_map.iter_rules():
                if "POST" not in rule.methods:
                    continue
                view = next((v for v in role_views(app) if rule.endpoint.startswith(v.endpoint + ".")), None)
                row_id = any_id(view) if view is not None else 1
                response = client.post(fill(rule, row_id), data={"rowid": str(row_id), "action": "delete"})
                if response.status_code != 400:
                    problems.append(f"{role} POST {rule.rule}: {response.status_code}")
    db.session.expire_all()
    assert not problems, "\n".join(problems)
    # Nothing recorded as done (denials may be logged, but no transition/record event).
    from sqlalchemy import select

    events = db.session.execute(select(AuditEvent.event).where(AuditEvent.id > before)).scalars().all()
    assert not [e for e in events if e not in ("access_denied", "login")], events


# ---- 5. stored XSS renders as text everywhere --------------------------------------------------


def _documents(app, view):
    """GET rules of a view that show one record or a page (not downloads, not forms to create)."""
    return [
        r
        for r in view_rules(app, view)
        if "GET" in r.methods and not any(s in r.endpoint for s in DOCUMENT_SKIP)
    ]


def test_stored_xss_escaped_on_every_page(app, world, clients):
    problems, escaped_seen = [], 0
    keys = [p.key for p in licence_form.PAGES]

    pages = 0

    def check(label, response):
        nonlocal escaped_seen, pages
        pages += 1
        if response.status_code >= 500:
            problems.append(f"{label}: {response.status_code}")
        body = page_text(response)
        if "pbkdf2:" in body or "scrypt:" in body:
            problems.append(f"{label}: shows a password hash")
        if RAW in body:
            at = body.index(RAW)
            problems.append(f"{label}: raw markup …{body[max(0, at - 80) : at + 40]!r}")
        escaped_seen += body.count(html.escape(XSS, quote=False)) + body.count(html.escape(XSS))

    for role, client in clients.items():
        check(f"{role} home", client.get("/admin/"))
        check(f"{role} portal", client.get("/"))
    for view in role_views(app):
        model = getattr(view, "model", None)
        for role in sorted(view.roles):
            client, user = clients[role], world.users[role]
            ids = sorted(scoped_ids(model, user))[:4] if model is not None else [None]
            for rule in _documents(app, view):
                for row_id in ids or [None]:
                    for key in keys if "key" in rule.arguments else [None]:
                        url = fill(rule, row_id or 1)
                        if key is not None:
                            url = url.replace(f"/{keys[0]}", f"/{key}")
                        if not rule.arguments and row_id is not None:
                            url += f"?id={row_id}"
                        check(f"{role} {url}", client.get(url))
    anonymous = app.test_client()
    for url in (
        "/public/instruments/",
        f"/public/instruments/query?enterprise={world.ent_a.uscc}&serial={world.inst_a.serial_no}",
        "/public/instruments/institutions",
        "/public/instruments/catalogue",
        f"/verify/licence/{world.licence_a.acceptance_token}",
    ):
        check(f"public {url}", anonymous.get(url))
    assert not problems, "\n".join(problems[:60])
    # The probe was really shown (as text) on many pages.
    assert pages > 150 and escaped_seen > 20, (pages, escaped_seen)


# ---- 6. personal data masked in lists and exports ----------------------------------------------

# Where a full number in a grid is the point of the grid (documented exceptions).
FULL_NUMBERS_OK: dict[tuple[str, str], str] = {}


def test_id_numbers_and_mobiles_masked_in_lists_and_exports(app, world, clients):
    owned = personal_numbers(world)
    problems = []
    for view in model_views(app):
        for role in sorted(view.roles):
            if (view.endpoint, role) in FULL_NUMBERS_OK:
                continue
            client, user = clients[role], world.users[role]
            mine = owned.get(user.id, set()) | owned.get(("org", user.organization_id), set())
            others = {v for values in owned.values() for v in values} - mine
            pages = {"list": page_text(client.get(f"{view.url}/?page_size=100"))}
            if view.can_export:
                rows = xlsx_rows(client.get(f"{view.url}/export/xlsx/").get_data())
                pages["export"] = "\n".join(str(c) for row in rows for c in row if c is not None)
            for where, body in pages.items():
                leaked = sorted(v for v in others if v in body)
                if leaked:
                    problems.append(f"{role} {view.endpoint} {where} shows full {leaked[:3]}")
    assert not problems, "\n".join(problems)


# ---- 7. no raw internal codes in grid cells ------------------------------------------------------

CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
TAG = re.compile(r"<[^>]+>")


def cells(body: str) -> list[str]:
    return [html.unescape(TAG.sub(" ", c)).strip() for c in CELL.findall(body)]


def test_no_raw_state_codes_in_grids_or_details(app, world, clients):
    """No cell is a workflow state key, a code of any *_LABELS dict, or Python's 'None'."""
    codes = STATE_KEYS | label_codes() | {"None"}
    problems, rows_seen = [], 0
    for view in model_views(app):
        for role in sorted(view.roles):
            client, user = clients[role], world.users[role]
            ids = sorted(scoped_ids(view.model, user))
            bodies = {"list": page_text(client.get(f"{view.url}/?page_size=100"))}
            for row_id in ids[-3:]:
                rows_seen += 1
                bodies[f"details {row_id}"] = page_text(client.get(f"{view.url}/details/?id={row_id}"))
            for where, body in bodies.items():
                raw = sorted({c for c in cells(body)} & codes)
                if raw:
                    problems.append(f"{role} {view.endpoint} {where}: raw {raw}")
    assert rows_seen > 20, rows_seen
    assert not problems, "\n".join(problems)


def test_no_secret_columns_in_any_grid_details_or_export(app):
    problems = []
    for view in model_views(app):
        for kind in ("_list_columns", "_details_columns", "_export_columns"):
            names = [name for name, _label in getattr(view, kind, None) or []]
            secret = [n for n in names if SECRET_COLUMN.search(n)]
            if secret:
                problems.append(f"{view.endpoint} {kind}: {secret}")
    assert not problems, "\n".join(problems)


# ---- 8. application documents: a file only through its application's scope -------------------


def test_application_documents_only_through_their_application_scope(app, world, clients):
    """Every download door of an application's files (/document/<id>, on every grid that has
    one) serves a file only to a user who sees its application, and to such a user through the
    application's main grid; every other role and organisation gets 403/404."""
    from ecqs.models import ApplicationDocument

    documents = list(
        db.session.execute(select(ApplicationDocument).order_by(ApplicationDocument.id)).scalars()
    )
    assert {bool(d.licence_application_id) for d in documents} == {True, False}
    views = [v for v in role_views(app) if hasattr(v, "document_view")]
    assert {v.endpoint for v in views} >= {
        "licence_applications",
        "qualification_applications",
        "my_qualification_applications",
    }
    problems, served, refused = [], 0, 0
    for view in views:
        for role, client in clients.items():
            visible = scoped_ids(ApplicationDocument, world.users[role])
            for document in documents:
                code = client.get(f"{view.url}/document/{document.id}").status_code
                mine = getattr(document, view.document_parent_attr) is not None
                expected_open = role in view.roles and document.id in visible and mine
                if code == 200:
                    served += 1
                    if not expected_open:
                        problems.append(f"{role} {view.endpoint} document {document.id}: served")
                elif code in (403, 404):
                    refused += 1
                    main = view.endpoint in ("licence_applications", "qualification_applications")
                    if expected_open and main:
                        problems.append(f"{role} {view.endpoint} document {document.id}: {code}")
                else:
                    problems.append(f"{role} {view.endpoint} document {document.id}: {code}")
        for junk in ("abc", "0", "99999999999999999999"):
            code = clients["admin"].get(f"{view.url}/document/{junk}").status_code
            if code not in (403, 404):
                problems.append(f"admin {view.endpoint} document {junk}: {code}")
    assert not problems, "\n".join(problems[:60])
    assert served > 10 and refused > 50, (served, refused)
