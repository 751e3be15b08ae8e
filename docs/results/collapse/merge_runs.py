"""Merge the finished units of several runs of one collapse config into one folder and write its report.

The default's units were trained by separate invocations of the same settings (each unit trains the
same way whatever else its invocation holds); this gathers their finished units, first folder first.

Run from the repository root:
    python docs/results/collapse/merge_runs.py OUT RUN_DIR [RUN_DIR ...]
"""
import json
import sys
from pathlib import Path

from interplay.experiments import collapse
from interplay.experiments.runs import Records

def read(folder: Path) -> list[dict]:
    """Every row of a run folder, markers included, without touching the file."""
    return [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines() if line.strip()]


out, sources = Path(sys.argv[1]), [Path(a) for a in sys.argv[2:]]
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
print(collapse.report(out, Records(out / "records.jsonl")))
