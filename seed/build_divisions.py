"""Regenerate seed/divisions.csv from python-stdnum's cn/loc.dat (GB/T 2260 codes compiled from
the Ministry of Civil Affairs lists; see the header of loc.dat). Keeps only codes still in use
(no "[-YYYY]" end year). Run: .venv/bin/python seed/build_divisions.py"""

import csv
import re
from pathlib import Path

import stdnum

LOC = Path(stdnum.__file__).parent / "cn" / "loc.dat"
OUT = Path(__file__).with_name("divisions.csv")
SPAN = re.compile(r"^\[(\d{4})?-(\d{4})?\](.*)$")


def current_name(raw: str) -> str | None:
    """The name in use today, or None when the code was abolished."""
    names = [part.strip() for part in raw.split(",") if part.strip()]
    last = names[-1]
    match = SPAN.match(last)
    if match is None:
        return last
    if match.group(2):  # has an end year: abolished
        return None
    return match.group(3)


def main() -> None:
    rows, province = [], None
    stdnum_version = stdnum.__version__
    for line in LOC.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
            continue
        suffix, rest = line.strip().split(" ", 1)
        raw = re.search(r'county="([^"]*)"', rest).group(1)
        name = current_name(raw)
        code = province + suffix
        # "市辖区"/"县" at county level are placeholders in GB/T 2260, not places.
        if name is None or (not code.endswith("00") and name in {"市辖区", "县"}):
            continue
        if code.endswith("0000"):
            level, parent = 1, ""
        elif code.endswith("00"):
            level, parent = 2, code[:2] + "0000"
        else:
            level, parent = 3, code[:4] + "00"
        rows.append((code, name, level, parent))
    codes = {r[0] for r in rows}
    # A county whose city line is missing hangs from the province (e.g. 省直辖县级行政区划).
    fixed = []
    for code, name, level, parent in rows:
        if level == 3 and parent not in codes:
            parent = code[:2] + "0000"
        fixed.append((code, name, level, parent))
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        fh.write(
            f"# source: GB/T 2260 administrative division codes from python-stdnum {stdnum_version} "
            "stdnum/cn/loc.dat (compiled from zh.wikipedia 中华人民共和国行政区划代码 tables); "
            "codes with an end year are left out; regenerate with seed/build_divisions.py\n"
        )
        writer = csv.writer(fh)
        writer.writerow(["code", "name", "level", "parent_code"])
        writer.writerows(fixed)
    print(f"{len(fixed)} divisions written to {OUT}")


if __name__ == "__main__":
    main()
