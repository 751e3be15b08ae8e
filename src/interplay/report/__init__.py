"""Reports built from run records alone: figures and an HTML page."""

from interplay.report.html import build_report
from interplay.report.plots import plot_runs

__all__ = ["build_report", "plot_runs"]
