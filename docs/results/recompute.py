"""Recompute every table cell with a spread and every checked number of docs/results.md from the CSVs.

One convention for spread on the page: mean ± the sample standard deviation (ddof=1) over seeds.
The tables with a spread are regenerated from their specifications in `tables.py`; the measured
numbers quoted in the prose (and the tables without a spread) are checked against their sources
in `claims.py` (one `claims_<section>.py` per section of the page, computed by the `sources_*.py`
modules), each with a phrase that locates it. Not checked here: wall times
(other than the training seconds a run records in its CSV), settings that the runs' config.json
files hold, and closed-form constants such as MIR_NC or log 9.

Run from the repository root:
    python docs/results/recompute.py            # check; exit status 1 and a list on any mismatch
    python docs/results/recompute.py --write    # rewrite the spread tables of the page in place
"""
import csv
import functools
import math
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PAGE = HERE.parent / "results.md"
DASHES = str.maketrans({"−": "-", "–": "-", ",": ""})

__all__ = ["rows", "values", "sd", "check_tables", "check_claims", "main"]


@functools.lru_cache(maxsize=None)
def _load(path: str) -> tuple[dict, ...]:
    with open(HERE / path, newline="") as handle:
        return tuple(csv.DictReader(handle))


def _matches(cell: str, wanted) -> bool:
    if cell == str(wanted):
        return True
    try:
        return float(cell) == float(wanted)
    except (TypeError, ValueError):
        return False


def rows(path: str, **filters) -> list[dict]:
    """Rows of a CSV under docs/results/ whose columns equal the given values (numbers compared as floats)."""
    return [r for r in _load(path) if all(_matches(r[k], v) for k, v in filters.items())]


def values(path: str, column, **filters) -> np.ndarray:
    """One column (a name, or a function of a row) of the matching rows, as float64."""
    picked = rows(path, **filters)
    if not picked:
        raise LookupError(f"no rows of {path} match {filters}")
    get = column if callable(column) else (lambda r: r[column])
    return np.array([float(get(r)) if get(r) not in ("", None) else math.nan for r in picked], dtype=np.float64)


def sd(x) -> float:
    """Sample standard deviation (ddof=1), the page's one spread."""
    return float(np.std(np.asarray(x, dtype=np.float64), ddof=1))


def _decimals(text: str) -> int:
    text = text.translate(DASHES).strip().lstrip("+")
    return len(text.split(".")[1]) if "." in text else 0


def _number(text: str) -> float:
    return float(text.translate(DASHES).strip())


def _format(value: float, like: str) -> str:
    """`value` printed with the decimals, sign style and minus sign of the cell text `like`."""
    text = f"{value:.{_decimals(like)}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    if text.startswith("-") and "−" in like:
        text = "−" + text[1:]
    if like.strip().startswith("+") and not text.startswith(("-", "−")):
        text = "+" + text
    return text


def _cell(samples: np.ndarray, old: str) -> str:
    if not re.search(r"\d", old):
        return old.strip()
    if "±" not in old:
        if old.strip() == "0" and not np.any(samples):
            return old.strip()
        return _format(float(np.mean(samples)), old)
    mean_text, spread_text = (part.strip() for part in old.split("±"))
    if mean_text == "0" and not np.any(samples):
        return "0"
    return f"{_format(float(np.mean(samples)), mean_text)} ± {_format(sd(samples), spread_text)}"


def _table_lines(lines: list[str], header: str) -> range:
    starts = [i for i, line in enumerate(lines) if line.startswith(header)]
    if len(starts) != 1:
        raise LookupError(f"table header {header!r} found {len(starts)} times on the page, expected once")
    start = starts[0] + 2
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return range(start, end)


def check_tables(text: str) -> tuple[str, list[str]]:
    """The page with every specified table cell recomputed, and a line per cell that changed."""
    from tables import TABLES

    lines = text.split("\n")
    changed = []
    for table in TABLES:
        body = _table_lines(lines, table.header)
        if len(body) != len(table.rows):
            raise LookupError(f"table {table.header!r}: {len(body)} rows on the page, {len(table.rows)} specified")
        for index, spec in zip(body, table.rows):
            cells = lines[index].split("|")[1:-1]
            for column, source in table.columns.items():
                samples = source(spec)
                if samples is None:
                    continue
                new = _cell(samples, cells[column])
                if new != cells[column].strip():
                    changed.append(f"{table.header[:40]}… row {cells[0].strip()!r} col {column}: {cells[column].strip()} -> {new}")
                    cells[column] = f" {new} "
            lines[index] = "|" + "|".join(cells) + "|"
    return "\n".join(lines), changed


def _words(text: str) -> str:
    """Text with every run of whitespace one space, so line breaks do not matter."""
    return " ".join(text.split())


def _paragraph(text: str, phrase: str) -> str:
    hits = [p for p in (_words(p) for p in text.split("\n\n")) if _words(phrase) in p]
    if len(hits) != 1 or hits[0].count(_words(phrase)) != 1:
        raise LookupError(f"phrase {phrase!r} found {sum(p.count(_words(phrase)) for p in hits)} times on the page, expected once")
    return hits[0]


def _agrees(quoted: str, value: float) -> bool:
    scale = 100.0 if quoted.endswith("%") else 1.0
    digits = quoted.rstrip("% ")
    return math.isclose(value * scale, _number(digits), abs_tol=0.5 * 10 ** -_decimals(digits) * (1 + 1e-9) + 1e-12)


def check_claims(text: str) -> list[str]:
    """A line for every quoted number that is not on the page or does not match its source."""
    from claims import CLAIMS

    problems = []
    for phrase, quoted, source in CLAIMS:
        try:
            paragraph = _paragraph(text, phrase)
        except LookupError as error:
            problems.append(str(error))
            continue
        if _words(quoted) not in paragraph:
            problems.append(f"{phrase!r}: {quoted!r} not in its paragraph")
            continue
        computed = source()
        computed = np.atleast_1d(np.asarray(computed, dtype=np.float64))
        parts = re.findall(r"(?<![\w.])[+−-]?\d[\d,]*(?:\.\d+)?(?:\s?%)?", quoted)
        if len(parts) == 2 and re.search(r"\d–[\d.]+\s?%", quoted):
            parts[0] += "%"
        if len(parts) == 2 and re.search(r"\d(?:–| and | to )[+−-]?\d", quoted) and computed.size > 2:
            computed = np.array([computed.min(), computed.max()])
        if len(parts) != computed.size or not all(_agrees(p, v) for p, v in zip(parts, computed)):
            problems.append(f"{phrase!r}: quoted {quoted!r}, computed {np.round(computed, 6).tolist()}")
    return problems


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(HERE))
    text = PAGE.read_text()
    new_text, changed = check_tables(text)
    if "--write" in argv:
        PAGE.write_text(new_text)
        print(f"{len(changed)} table cells rewritten")
        changed = []
    problems = changed + check_claims(new_text)
    print("\n".join(problems) or "every table cell and quoted number matches the CSVs")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
