"""Per-class clustering measures beside the matrix entropy of each class.

Song et al.'s extended paper (arXiv 2409.16767) reads low matrix entropy within a group as tight
clustering. The measures here make that comparable class by class: the matrix entropy of a class's
own representations, its mean silhouette (cosine) and its Davies–Bouldin contribution
``max_{j≠c} (s_c + s_j) / ‖μ_c − μ_j‖`` (s_c: mean Euclidean distance of class c to its centroid),
whose mean over classes is the Davies–Bouldin index. :func:`gaussian_mixture` builds a control whose cluster structure
is known.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import silhouette_samples

from interplay.functional.entropy import matrix_entropy
from interplay.validation import InterplayValueError

__all__ = ["class_clustering", "gaussian_mixture"]


def class_clustering(features: torch.Tensor, labels: torch.Tensor) -> list[dict[str, float | int]]:
    """One row per class: its size, matrix entropy, mean silhouette and Davies–Bouldin contribution.

    Args:
        features: (n, d) representations without all-zero rows.
        labels: (n,) classes; every class present needs at least two samples.

    Example:
        >>> x = torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
        >>> rows = class_clustering(x, torch.tensor([0, 0, 1, 1]))
        >>> [r["class"] for r in rows], rows[0]["silhouette_class"] > 0.9
        ([0, 1], True)
    """
    x, y = features.double().cpu(), labels.cpu()  # scikit-learn's silhouette runs on the CPU
    classes, counts = torch.unique(y, return_counts=True)
    if classes.numel() < 2 or int(counts.min()) < 2:
        raise InterplayValueError(
            f"class_clustering needs at least two classes of at least two samples each; got class sizes "
            f"{dict(zip(classes.tolist(), counts.tolist()))}. Use a larger sample."
        )
    silhouettes = silhouette_samples(x.numpy(), y.numpy(), metric="cosine")  # (n,)
    centroids = torch.stack([x[y == c].mean(0) for c in classes])  # (C', d)
    spreads = torch.stack([(x[y == c] - m).norm(dim=1).mean() for c, m in zip(classes, centroids)])  # (C',)
    distances = torch.cdist(centroids, centroids)  # (C', C')
    ratios = (spreads[:, None] + spreads[None, :]) / distances
    ratios.fill_diagonal_(float("-inf"))
    rows = []
    for k, c in enumerate(classes.tolist()):
        rows.append({
            "class": c,
            "n_class": int(counts[k]),
            "h_class": float(matrix_entropy(x[y == c])),
            "silhouette_class": float(silhouettes[(y == c).numpy()].mean()),
            "davies_bouldin_class": float(ratios[k].max()),
        })
    return rows


def gaussian_mixture(
    num_classes: int, dim: int, per_class: int, spreads, *, separation: float = 1.0, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (C·m, d) and labels of isotropic Gaussian classes around orthogonal means.

    Class c has mean ``separation · e_c`` (orthonormal e_c) and noise of norm about
    ``spreads[c]`` (per coordinate ``spreads[c] / √d``): a smaller spread is a tighter cluster.

    Example:
        >>> x, y = gaussian_mixture(3, 8, 5, [0.1, 0.5, 1.0])
        >>> tuple(x.shape), y.tolist()[:6]
        ((15, 8), [0, 0, 0, 0, 0, 1])
    """
    spreads = np.broadcast_to(np.asarray(spreads, dtype=float), (num_classes,))
    if dim < num_classes:
        raise InterplayValueError(f"gaussian_mixture needs dim >= num_classes for orthogonal means; got {dim} < {num_classes}.")
    g = torch.Generator().manual_seed(seed)
    means = separation * torch.linalg.qr(torch.randn(dim, num_classes, generator=g, dtype=torch.float64)).Q.mT  # (C, d)
    labels = torch.arange(num_classes).repeat_interleave(per_class)  # (C·m,)
    noise = torch.randn(len(labels), dim, generator=g, dtype=torch.float64) / dim**0.5
    return means[labels] + torch.as_tensor(spreads.copy())[labels, None] * noise, labels
