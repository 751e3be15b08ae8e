"""interplay: matrix information theory for supervised learning.

Matrix entropy, matrix mutual information, MIR and HDR between representations and
classification heads, with neural-collapse metrics beside them (Song et al. 2024,
arXiv 2406.03999; arXiv 2409.16767).
"""

from interplay.functional import (
    CollapseReference,
    InterplayResult,
    NeuralCollapseResult,
    effective_rank,
    entropy_at_collapse,
    gram_entropy,
    hdr,
    interplay_metrics,
    linear_cka,
    matrix_entropy,
    matrix_joint_entropy,
    matrix_mutual_information,
    mir,
    mir_at_collapse,
    nc_reference,
    neural_collapse,
    renyi_entropy,
    simplex_etf,
)
from interplay.validation import ExactSizeError, InterplayTypeError, InterplayValueError

__version__ = "0.1.0"


def __getattr__(name: str):
    # probe and profile pull in torchmetrics and the model hooks; import them only when asked for.
    if name == "probe":
        from interplay.probing import probe

        return probe
    if name in ("profile", "LayerProfile"):
        from interplay import layer_profile

        return getattr(layer_profile, name)
    raise AttributeError(f"module 'interplay' has no attribute {name!r}")


__all__ = [
    "CollapseReference",
    "ExactSizeError",
    "InterplayResult",
    "InterplayTypeError",
    "InterplayValueError",
    "LayerProfile",
    "NeuralCollapseResult",
    "__version__",
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
    "probe",
    "profile",
    "renyi_entropy",
    "simplex_etf",
]
