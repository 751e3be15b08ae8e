"""An HTML page for one or more runs, and a terminal table of a run's final metrics."""

from __future__ import annotations

import html
import json
from pathlib import Path

from interplay.report.labels import axis_label, symbol
from interplay.report.page import document
from interplay.report.plots import CAPTIONS, plot_runs
from interplay.runs import read_rows
from interplay.validation import InterplayValueError

__all__ = ["build_report", "final_table", "format_number"]

# columns of metrics.csv in the summary table, headed by their axis labels (interplay.report.labels)
SUMMARY_COLUMNS = ("accuracy", "loss", "mir", "mir_nc", "hdr", "h_z", "h_w", "h_nc", "mi", "nc1", "nc2_etf_distance", "nc3", "nc4")
# metric -> column or constant of its value at collapse, for the terminal table
FINAL_METRICS = {
    "accuracy": None, "mir": "mir_nc", "hdr": 0.0, "h_z": "h_nc", "h_w": "h_nc", "nc1": 0.0, "nc2_etf_distance": 0.0,
    "nc3": 0.0, "nc4": 0.0,
}
DIGITS = 4


def format_number(value) -> str:
    """``value`` with :data:`DIGITS` significant digits, trailing zeros kept; text as it is.

    Example:
        >>> format_number(0.5), format_number(0.012345), format_number(None)
        ('0.5000', '0.01235', '')
    """
    if isinstance(value, float):
        return f"{value:#.{DIGITS}g}".rstrip(".")
    return "" if value is None else str(value)


def _final_rows(rows: list[dict]) -> list[dict]:
    last = max(r["epoch"] for r in rows)
    return [r for r in rows if r["epoch"] == last]


def build_report(run_dirs: list[str | Path], out_dir: str | Path | None = None) -> Path:
    """Write ``report.html`` and PNG figures for the runs (overlaid when several); returns the page.

    The report is built from each run's ``metrics.csv`` and ``config.json`` only, so it can be
    rebuilt at any time, also while a run is still going.
    """
    run_dirs = [Path(d) for d in run_dirs]
    out_dir = Path(out_dir) if out_dir is not None else run_dirs[0] / "report"
    runs, configs = {}, {}
    for d in run_dirs:
        if not (d / "metrics.csv").is_file():
            raise InterplayValueError(f"{d} has no metrics.csv; pass the folder of a run made by interplay train.")
        label = d.name if d.name not in runs else str(d)
        runs[label] = read_rows(d / "metrics.csv")
        if not runs[label]:
            raise InterplayValueError(
                f"{d / 'metrics.csv'} holds no records yet: the run has not finished its first evaluation. Wait for it, "
                f"or continue the run with interplay train --resume {d}."
            )
        configs[label] = _config(d / "config.json")
    figures = plot_runs(runs, out_dir)
    rows = []
    for label, records in runs.items():
        for r in _final_rows(records):
            cells = [label, r["split"], r["epoch"], *(r.get(c) for c in SUMMARY_COLUMNS)]
            rows.append("<tr>" + "".join(f"<td>{html.escape(format_number(v))}</td>" for v in cells) + "</tr>")
    header = "".join(f"<th>{html.escape(c)}</th>" for c in ["run", "split", "epoch", *map(axis_label, SUMMARY_COLUMNS)])
    settings = "".join(
        f"<h3>{html.escape(label)}</h3><p>information metrics: {html.escape(str(c.get('information_estimate', 'n/a')))}</p>"
        f"<pre>{html.escape(json.dumps(c.get('config', {}), indent=1))}</pre>"
        for label, c in configs.items()
    )
    images = "".join(
        f'<figure><img src="{p.name}" alt="{html.escape(CAPTIONS[p.stem])}"><figcaption>Figure {i}. '
        f"{html.escape(CAPTIONS[p.stem])}</figcaption></figure>"
        for i, p in enumerate(figures, 1)
    )
    intro = (f"Final evaluation of each run, {DIGITS} significant digits. The values at neural collapse are those "
             "for the data set's class count C: MIR at collapse, and log(C−1) for both entropies; HDR and NC1–NC4 "
             "are 0 there. In the figures the training subset is drawn dashed and the test set solid, each in its own "
             "colour; the dotted black lines are the values at collapse.")
    page = document("interplay report", [
        f"<h1>Information interplay: {html.escape(', '.join(runs))}</h1>", f"<p>{html.escape(intro)}</p>",
        f"<table><tr>{header}</tr>{''.join(rows)}</table>", images, f"<h2>Configurations</h2>{settings}",
    ])
    page_path = out_dir / "report.html"
    page_path.write_text(page)
    return page_path


def _config(path: Path) -> dict:
    """A run's stored ``config.json``, or ``{}`` when it has none."""
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InterplayValueError(
            f"{path} cannot be parsed ({error}); restore it, or delete it to build the report without the run's settings."
        ) from error


def final_table(run_dir: str | Path) -> str:
    """The final train and test metrics of a run beside their values at neural collapse, as text.

    Example:
        >>> import tempfile, pathlib
        >>> from interplay.runs import write_csv
        >>> rows = [{"epoch": 3, "split": split, "accuracy": 1.0, "mir": 0.5, "mir_nc": 0.9524} for split in ("train", "test")]
        >>> print(final_table(write_csv(rows, pathlib.Path(tempfile.mkdtemp()) / "metrics.csv").parent))
        epoch 3       train       test  at collapse
        accuracy      1.000      1.000
        MIR          0.5000     0.5000       0.9524
    """
    rows = {r["split"]: r for r in _final_rows(read_rows(Path(run_dir) / "metrics.csv"))}
    any_row = next(iter(rows.values()))
    lines = [f"{'epoch ' + str(any_row['epoch']):<9}{'train':>10} {'test':>10}  at collapse"]
    for column, reference in FINAL_METRICS.items():
        label = symbol(column)
        if column not in any_row:
            continue
        value = reference if not isinstance(reference, str) else any_row.get(reference)
        cells = [format_number(rows.get(split, {}).get(column)) for split in ("train", "test")]
        lines.append(f"{label:<9}{cells[0]:>10} {cells[1]:>10}  {'0' if value == 0 else format_number(value):>11}".rstrip())
    return "\n".join(lines)
