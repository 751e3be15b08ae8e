"""The numbers quoted in the grokking section of docs/results.md and where each comes from.

Each claim is (phrase, quoted, source) as `claims.py` describes.
"""
import numpy as np

from recompute import values
from sources_grokking import STEPS, later_in_all, lead, mlp, row, spread, spread_runs, spread_steps, tf, timing, troughs
from sources_stats import minmax, single

__all__ = ["CLAIMS"]

CLAIMS = [
    # the default runs: transformer and MLP, 5 seeds each
    ("| restricted loss | −2400 |", "−2400 | −2400 | −5700 | −3900 | −4200 | 5/5 | +0.51", lambda: row("restricted_loss")),
    ("| excluded loss | −400 |", "−400 | −300 | −700 | −800 | −1100 | 5/5 | +0.98", lambda: row("excluded_loss")),
    ("| weight norm | −100 |", "−100 | +300 | −7200 | −500 | +400 | 3/5 | −0.87", lambda: row("weight_norm")),
    ("| Fourier share of the embedding | +300 |", "+300 | +600 | −600 | +300 | +300 | 1/5 | +0.99", lambda: row("embedding_fourier_share")),
    ("| train MIR | −4400 |", "−4400 | +700 | −7400 | −3300 | −3900 | 4/5 | −0.23", lambda: row("train_mir")),
    ("| train HDR | −4500 |", "−4500 | −4200 | −7500 | −3500 | −4100 | 5/5 | −0.42", lambda: row("train_hdr")),
    ("| train H(Z) | −4500 |", "−4500 | −4200 | −7500 | −3500 | −4100 | 5/5 | −0.42", lambda: row("train_h_z")),
    ("| train H(W) (heads) | +900 |", "+900 | +1100 | −200 | +700 | +400 | 1/5 | +0.97", lambda: row("train_h_w")),
    ("| train MIR, centred | −2800 |", "−2800 | −4000 | −6600 | −1900 | −2500 | 5/5 | −0.30", lambda: row("train_mir_centred")),
    ("| train HDR, centred | −5300 |", "−5300 | −4000 | −7300 | −3300 | −4600 | 5/5 | +0.21", lambda: row("train_hdr_centred")),
    ("| train H(Z), centred | +300 |", "+300 | +100 | −5700 | +200 | −100 | 2/5 | −0.86", lambda: row("train_h_z_centred")),
    ("| test accuracy (change step) | 5900 |", "5900 | 5600 | 8900 | 5000 | 5500", lambda: values(STEPS, "step_test_accuracy", model="transformer")),
    ("What it shows. **All five transformer seeds grok**", "rises 300–1,100 steps before it in\nevery seed and follows the seeds' timing (correlation +0.98", lambda: [-lead("excluded_loss").max(), -lead("excluded_loss").min(), timing("excluded_loss")]),
    ("they fit the training pairs by step 200", "step 200", lambda: values(STEPS, "memorised_step", model="transformer").max()),
    ("test\naccuracy creeps", "0.03–0.27", lambda: tf("test_accuracy", 2000)),
    ("at change steps 5,000–8,900", "5,000–8,900", lambda: values(STEPS, "step_test_accuracy", model="transformer")),
    ("final test\naccuracy", "0.9965–1.000", lambda: values(STEPS, "final_test_accuracy", model="transformer")),
    ("share 0.73–0.96 at the end", "0.73–0.96", lambda: tf("embedding_fourier_share", 10000)),
    ("The one information metric that follows the seeds' grokking times", "moves 400–1,100 steps *after* test accuracy in 4 of 5\nseeds", lambda: [*(lambda x: [x[x > 0].min(), x.max(), int(np.sum(x > 0)), x.size])(lead("train_h_w"))]),
    ("The one information metric that follows the seeds' grokking times", "(correlation +0.97", lambda: timing("train_h_w")),
    ("seeds' grokking steps\n(correlations −0.42 to −0.23)", "(correlations −0.42 to −0.23)", lambda: [timing(c) for c in ("train_hdr", "train_h_z", "train_mir")]),
    ("Uncentred HDR\nand H(Z) change at step", "1,400–1,500 in *every* seed, and MIR at step 1,500–1,700 in 4 of them", lambda: [*(lambda x: [x.min(), x.max()])(np.r_[values(STEPS, "step_train_hdr", model="transformer"), values(STEPS, "step_train_h_z", model="transformer")]), *(lambda x: [np.sort(x)[0], np.sort(x)[3], int(np.sum(x <= np.sort(x)[3]))])(values(STEPS, "step_train_mir", model="transformer"))]),
    ("Uncentred HDR\nand H(Z) change at step", "whether the seed groks at 5,000 or at 8,900", lambda: [values(STEPS, "step_test_accuracy", model="transformer").min(), values(STEPS, "step_test_accuracy", model="transformer").max()]),
    ("H(Z) of the representations falls from", "3.99–4.11", lambda: tf("train_h_z", 1000)),
    ("H(Z) of the representations falls from", "0.36–0.43", lambda: tf("train_h_z", 2000)),
    ("taking train MIR from 0.33–0.34", "0.33–0.34\nto 0.26–0.27", lambda: [*np.sort(tf("train_mir", 1000))[[0, -1]], *np.sort(tf("train_mir", 2000))[[0, -1]]]),
    ("and HDR from 0.03–0.06", "0.03–0.06 to 0.90–0.91", lambda: [*np.sort(tf("train_hdr", 1000))[[0, -1]], *np.sort(tf("train_hdr", 2000))[[0, -1]]]),
    ("with the mean subtracted, H(Z) stays at", "3.5–4.2", lambda: np.concatenate([tf("train_h_z_centred", s) for s in range(1000, 2001, 100)])),
    ("Centred MIR drifts down", "0.33", lambda: tf("train_mir_centred", 1000).mean()),
    ("Centred MIR drifts down", "0.21–0.29 at the end", lambda: tf("train_mir_centred", 10000)),
    ("0.25–0.32 at step 5,000", "0.25–0.32", lambda: tf("train_mir", 5000)),
    ("0.37–0.50 at the end; test MIR alike", "0.37–0.50", lambda: tf("train_mir", 10000)),
    ("4.2 nats at step 2,000", "4.2", lambda: tf("train_h_w", 2000).mean()),
    ("→ 2.3–3.1 at the end", "2.3–3.1", lambda: tf("train_h_w", 10000)),
    ("It oscillates", "1,100–1,600", lambda: troughs()),
    ("intervals after step 1,000 over the 5", "26 intervals after step 1,000 over the 5", lambda: [troughs().size, 1000, 5]),
    ("Verdicts. Criterion (1), the literal claim", "holds for uncentred HDR (5 of 5 seeds) and for MIR in\n4 of 5 (seed 1's MIR change comes 700 steps after the jump)", lambda: [int(np.sum(lead("train_hdr") < 0)), 5, int(np.sum(lead("train_mir") < 0)), 5, 1, lead("train_mir")[1]]),
    ("Verdicts. Criterion (1), the literal claim", "centred MIR and HDR in 5 of 5", lambda: [min(int(np.sum(lead(c) < 0)) for c in ("train_mir_centred", "train_hdr_centred")), 5]),
    ("Verdicts. Criterion (1), the literal claim", "(correlations −0.42 to\n+0.21); only H(W) (+0.97)", lambda: [*(lambda x: [min(x), max(x)])([timing(c) for c in ("train_mir", "train_hdr", "train_mir_centred", "train_hdr_centred")]), timing("train_h_w")]),
    ("For the MLP, test accuracy jumps at step", "500–600", lambda: values(STEPS, "step_test_accuracy", model="mlp")),
    ("For the MLP, test accuracy jumps at step", "train accuracy at 1 from step 100", lambda: [min(mlp("train_accuracy", s).min() for s in range(100, 1501, 100)), 100]),
    ("For the MLP, test accuracy jumps at step", "(100–400 steps before the jump, in all 5 seeds)", lambda: [*(lambda x: [-x.max(), -x.min()])(np.r_[lead("weight_norm", "mlp"), lead("restricted_loss", "mlp"), lead("excluded_loss", "mlp")]), 5]),
    ("For the MLP, test accuracy jumps at step", "(100–800 steps)", lambda: np.r_[tuple(lead(c, "mlp") for c in ("train_mir", "train_hdr", "test_mir", "test_hdr", "train_h_z", "train_h_w", "train_mir_centred", "train_hdr_centred", "train_h_z_centred"))]),
    ("For the MLP, test accuracy jumps at step", "MIR (0.40–0.41 → 0.25–0.30) and HDR\n(0.12–0.14 → 0.04–0.07)", lambda: [*(lambda x: [x.min(), x.max()])(np.r_[tuple(mlp("train_mir", s) for s in (100, 200, 300))]), *(lambda x: [x.min(), x.max()])(mlp("train_mir", 1500)), *(lambda x: [x.min(), x.max()])(np.r_[tuple(mlp("train_hdr", s) for s in (100, 200, 300))]), *(lambda x: [x.min(), x.max()])(mlp("train_hdr", 1500))]),
    ("For the MLP, test accuracy jumps at step", "from step 100 on (at most 0.24)", lambda: [100, max(mlp("excluded_loss", s).max() for s in range(100, 1501, 100))]),
    ("0.02 at step 300, 0.43–0.54 at 500", "0.43–0.54", lambda: mlp("test_accuracy", 500)),
    ("0.02 at step 300, 0.43–0.54 at 500", "0.95–0.98", lambda: mlp("test_accuracy", 700)),
    ("0.02 at step 300, 0.43–0.54 at 500", "0.02", lambda: mlp("test_accuracy", 300).mean()),
    ("Fourier share reaches only", "0.36–0.49", lambda: mlp("embedding_fourier_share", 1500)),
    # the spread over training fractions (embedding MLP)
    ("**Spread of grokking times: the embedding MLP", "hardly any (500–600)", lambda: spread_steps(0.5)),
    ("Pooled with the\ndefault's 5 runs", "20 runs, all of which grok (test accuracy at least 0.99 at step 1,500)", lambda: [len(spread_runs()), min(e["final_test_accuracy"] for e in spread_runs()), max(e["steps"] for e in spread_runs())]),
    ("Pooled with the\ndefault's 5 runs", "900–1,100 (fraction 0.4), 700 (0.45), 500–600 (0.5) and 400 (0.6)", lambda: [*minmax(spread_steps(0.4)), 0.4, single(spread_steps(0.45)), 0.45, *minmax(spread_steps(0.5)), 0.5, single(spread_steps(0.6)), 0.6]),
    ("Pooled with the\ndefault's 5 runs", "differ by at most 200 steps", lambda: max(np.ptp(spread_steps(f)) for f in {e["train_fraction"] for e in spread_runs()})),
    ("On the MLP, criterion (1) fails", "in\nall 20 runs (train MIR 300–600 steps after it), and train HDR before it in only 3 of 20", lambda: [later_in_all(("train_mir", "test_mir", "train_mir_centred")), *minmax([e["step_train_mir"] - e["step_test_accuracy"] for e in spread_runs()]), spread("train_hdr", "first"), spread("train_hdr", "runs")]),
    ("On the MLP, criterion (1) fails", "first in 17 and 18 of 20", lambda: [spread("restricted_loss", "first"), spread("excluded_loss", "first"), spread("excluded_loss", "runs")]),
    ("On the MLP, criterion (1) fails", "r = +0.94, 95 % interval +0.84 to +0.97; centred +0.95", lambda: [spread("train_mir", "pearson"), 0.95, spread("train_mir", "low"), spread("train_mir", "high"), spread("train_mir_centred", "pearson")]),
    ("On the MLP, criterion (1) fails", "stays at 1,100–1,300 in 17 of the 20 runs", lambda: [*minmax([e["step_train_hdr"] for e in spread_runs() if e["step_train_hdr"] >= 1000]), sum(e["step_train_hdr"] >= 1000 for e in spread_runs()), len(spread_runs())]),
    ("On the MLP, criterion (1) fails", "its r = −0.62 (Spearman −0.21) comes from the 3 runs at fraction 0.4", lambda: [spread("train_hdr", "pearson"), spread("train_hdr", "spearman"), sum(e["step_train_hdr"] < 1000 for e in spread_runs() if e["train_fraction"] == 0.4) if all(e["step_train_hdr"] >= 1000 for e in spread_runs() if e["train_fraction"] != 0.4) else 0, 0.4]),
    ("Reading: the papers' claim that MIR/HDR reveal grokking", "in 18 of the 20 MLP runs", lambda: [spread("excluded_loss", "first"), spread("excluded_loss", "runs")] if np.all(lead("excluded_loss") < 0) else [0, 0]),
    ("MIR (C×C Grams of class means and heads)", "0.88–0.89", lambda: tf("train_mir_class", 0)),
    ("MIR (C×C Grams of class means and heads)", "0.43–0.56", lambda: tf("train_mir_class", 10000)),
]
