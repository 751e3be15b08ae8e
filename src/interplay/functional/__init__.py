"""Pure, differentiable functions: tensors in, 0-d tensors (or small result objects) out."""

from interplay.functional.closed_form import (
    CollapseReference,
    entropy_at_collapse,
    mir_at_collapse,
    nc_reference,
    simplex_etf,
)
from interplay.functional.collapse import NeuralCollapseResult, neural_collapse
from interplay.functional.entropy import gram_entropy, matrix_entropy, matrix_joint_entropy
from interplay.functional.information import hdr, matrix_mutual_information, mir
from interplay.functional.interplay import InterplayResult, interplay_metrics
from interplay.functional.similarity import effective_rank, linear_cka, renyi_entropy

__all__ = [
    "CollapseReference",
    "InterplayResult",
    "NeuralCollapseResult",
    "effective_rank",
    "entropy_at_collapse",
    "gram_entropy",
    "hdr",
    "interplay_metrics",
    "linear_cka",
    "matrix_entropy",
    "matrix_joint_entropy",
    "matrix_mutual_information",
    "mir",
    "mir_at_collapse",
    "nc_reference",
    "neural_collapse",
    "renyi_entropy",
    "simplex_etf",
]
