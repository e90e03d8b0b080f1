"""The rows of a ledger grid page (强检器具台账, 强检器具监管 → 器具台账) as light records.

A page of twenty ORM instruments with their kind, catalogue item and division chain costs
about two thousand Python calls to load (120 instances, a column description for ~60 columns)
for the ten texts a row shows. Here the grid's own page query (Flask-Admin's: scoped, filtered,
searched, sorted and paged) selects only those: the instrument's columns the grid and its
formatters read and the related names, through joins of aliases of their own (a filter's join
of the same table does not clash). A related record is shown as the ORM record shows itself
(str): a kind by its name, a division by its full name (division_full_name), an organisation
by its name.

The records carry what the grid's cells, formatters (expiry colours, state badge, choice
labels) and row-button predicates (edit_refusal: the status) read; a grid listing any other
column gets None (its rows come from the ORM). tests/instruments/test_ledger_rows.py compares
the pages the two give."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from ecqs.accounts.models import Division, Organization, division_full_name
from ecqs.instruments.models import Instrument, InstrumentItem, InstrumentKind, expiry_state


class Shown:
    """A related record on a page as its text (what str() of the record gives): a kind with
    its catalogue item, a division with its full name, an organisation with its name. One per
    record and page, shared by the page's rows (list_rows keeps its cell once a page)."""

    __slots__ = ("item", "text")
    __grid_record__ = True  # admin_views/list_rows.py: escaped once a page, as ORM records

    def __init__(self, text: str, item: Shown | None = None):
        self.text = text
        self.item = item

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<Shown {self.text!r}>"


class LedgerRow(NamedTuple):
    """One instrument of a ledger page: its own columns the grids show or their rules read,
    and its kind (with item), usage division and organisation as Shown. Read-only: a page's
    record, not the model (which only the workflow engine changes)."""

    id: int
    name: str
    model_spec: str | None
    serial_no: str
    usage_place: str | None
    delivery_mode: str | None
    valid_until: date | None
    status: str
    kind: Shown | None
    usage_division: Shown | None
    organization: Shown | None

    def expiry_state(self, today: date) -> str | None:
        return expiry_state(self.valid_until, self.status, today)

    def __repr__(self) -> str:
        return f"<LedgerRow {self.id} {self.name!r} {self.serial_no!r} {self.status}>"


# The enterprise's ledger grid (强检器具台账) lists these columns; the records carry them, the
# reviewer's grid's organisation and the id (a grid listing another one takes the ORM's rows).
LEDGER_COLUMNS = (
    "name",
    "kind.item",
    "kind",
    "model_spec",
    "serial_no",
    "usage_division",
    "usage_place",
    "delivery_mode",
    "valid_until",
    "status",
)
GRID_COLUMNS = frozenset({"id", "organization", *LEDGER_COLUMNS})

# Built once, of the tables (not the mapped classes): aliases and columns are immutable, and
# the ORM's annotated ones cost several times more to build and to key for the compiled cache.
_instruments = Instrument.__table__
_kind = InstrumentKind.__table__.alias("ledger_kind")
_item = InstrumentItem.__table__.alias("ledger_item")
_org = Organization.__table__.alias("ledger_org")
# A division and its parents (divisions have three levels: province, city, county).
_county, _city, _province = (Division.__table__.alias(f"ledger_division_{n}") for n in (1, 2, 3))
_COLUMNS = (
    _instruments.c.id,
    _instruments.c.name,
    _instruments.c.model_spec,
    _instruments.c.serial_no,
    _instruments.c.usage_place,
    _instruments.c.delivery_mode,
    _instruments.c.valid_until,
    _instruments.c.status,
    _kind.c.name,
    _item.c.name,
    _county.c.name,
    _city.c.name,
    _province.c.name,
)
# Outer joins, as the ORM's joined loads: no row of the page drops out for a missing link.
_FROM = (
    _instruments.outerjoin(_kind, _kind.c.id == _instruments.c.kind_id)
    .outerjoin(_item, _item.c.id == _kind.c.item_id)
    .outerjoin(_county, _county.c.code == _instruments.c.usage_division_code)
    .outerjoin(_city, _city.c.code == _county.c.parent_code)
    .outerjoin(_province, _province.c.code == _city.c.parent_code)
)
_FROM_WITH_ORG = _FROM.outerjoin(_org, _org.c.id == _instruments.c.organization_id)


def page_rows(session, query, columns, count=None) -> tuple[list[LedgerRow], int | None] | None:
    """The page `query` (a Query of Instrument: the grid's scope, filters, search, order and
    page) as LedgerRow records, in its order, with the value of the column `count` (the grid's
    bounded count, read with the page; None without it or without rows); None where `columns`
    (the grid's) names one the records do not show."""
    if not GRID_COLUMNS.issuperset(columns):
        return None
    with_org = "organization" in columns
    extra = (_org.c.name,) if with_org else ()
    if count is not None:
        extra += (count,)
    stmt = query.with_entities(*_COLUMNS, *extra)
    # The joins from the instruments table (the page's own FROM, which they take the place of).
    stmt = stmt.statement.select_from(_FROM_WITH_ORG if with_org else _FROM)
    # Each kind, division and organisation once a page (the rows share them), by its names.
    kinds: dict = {}
    divisions: dict = {}
    orgs: dict = {}
    rows = []
    counted = None
    for values in session.execute(stmt):  # (Row is a tuple; .tuples() warns on every call)
        id_, name, spec, serial, place, mode, valid, status = values[:8]
        names = values[8:10]
        kind = kinds.get(names, kinds)
        if kind is kinds:
            kind = kinds[names] = _kind_shown(*names)
        names = values[10:13]
        division = divisions.get(names, divisions)
        if division is divisions:
            division = divisions[names] = _division_shown(*names)
        org = None
        if with_org:
            org = orgs.get(values[13], orgs)
            if org is orgs:
                org = orgs[values[13]] = None if values[13] is None else Shown(values[13])
        rows.append(LedgerRow(id_, name, spec, serial, place, mode, valid, status, kind, division, org))
        if count is not None:
            counted = values[-1]
    return rows, counted


def _kind_shown(kind: str | None, item: str | None) -> Shown | None:
    """A kind (its name, its catalogue item's) as InstrumentKind shows itself, with its item."""
    if kind is None:
        return None
    return Shown(kind, None if item is None else Shown(item))


def _division_shown(own: str | None, parent: str | None, grandparent: str | None) -> Shown | None:
    """A division (its own name, its parent's, its grandparent's) as Division shows itself."""
    if own is None:
        return None
    names = [own] if parent is None else [own, parent] if grandparent is None else [own, parent, grandparent]
    return Shown(division_full_name(names))
