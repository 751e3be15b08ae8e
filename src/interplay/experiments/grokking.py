"""Grokking on modular addition: do MIR and HDR move before test accuracy jumps?

Claim (arXiv 2406.03999): MIR/HDR reveal the change before the test accuracy jumps. The papers'
setting (Nanda et al. 2023): ``(a + b) mod 113``, 30 % of the pairs for training, full-batch
AdamW with lr 1e-3 and weight decay 1, for the one-layer transformer with their initialisation
(only the output position is computed; their 10-step learning-rate warm-up is left out). The
small embedding MLP uses 50 % of the pairs and lr 3e-3 by default, which makes it grok within
about a thousand steps on a CPU. The representation is the input of the unembedding, the heads
are its rows. Grokking is about what happens after the training pairs are fitted, so for each
seed the window starts at the *memorisation step*, the first evaluation with train accuracy
>= 0.99 (step 0 if it never comes); the *change step* of a series is the first evaluated step in
that window at which it has covered half of its change from the window's start to the last
evaluation. MIR, HDR and H(Z) are also recorded centred (the subset's mean representation
subtracted), which separates a component shared by all inputs from the rest. Beside them, the
progress measures of Nanda et al. (:mod:`interplay.functional.progress`): weight norm, Fourier
share of the embedding, restricted and excluded loss, so that the change step of each
information metric can be compared with theirs.

    interplay experiment grokking            # both models, 5 seeds
    interplay experiment grokking --quick    # the MLP only, 900 steps

Writes ``records.jsonl``, ``measurements.csv``, ``change_steps.csv``, one figure per model and ``report.html``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from interplay.config import Settings, setting, train_setting
from interplay.data.modular import modular_addition
from interplay.functional import interplay_metrics, matrix_entropy
from interplay.functional.progress import progress_measures
from interplay.models.transformer import EmbeddingMLP, OneLayerTransformer
from interplay.report.experiment import band_figure, summary_table, write_page
from interplay.runs import Records, write_csv
from interplay.validation import InterplayValueError

NAME = "grokking"
MODELS = {"transformer": OneLayerTransformer, "mlp": EmbeddingMLP}
MEMORISED = 0.99  # train accuracy that marks the training pairs as fitted
PROGRESS = ("weight_norm", "embedding_fourier_share", "restricted_loss", "excluded_loss")
SERIES = (
    "test_accuracy", "train_mir", "train_hdr", "test_mir", "test_hdr", "train_h_z", "train_h_w",
    "train_mir_centred", "train_hdr_centred", "train_h_z_centred", *PROGRESS,
)


@dataclass(frozen=True)
class Config(Settings):
    FORMERLY = {"record_every": "eval_every"}

    p: int = setting(113, "modulus (and number of classes)", minimum=3)
    models: tuple[str, ...] = setting(("transformer", "mlp"), "which models to train", choices=tuple(MODELS))
    steps: tuple[int, ...] = setting((10000, 1500), "full-batch steps, one entry per model", minimum=1)
    lrs: tuple[float, ...] = setting((1e-3, 3e-3), "AdamW learning rate, one entry per model", above=0)
    train_fractions: tuple[float, ...] = setting((0.3, 0.5), "share of the p² pairs used for training, per model", above=0, below=1)
    record_every: int = setting(100, "steps between records", minimum=1)
    weight_decay: float = train_setting("weight_decay", 1.0, "AdamW weight decay")
    information_samples: int = setting(1500, "seeded samples per split for MIR/HDR (exact n×n path)", minimum=2)
    seeds: tuple[int, ...] = setting((0, 1, 2, 3, 4), "seeds of initialisation and split", minimum=0)
    keys: int = setting(5, "key frequencies of the restricted and excluded losses", minimum=1)

    def check(self) -> None:
        if {len(self.steps), len(self.lrs), len(self.train_fractions)} != {len(self.models)}:
            raise InterplayValueError(
                f"steps, lrs and train_fractions must hold one entry per model; got models={list(self.models)}, "
                f"steps={list(self.steps)}, lrs={list(self.lrs)}, train_fractions={list(self.train_fractions)}."
            )


QUICK = {"models": ("mlp",), "steps": (900,), "lrs": (3e-3,), "train_fractions": (0.5,), "seeds": (0,), "information_samples": 500}


def _evaluate(model, data, subsets, p: int, keys: int) -> dict[str, float]:
    model.eval()
    row = progress_measures(model, p, data["train"], keys=keys)
    with torch.no_grad():
        for split, (pairs, labels) in data.items():
            features = model.features(pairs)
            row[f"{split}_accuracy"] = float((model.head(features).argmax(1) == labels).double().mean())
            chosen = subsets[split]
            info = interplay_metrics(features[chosen], labels[chosen], model.head.weight)
            row |= {f"{split}_{k}": float(getattr(info, k)) for k in ("mir", "hdr", "h_z", "h_w", "mi")}
            centred = interplay_metrics(features[chosen], labels[chosen], model.head.weight, center=True)
            row |= {f"{split}_{k}_centred": float(getattr(centred, k)) for k in ("mir", "hdr", "h_z")}
            row[f"{split}_mir_class"] = float(interplay_metrics(features, labels, model.head.weight, pairing="class").mir)
    row["h_heads"] = float(matrix_entropy(model.head.weight.detach()))
    model.train()
    return row


def run(config: Config, records: Records, run_dir: Path) -> None:
    grid = [(*model, seed) for model in zip(config.models, config.steps, config.lrs, config.train_fractions) for seed in config.seeds]
    for unit, (name, steps, lr, fraction, seed) in records.todo(grid, lambda name, steps, lr, fraction, seed: f"model={name},seed={seed}"):
        data = modular_addition(config.p, fraction, seed)
        generator = torch.Generator().manual_seed(seed)
        subsets = {s: torch.randperm(len(labels), generator=generator)[: config.information_samples] for s, (_, labels) in data.items()}
        torch.manual_seed(seed)
        model = MODELS[name](config.p)
        optimizer = torch.optim.AdamW(model.parameters(), lr, betas=(0.9, 0.98), weight_decay=config.weight_decay)
        pairs, labels = data["train"]
        for step in range(steps + 1):
            if step % config.record_every == 0 or step == steps:
                records.append(unit, model=name, seed=seed, step=step, **_evaluate(model, data, subsets, config.p, config.keys))
            if step == steps:
                break
            loss = torch.nn.functional.cross_entropy(model(pairs), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


def change_step(steps: list[int], values: list[float]) -> int:
    """First step at which ``values`` has covered half of its change from the first to the last value.

    Example:
        >>> change_step([0, 10, 20, 30], [0.0, 0.1, 0.8, 1.0])
        20
    """
    total = values[-1] - values[0]
    return next(s for s, v in zip(steps, values) if abs(v - values[0]) >= 0.5 * abs(total))


def change_steps(rows: list[dict]) -> list[dict]:
    """Per model and seed: the memorisation step, then the change step of test accuracy and of each series after it."""
    out = []
    for name, seed in sorted({(r["model"], r["seed"]) for r in rows}):
        path = sorted((r for r in rows if r["model"] == name and r["seed"] == seed), key=lambda r: r["step"])
        start = next((i for i, r in enumerate(path) if r["train_accuracy"] >= MEMORISED), 0)
        path = path[start:]
        steps = [r["step"] for r in path]
        entry = {"model": name, "seed": seed, "final_test_accuracy": path[-1]["test_accuracy"], "memorised_step": steps[0]}
        entry |= {f"step_{s}": change_step(steps, [r[s] for r in path]) for s in SERIES}
        out.append(entry)
    return out


def report(run_dir: Path, records: Records) -> Path:
    rows = records.rows()
    write_csv(rows, run_dir / "measurements.csv")
    found = change_steps(rows)
    write_csv(found, run_dir / "change_steps.csv")
    figures = []
    for name in sorted({r["model"] for r in rows}):
        subset = [r for r in rows if r["model"] == name]
        columns = [
            "train_accuracy", "test_accuracy", "train_h_w", "train_mir", "test_mir", "train_mir_centred",
            "train_hdr", "test_hdr", "train_hdr_centred", "train_h_z", "train_h_z_centred", "h_heads", *PROGRESS,
        ]
        figures.append(band_figure(subset, "step", columns, run_dir / f"{name}.png", style_by=None, log_columns=()))
    header = ["model", "seed", "final_test_accuracy", "memorised_step", *(f"step_{s}" for s in SERIES)]
    body = [[str(round(e[h], 4)) if isinstance(e[h], float) else str(e[h]) for h in header] for e in found]
    last_step = {name: max(r["step"] for r in rows if r["model"] == name) for name in {r["model"] for r in rows}}
    final = [r for r in rows if r["step"] == last_step[r["model"]]]
    final_columns = ["train_accuracy", "test_accuracy", "train_mir", "test_mir", "train_hdr", "test_hdr"]
    return write_page(
        run_dir,
        "Grokking on modular addition",
        [f"Memorisation step = first evaluation with train accuracy >= {MEMORISED}. Change step = first evaluated "
         "step after it at which a series has covered half of its change from the memorisation step to the end. "
         "A metric 'moves first' for a seed when its change step is smaller than that of test accuracy. "
         "MIR/HDR use the sample pairing on a seeded subset of each split (exact n×n path); *_centred subtract that "
         "subset's mean representation first; mir_class is the class pairing. Progress measures (Nanda et al. 2023): "
         "weight norm, the embedding's share in its key Fourier frequencies, and the training loss with the logits "
         "restricted to (or with them excluded from) the key frequencies of that step."],
        [("Change steps per model and seed", header, body),
         ("Final values (mean ± std over seeds)", *summary_table(final, ["model"], final_columns))],
        figures,
    )
