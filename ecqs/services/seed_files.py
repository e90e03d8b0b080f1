"""The reference files of seed/: CSV whose first line names its source ('# source: …')."""

from __future__ import annotations

import csv

from ecqs.config import SEED_DIR


def read_csv(name: str) -> list[dict]:
    """Rows of seed/<name>, comment lines (the '# source:' header) left out."""
    with (SEED_DIR / name).open(encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return list(csv.DictReader(lines))
