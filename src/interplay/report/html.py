"""An HTML page for one or more runs: a summary table and the figures."""

from __future__ import annotations

import html
import json
from pathlib import Path

from interplay.report.page import document
from interplay.report.plots import plot_runs
from interplay.training.records import read_rows

__all__ = ["build_report", "SUMMARY_COLUMNS"]

SUMMARY_COLUMNS = ["accuracy", "loss", "mir", "mir_nc", "hdr", "h_z", "h_w", "h_nc", "mi", "nc1", "nc2_etf_distance", "nc3", "nc4"]


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape("" if value is None else str(value))


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
            raise FileNotFoundError(f"{d} has no metrics.csv; pass the folder of a run made by interplay train.")
        label = d.name if d.name not in runs else str(d)
        runs[label] = read_rows(d / "metrics.csv")
        configs[label] = json.loads((d / "config.json").read_text()) if (d / "config.json").is_file() else {}
    figures = plot_runs(runs, out_dir)
    rows = []
    for label, records in runs.items():
        last = max(r["epoch"] for r in records)
        for r in records:
            if r["epoch"] == last:
                rows.append("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in [label, r["split"], last, *(r.get(c) for c in SUMMARY_COLUMNS)]) + "</tr>")
    header = "".join(f"<th>{c}</th>" for c in ["run", "split", "epoch", *SUMMARY_COLUMNS])
    settings = "".join(
        f"<h3>{html.escape(label)}</h3><p>information metrics: {html.escape(str(c.get('information_estimate', 'n/a')))}</p>"
        f"<pre>{html.escape(json.dumps(c.get('config', {}), indent=1))}</pre>"
        for label, c in configs.items()
    )
    images = "".join(f'<figure><img src="{p.name}" alt="{p.stem}"><figcaption>{p.stem}</figcaption></figure>' for p in figures)
    intro = ("Final evaluation of each run. mir_nc and h_nc are the values at neural collapse for the data set's "
             "class count; HDR is 0 there. Dashed lines: training data; solid: test data.")
    page = document("interplay report", [
        f"<h1>Information interplay: {html.escape(', '.join(runs))}</h1>", f"<p>{intro}</p>",
        f"<table><tr>{header}</tr>{''.join(rows)}</table>", images, f"<h2>Configurations</h2>{settings}",
    ])
    page_path = out_dir / "report.html"
    page_path.write_text(page)
    return page_path
