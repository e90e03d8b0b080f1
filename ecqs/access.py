"""Who may see which rows: ONE scope function per model, used by every door (list, count,
details, edit, delete, actions, export, file download, inbox)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import false, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ecqs.extensions import db
from ecqs.models import (
    User,
)

Scope = Callable[[object, User], object]
SCOPES: dict[type, Scope] = {}


def scope_for(model: type):
    def register(fn: Scope) -> Scope:
        SCOPES[model] = fn
        return fn

    return register


def scoped(query, model: type, user: User):
    """Apply the model's scope to a Query or Select. Unknown models are denied by default."""
    if user is None or not getattr(user, "is_authenticated", False):
        return query.where(false())
    fn = SCOPES.get(model)
    if fn is None:
        return query.where(false())
    return fn(query, user)


def is_visible(obj, user: User) -> bool:
    model = type(obj)
    pk = model.__mapper__.primary_key[0]
    stmt = scoped(select(pk).where(pk == getattr(obj, pk.key)), model, user)
    return db.session.execute(stmt).first() is not None


def scoped_children(obj, relationship: str, user: User) -> list:
    """The rows of `obj.<relationship>` that `user` may see through the child model's own
    scope, in the relationship's order. A parent's page lists its children through this: seeing
    a booking does not mean seeing every instrument in it."""
    rows = list(getattr(obj, relationship))
    if not rows:
        return []
    model = type(rows[0])
    pk = model.__mapper__.primary_key[0]
    ids = [getattr(row, pk.key) for row in rows]
    visible = set(db.session.execute(scoped(select(pk).where(pk.in_(ids)), model, user)).scalars())
    return [row for row in rows if getattr(row, pk.key) in visible]


def business_user(user: User) -> bool:
    """Organisation users may use business functions only once their organisation is approved."""
    return user.org_approved


def reviewer_province(user: User):
    """'' for a national reviewer (everything), '61' for the bureau of 陕西省, None otherwise."""
    if user.role != "reviewer" or user.organization is None or not user.org_approved:
        return None
    org = user.organization
    if org.kind != "authority":
        return None
    if org.authority_level == "national":
        return ""
    if org.authority_level == "provincial" and org.division_code:
        return org.division_code[:2]
    return None


def division_range(column, prefix: str):
    """Index-friendly 'division code starts with prefix' for 6-digit GB/T 2260 codes."""
    return column.between(prefix.ljust(6, "0"), prefix.ljust(6, "9"))


class unindexed(FunctionElement):
    """A column SQLite must not use an index for (`+column`; plain elsewhere).

    A province holds a large share of all instruments: for its grid ('newest first, 20 rows')
    walking the primary key backwards finds 20 matches at once, while SQLite, given an index
    on the division, reads and sorts every row of the province. PostgreSQL's planner weighs
    this itself."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column):
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _unindexed_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element, compiler, **kw):
    return "+" + compiler.process(element.clauses, **kw)


def within_reviewer_province(query, user, condition):
    """A reviewer sees rows of its authority's province: `condition(prefix)` filters them; a
    national authority ('' prefix) sees all, a reviewer without an authority sees nothing."""
    prefix = reviewer_province(user)
    if prefix is None:
        return query.where(false())
    if prefix == "":
        return query
    return query.where(condition(prefix))
