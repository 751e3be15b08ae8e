"""Independent float64 oracle: full n×n Gram matrices and numpy's eigendecomposition.

Deliberately naive and written without the package's code, so that a mistake there
cannot hide in the comparison.
"""

from __future__ import annotations

import numpy as np


def unit_rows(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def cosine_gram(x) -> np.ndarray:
    z = unit_rows(x)
    return z @ z.T


def entropy_of(k: np.ndarray) -> float:
    eig, _ = np.linalg.eigh(k / np.trace(k))
    eig = eig[eig > 1e-15]
    return float(-(eig * np.log(eig)).sum())


def entropies(x, y) -> dict[str, float]:
    kx, ky = cosine_gram(x), cosine_gram(y)
    h_x, h_y, h_joint = entropy_of(kx), entropy_of(ky), entropy_of(kx * ky)
    mi = h_x + h_y - h_joint
    return {
        "h_x": h_x,
        "h_y": h_y,
        "h_joint": h_joint,
        "mi": mi,
        "mir": mi / min(h_x, h_y) if min(h_x, h_y) > 0 else float("nan"),
        "hdr": abs(h_x - h_y) / max(h_x, h_y) if max(h_x, h_y) > 0 else float("nan"),
    }


def sample_pairing(features, labels, heads, center: bool = False) -> dict[str, float]:
    z = np.asarray(features, dtype=np.float64)
    if center:
        z = z - z.mean(axis=0)
    return entropies(z, np.asarray(heads, dtype=np.float64)[np.asarray(labels)])


def class_pairing(features, labels, heads, center: bool = False) -> dict[str, float]:
    z = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    means = np.stack([z[labels == c].mean(axis=0) for c in range(len(heads))])
    if center:
        means = means - z.mean(axis=0)
    return entropies(means, heads)


def neural_collapse(features, labels, heads, bias=None, global_mean: str = "classes") -> dict[str, float]:
    """NC1–NC4 by their textbook definitions, one sample at a time where that is clearest.

    ``global_mean``: the mean of the class means (Papyan's code; an ETF scores 0 under imbalance)
    or of all samples.
    """
    z = np.asarray(features, dtype=np.float64)
    w = np.asarray(heads, dtype=np.float64)
    labels = np.asarray(labels)
    c = w.shape[0]
    n = z.shape[0]
    mu = np.stack([z[labels == k].mean(axis=0) for k in range(c)])
    mu_g = mu.mean(axis=0) if global_mean == "classes" else z.mean(axis=0)
    sigma_w = sum(np.outer(z[i] - mu[labels[i]], z[i] - mu[labels[i]]) for i in range(n)) / n
    m = mu - mu_g
    sigma_b = sum(np.outer(m[k], m[k]) for k in range(c)) / c
    nc1 = np.trace(sigma_w @ np.linalg.pinv(sigma_b, hermitian=True)) / c

    def nc2(rows):
        norms = np.linalg.norm(rows, axis=1)
        u = rows / norms[:, None]
        cos = np.array([u[a] @ u[b] for a in range(c) for b in range(c) if a != b])
        g = rows @ rows.T
        etf = (np.eye(c) - np.ones((c, c)) / c) / np.sqrt(c - 1)
        return (norms.std() / norms.mean(), cos.std(), np.abs(cos + 1 / (c - 1)).mean(),
                np.linalg.norm(g / np.linalg.norm(g) - etf))

    eqn, eqa, maxa, etf = nc2(m)
    heqn, heqa, _, hetf = nc2(w)
    nc3 = np.linalg.norm(w / np.linalg.norm(w) - m / np.linalg.norm(m)) ** 2
    logits = z @ w.T + (0 if bias is None else np.asarray(bias, dtype=np.float64))
    nearest = np.array([np.argmin([np.linalg.norm(zi - mu[k]) for k in range(c)]) for zi in z])
    nc4 = float(np.mean(nearest != logits.argmax(axis=1)))
    return {
        "nc1": nc1, "nc2_equinorm": eqn, "nc2_equiangularity": eqa, "nc2_max_angle": maxa,
        "nc2_etf_distance": etf, "nc2_heads_equinorm": heqn, "nc2_heads_equiangularity": heqa,
        "nc2_heads_etf_distance": hetf, "nc3": nc3, "nc4": nc4,
    }
