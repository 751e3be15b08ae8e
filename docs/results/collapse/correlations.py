"""How much MIR and HDR tell beyond NC1-NC3, per experiment, over every record (train and test, every epoch).

Columns: records; corr(MIR, log NC1); R2 of MIR on (log NC1, NC2 ETF distance, NC3); partial correlation
of MIR with accuracy given those three; the same three for HDR; R2 of accuracy on the three.
Run from the repository root: python docs/results/collapse/correlations.py
"""
import csv, glob, numpy as np
def resid(y, X):
    X = np.column_stack([np.ones(len(y)), X]); beta, *_ = np.linalg.lstsq(X, y, rcond=None); return y - X @ beta
paths = {p.split("/")[2]: p for p in glob.glob("docs/results/*/measurements.csv")}
paths.update({p.split("/")[2]: p for p in glob.glob("docs/results/*/default/measurements.csv")})  # the full run, not the quick one
for path in sorted(paths.values()):
    rows = [r for r in csv.DictReader(open(path))]
    need = ["mir", "hdr", "nc1", "nc2_etf_distance", "nc3", "accuracy"]
    rows = [r for r in rows if all(r.get(k) not in (None, "") and np.isfinite(float(r[k])) for k in need)]
    if len(rows) < 10: continue
    a = {k: np.array([float(r[k]) for r in rows]) for k in need}
    X = np.column_stack([np.log(a["nc1"]), a["nc2_etf_distance"], a["nc3"]])
    out = [path.split("/")[2], str(len(rows))]
    for m in ("mir", "hdr"):
        r2 = 1 - resid(a[m], X).var() / a[m].var()
        out.append(f"{np.corrcoef(a[m], np.log(a['nc1']))[0,1]:+.2f}")
        out.append(f"{r2:.2f}")
        out.append(f"{np.corrcoef(resid(a[m], X), resid(a['accuracy'], X))[0,1]:+.2f}")
    out.append(f"{1 - resid(a['accuracy'], X).var() / a['accuracy'].var():.2f}")
    print("| " + " | ".join(out) + " |")
