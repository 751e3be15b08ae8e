"""Stateful ``torchmetrics.Metric`` classes with fixed-size, sum-reducible states."""

from interplay.metrics.collapse import NeuralCollapse
from interplay.metrics.information import InformationInterplay

__all__ = ["InformationInterplay", "NeuralCollapse"]
