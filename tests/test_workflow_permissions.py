"""ONE parametrised test over every registered workflow x state x action x role: the engine's
answer (ecqs.workflows.check) must be the one the domain's expected-permission table gives.

The tables (tests/<domain>/permissions.py) are written by hand from SPEC.md and the manuals.
This test fails when a registered workflow has no table, when a table names an action the
engine lacks (or misses one it has), and for every (state, action, role) on which the two
disagree — so a new workflow or a changed transition cannot slip through unnoticed.

Party predicates (is this actor the record's enterprise, its institution, its authority …) need
real records; here they are taken as satisfied (check() runs on a copy of the workflow with no
party predicate), and the table only says whether the action has one. The per-domain tests
exercise the predicates on real rows.
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from ecqs import domains, workflows  # noqa: F401  (domains registers every state table)
from tests.permissions import ROLES

TESTS = Path(__file__).parent


def _expected_tables() -> dict[str, dict]:
    """workflow name -> {action: Rule}, gathered from every tests/<domain>/permissions.py."""
    tables: dict[str, dict] = {}
    for path in sorted(TESTS.glob("*/permissions.py")):
        module = importlib.import_module(f"tests.{path.parent.name}.permissions")
        for name, table in module.EXPECTED.items():
            assert name not in tables, f"two expected tables for workflow {name}"
            tables[name] = table
    return tables


EXPECTED = _expected_tables()
REGISTERED = {wf.name: wf for wf in workflows.WORKFLOWS.values()}


def _cases():
    for name, wf in sorted(REGISTERED.items()):
        actions = sorted(set(wf.by_action) | set(EXPECTED.get(name, {})))
        for state in wf.states:
            for action in actions:
                for role in ROLES:
                    yield pytest.param(name, state, action, role, id=f"{name}-{state}-{action}-{role}")
    for name in sorted(set(EXPECTED) - set(REGISTERED)):
        yield pytest.param(name, None, None, None, id=f"{name}-not-registered")


@pytest.fixture(autouse=True)
def _clean(app):
    """No database here: an app context (for gettext) instead of the per-test clean-up."""
    with app.app_context():
        yield


_partyless_cache: dict[str, workflows.Workflow] = {}


def _partyless(wf: workflows.Workflow) -> workflows.Workflow:
    """A copy of `wf` whose transitions have no party predicate (by_action rebuilt, not shared)."""
    if wf.name not in _partyless_cache:
        transitions = tuple(dataclasses.replace(t, party=None) for t in wf.transitions)
        _partyless_cache[wf.name] = dataclasses.replace(wf, transitions=transitions, by_action={})
    return _partyless_cache[wf.name]


def _engine_answer(wf, state, action, role, monkeypatch) -> str:
    monkeypatch.setattr(workflows, "workflow_for", lambda obj: _partyless(wf))
    obj = SimpleNamespace(**{wf.field: state})
    actor = SimpleNamespace(role=role, is_authenticated=True, id=-1, organization_id=-1, is_org_admin=True)
    try:
        workflows.check(obj, action, actor)
    except workflows.NotPermitted:
        return "not permitted"
    except workflows.IllegalState:
        return "illegal state"
    return "allowed"


@pytest.mark.parametrize(("name", "state", "action", "role"), list(_cases()))
def test_engine_answers_as_the_expected_table(name, state, action, role, monkeypatch):
    if name not in REGISTERED:
        pytest.fail(f"tests/<domain>/permissions.py has a table for {name}, which is not registered")
    wf = REGISTERED[name]
    table = EXPECTED.get(name)
    if table is None:
        pytest.fail(f"workflow {name} is registered but has no table in tests/<domain>/permissions.py")
    if action not in wf.by_action:
        pytest.fail(f"the table of {name} names action {action!r}, which the engine lacks")
    if action not in table:
        pytest.fail(f"the engine's {name} has action {action!r}, which its expected table lacks")
    rule = table[action]
    assert (wf.by_action[action].party is not None) == rule.party, f"{name}.{action}: party predicate"
    if role not in rule.roles:
        expected = "not permitted"
    elif state not in rule.sources:
        expected = "illegal state"
    else:
        expected = "allowed"
    assert _engine_answer(wf, state, action, role, monkeypatch) == expected


def test_the_party_free_copy_leaves_the_registry_alone():
    for wf in REGISTERED.values():
        _partyless(wf)
        assert all(t.party is wf.by_action[t.action].party for t in wf.transitions)
