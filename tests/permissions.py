"""The shape of the expected-permission tables (tests/<domain>/permissions.py).

Each domain's table is written by hand from SPEC.md and the manuals, not from the engine's
state tables: tests/test_workflow_permissions.py compares the two over every registered
workflow x state x action x role, so a change to either that the other does not share fails.
"""

from __future__ import annotations

from typing import NamedTuple


class Rule(NamedTuple):
    """Who may perform an action from which states, at the role/state level."""

    sources: frozenset[str]  # states the action may start from
    roles: frozenset[str]  # roles that may perform it (some party of the record among them)
    party: bool  # True: beyond the role, the actor must be a party to the record


def rule(sources: str, roles: str, party: bool = True) -> Rule:
    """rule("draft submitted", "enterprise person") — space-separated states and roles."""
    return Rule(frozenset(sources.split()), frozenset(roles.split()), party)


# Every role a user can have, plus the engine acting on someone's behalf (ecqs.workflows.SYSTEM).
ALL_ROLES = ("person", "enterprise", "metrology", "assessor", "unit", "reviewer", "association", "admin")
ROLES = (*ALL_ROLES, "system")
