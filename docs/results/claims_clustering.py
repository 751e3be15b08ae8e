"""The numbers quoted in the clustering section of docs/results.md and where each comes from.

Each claim is (phrase, quoted, source) as `claims.py` describes.
"""
from recompute import rows
from sources_training import CLU, epochs_1_to_10, global_corr, per_class

__all__ = ["CLAIMS"]

CLAIMS = [
    ("| control, 10 Gaussian classes |", "| 10 | −1.00 | +1.00 |", lambda: [10, per_class("0", "silhouette", "control")[0], per_class("0", "davies_bouldin", "control")[0]]),
    ("| trained, epoch 0 (initialisation)", "−0.71 / −0.49 / −0.75 | −0.04 / +0.06 / +0.19", lambda: [*per_class("0", "silhouette"), *per_class("0", "davies_bouldin")]),
    ("| trained, each of epochs 1–10, all seeds |", "−0.79 to −0.99 | +0.78 to +1.00", lambda: [epochs_1_to_10("silhouette").max(), epochs_1_to_10("silhouette").min(), epochs_1_to_10("davies_bouldin").min(), epochs_1_to_10("davies_bouldin").max()]),
    ("| trained, all (class, epoch) points", "| 110 each | −0.97 / −0.95 / −0.93 | +0.93 / +0.93 / +0.91 |", lambda: [110, *per_class("all", "silhouette"), *per_class("all", "davies_bouldin")]),
    ("Correlation over the 11 measurements of each seed", "11", lambda: len(rows(CLU, seed=0))),
    ("| H(Z) vs silhouette |", "0.999, 0.999, 0.999 | 0.84, 0.62, 0.75", lambda: [*global_corr("h_z vs silhouette", "pearson"), *global_corr("h_z vs silhouette", "spearman")]),
    ("| H(Z) vs Davies–Bouldin |", "−0.998, −0.998, −0.997 | −0.77, −0.75, −0.45", lambda: [*global_corr("h_z vs davies_bouldin", "pearson"), *global_corr("h_z vs davies_bouldin", "spearman")]),
    ("| H(W) vs silhouette |", "−0.78, −0.80, −0.79 | −0.19, 0.05, −0.24", lambda: [*global_corr("h_w vs silhouette", "pearson"), *global_corr("h_w vs silhouette", "spearman")]),
    ("| H(W) vs Davies–Bouldin |", "0.79, 0.82, 0.83 | 0.20, 0.59, 0.50", lambda: [*global_corr("h_w vs davies_bouldin", "pearson"), *global_corr("h_w vs davies_bouldin", "spearman")]),
    ("Leaving epoch 0 out (computed from the same records)", "0.62 / 0.88 / 0.77", lambda: global_corr("h_z vs silhouette", "pearson", True)),
    ("Leaving epoch 0 out (computed from the same records)", "−0.45 / −0.53 / −0.21", lambda: global_corr("h_z vs davies_bouldin", "pearson", True)),
    ("Leaving epoch 0 out (computed from the same records)", "(+0.26 / +0.67 / +0.56)", lambda: global_corr("h_w vs silhouette", "pearson", True)),
]
