"""The search for a cross-entropy setting that reaches train NC1 <= 0.01: one row per archived run and seed.

Every folder beside this script holds one invocation of `interplay experiment collapse`
(`config.json`, `measurements.csv`). A row gives the settings, the training seconds, the last record
of the training split (accuracy, NC1–NC4, MIR and HDR in the three readings, ρ, MIR at ρ), the
smallest train NC1 of any record and the first epoch with train NC1 <= 0.01 (empty: never).

Run from the repository root:
    python docs/results/collapse-ce/search.py               # writes docs/results/collapse-ce/search.csv
    python docs/results/collapse-ce/search.py --markdown    # and prints the results page's table of it
"""
import csv
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETTINGS = ["dataset", "model", "width", "per_class", "batch_size", "lr", "momentum", "weight_decay", "epochs", "decay_at"]
FINAL = ["accuracy", "nc1", "nc2_etf_distance", "nc3", "nc4", "mir_centred", "mir", "mir_class",
         "hdr_centred", "hdr", "hdr_class", "rho", "mir_rho"]
TARGET = 0.01  # train NC1 at or below this is the terminal phase's collapse regime here


def search_rows(folder: Path) -> list[dict]:
    """One row per trained unit (loss, seed) of a run folder, its training split only."""
    config = json.loads((folder / "config.json").read_text())["config"]
    with open(folder / "measurements.csv", newline="") as handle:
        train = [r for r in csv.DictReader(handle) if r["split"] == "train"]
    out = []
    for unit in sorted({r["unit"] for r in train}):
        path = sorted((r for r in train if r["unit"] == unit), key=lambda r: int(r["epoch"]))
        last = path[-1]
        reached = next((int(r["epoch"]) for r in path if float(r["nc1"]) <= TARGET), None)
        row = {"run": folder.name, "loss": last["loss_fn"], "seed": int(last["seed"])}
        row |= {k: " ".join(map(str, config[k])) if isinstance(config[k], list) else config[k] for k in SETTINGS}
        row |= {"last_epoch": int(last["epoch"]), "train_s": float(last["train_time"])}
        row |= {f"train_{k}": float(last[k]) for k in FINAL}
        row |= {"min_train_nc1": min(float(r["nc1"]) for r in path),
                "reached_nc1_le_0.01": reached is not None, "first_epoch_nc1_le_0.01": "" if reached is None else reached}
        out.append(row)
    return out


def setting(row: dict) -> str:
    """The settings of a row in words, e.g. ``CNN, batch 128, lr 0.05, wd 0.0005, 2000 epochs (× 0.1 at 1500)``
    (the data set and images per class named where they are not the digits' 139)."""
    data = "" if row["dataset"] == "digits" else f"{row['dataset']} {row['per_class']}/class, "
    width = f" width {row['width']}" if int(row["width"]) else ""
    decays = ", ".join(str(round(float(f) * int(row["epochs"]))) for f in str(row["decay_at"]).split())
    return (f"{data}{row['model'].upper()}{width}, batch {row['batch_size']}, lr {row['lr']}, wd {float(row['weight_decay']):g}, "
            f"{row['epochs']} epochs (× 0.1 at {decays})")


def markdown(rows: list[dict]) -> str:
    """The page's table: one line per row, the run and seed first, then its settings and the last training record."""
    lines = ["| run, seed | setting | last epoch | training s | accuracy | NC1 | smallest NC1 | NC2 (ETF) | NC3 | NC4 "
             "| MIR centred | MIR uncentred | HDR centred | HDR uncentred | NC1 ≤ 0.01 from epoch |",
             "|---|---|" + "---:|" * 13]
    for r in rows:
        numbers = [f"{r['last_epoch']}", f"{r['train_s']:.0f}", f"{r['train_accuracy']:.4f}", f"{r['train_nc1']:.3g}",
                   f"{r['min_train_nc1']:.3g}", *(f"{r[f'train_{k}']:.3f}" for k in ("nc2_etf_distance", "nc3", "nc4")),
                   *(f"{r[f'train_{k}']:.3f}" for k in ("mir_centred", "mir", "hdr_centred", "hdr")),
                   str(r["first_epoch_nc1_le_0.01"]) or "—"]
        lines.append(f"| {r['run']}, seed {r['seed']} | {setting(r)} | " + " | ".join(numbers) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    folders = sorted((f for f in HERE.iterdir() if (f / "measurements.csv").exists()), key=lambda f: (f.name[:3] != "mlp", f.name))
    rows = [r for folder in folders for r in search_rows(folder)]
    with open(HERE / "search.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(markdown(rows) if "--markdown" in argv else f"{len(rows)} runs -> {HERE / 'search.csv'}")


if __name__ == "__main__":
    main(sys.argv[1:])
