"""Merge the finished units of several runs of one experiment into one folder and write its report.

Units of an experiment train the same way whatever else their invocation holds (a seed, a grid
point), so a default can be run as several invocations side by side, e.g. one per seed subset.
This gathers their finished units, the first folder's first, and records where each came from in
``config.json`` (``merged_units``); the config kept is the first folder's.

Run from the repository root:
    python docs/results/merge_runs.py EXPERIMENT OUT RUN_DIR [RUN_DIR ...]
"""
import json
import sys
from pathlib import Path

from interplay.experiments import REGISTRY
from interplay.runs import Records


def read(folder: Path) -> list[dict]:
    """Every row of a run folder, markers included, without touching the file."""
    return [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines() if line.strip()]


name, out, sources = sys.argv[1], Path(sys.argv[2]), [Path(a) for a in sys.argv[3:]]
out.mkdir(parents=True, exist_ok=True)
kept, origin = [], {}
for source in sources:
    rows = read(source)
    for unit in sorted({r["unit"] for r in rows if r.get("done")} - set(origin)):
        origin[unit] = str(source)
        kept += [r for r in rows if r["unit"] == unit]
(out / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept))
config = json.loads((sources[0] / "config.json").read_text())
config["merged_units"] = origin
(out / "config.json").write_text(json.dumps(config, indent=2))
print(REGISTRY[name].report(out, Records(out / "records.jsonl")))
