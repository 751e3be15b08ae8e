"""Reports built from run records alone: figures and an HTML page."""

from interplay.report.html import build_report, final_table
from interplay.report.plots import plot_runs

__all__ = ["build_report", "final_table", "plot_runs"]
