"""The numbers quoted in the prose of docs/results.md and where each comes from, gathered from one
`claims_<section>.py` per section of the page (their helpers in the `sources_*.py` modules).

Each claim is (phrase, quoted, source): `phrase` finds the paragraph (it occurs once on the page),
`quoted` is the text as printed there, and `source()` recomputes it from the CSVs: one value, one
value per listed number ("a / b / c", "a → b"), or samples whose minimum and maximum a range
"a–b" quotes. Rounding is to the printed precision.
"""
import claims_clustering
import claims_cma
import claims_collapse
import claims_collapse_ce
import claims_dynamics
import claims_floor
import claims_grokking
import claims_label_smoothing
import claims_lmc
import claims_loss_supervised
import claims_pruning
import claims_semi_supervised

__all__ = ["CLAIMS"]

# in the order of the page
SECTIONS = (
    claims_floor, claims_dynamics, claims_grokking, claims_pruning, claims_clustering, claims_label_smoothing,
    claims_lmc, claims_loss_supervised, claims_semi_supervised, claims_cma, claims_collapse, claims_collapse_ce,
)
CLAIMS = [claim for section in SECTIONS for claim in section.CLAIMS]
