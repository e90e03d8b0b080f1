"""The reference files of seed/ (CSV whose first line names its source, '# source: …') and the
small helpers every domain's demo data shares (the demo password, checksummed codes)."""

from __future__ import annotations

import csv

from stdnum.cn import ric, uscc

from ecqs.config import SEED_DIR


def read_csv(name: str) -> list[dict]:
    """Rows of seed/<name>, comment lines (the '# source:' header) left out."""
    with (SEED_DIR / name).open(encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return list(csv.DictReader(lines))


DEMO_PASSWORD = "Demo@2026ecqs"  # noqa: S105  (documented demo password; demo data only)


def make_uscc(first17: str) -> str:
    return first17 + uscc.calc_check_digit(first17)


def make_id_number(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")  # stdnum drops the last character
