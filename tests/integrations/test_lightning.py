"""The Lightning callback logs what the one-shot functions give on the same representations."""

from __future__ import annotations

import pytest
import torch

pl = pytest.importorskip("lightning.pytorch")

from digits_module import DigitsClassifier, loaders  # noqa: E402
from lightning.pytorch.loggers import Logger  # noqa: E402

from interplay import interplay_metrics, nc_reference, neural_collapse  # noqa: E402
from interplay.integrations.lightning import InterplayCallback  # noqa: E402
from interplay.integrations.recording import labels_of  # noqa: E402
from interplay.validation import InterplayValueError  # noqa: E402


class MemoryLogger(Logger):
    """Keeps every logged row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, float]] = []

    name, version = "memory", 0

    def log_hyperparams(self, params, *args, **kwargs) -> None:
        pass

    def log_metrics(self, metrics, step=None) -> None:
        self.rows.append(dict(metrics))


def fit(callbacks, epochs: int = 2, **trainer_options):
    torch.manual_seed(0)
    module = DigitsClassifier()
    logger = MemoryLogger()
    trainer = pl.Trainer(
        max_epochs=epochs, accelerator="cpu", devices=1, logger=logger, callbacks=callbacks, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, **trainer_options,
    )
    train_loader, val_loader = loaders()
    trainer.fit(module, train_loader, val_loader)
    return module, logger, val_loader


def direct(module, loader):
    """Representations and labels of the whole loader, read without the callback."""
    module.eval()
    with torch.no_grad():
        features = torch.cat([module.body(x) for x, _ in loader])
    labels = torch.cat([y for _, y in loader])
    return features, labels


def expected_values(module, loader) -> dict[str, float]:
    features, labels = direct(module, loader)
    weight, bias = module.head.weight.detach(), module.head.bias.detach()
    info = interplay_metrics(features, labels, weight).as_dict()
    collapse = neural_collapse(features, labels, weight, bias=bias).as_dict()
    values = {k: info[k] for k in ("h_z", "h_w", "h_joint", "mi", "mir", "hdr")}
    values |= {k: v for k, v in collapse.items() if k.startswith("nc")}
    reference = nc_reference(10)
    return values | {"n": len(labels), "mir_nc": float(reference.mir), "h_nc": float(reference.entropy)}


def test_logged_values_equal_the_one_shot_functions_and_training_is_unchanged():
    module, logger, val_loader = fit([InterplayCallback()])
    logged = [row for row in logger.rows if "interplay/val/mir" in row]
    assert len(logged) == 2  # one per epoch; the sanity check is not recorded
    for key, value in expected_values(module, val_loader).items():
        assert logged[-1][f"interplay/val/{key}"] == pytest.approx(value, abs=1e-6, rel=0), key

    plain, _, _ = fit([])
    for ours, theirs in zip(module.parameters(), plain.parameters(), strict=True):
        assert torch.equal(ours, theirs)  # same training, hence the same predictions
    inputs = next(iter(val_loader))[0]
    module.eval(), plain.eval()
    assert torch.equal(module(inputs), plain(inputs))


def test_training_subset_is_logged_and_gives_validation_its_centres():
    train_loader, _ = loaders()
    subset = [next(iter(train_loader))]
    module, logger, val_loader = fit([InterplayCallback(train_data=subset, every_n_epochs=2)])
    logged = [row for row in logger.rows if "interplay/val/mir" in row]
    assert len(logged) == 1  # epochs 2 only
    train_features, train_labels = direct(module, subset)
    weight, bias = module.head.weight.detach(), module.head.bias.detach()
    train = neural_collapse(train_features, train_labels, weight, bias=bias)
    assert logged[0]["interplay/train/nc1"] == pytest.approx(float(train.nc1), abs=1e-6)
    assert logged[0]["interplay/train/mir"] == pytest.approx(float(interplay_metrics(train_features, train_labels, weight).mir), abs=1e-6)
    features, labels = direct(module, val_loader)
    centres = torch.stack([train_features[train_labels == c].double().mean(0) for c in range(10)])
    predictions = (features.double() @ weight.double().T + bias.double()).argmax(1)
    nearest = torch.cdist(features.double(), centres).argmin(1)
    assert logged[0]["interplay/val/nc4"] == pytest.approx(float((predictions != nearest).double().mean()), abs=1e-12)


def test_module_modes_are_left_alone():
    modes = []

    class Spy(pl.Callback):
        def on_validation_batch_end(self, trainer, pl_module, *args):
            modes.append([m.training for m in pl_module.modules()])

    module, _, _ = fit([Spy()], epochs=1)
    without = list(modes)
    modes.clear()
    fit([InterplayCallback(), Spy()], epochs=1)
    assert modes == without


def test_errors_are_one_line_and_name_the_fix():
    with pytest.raises(InterplayValueError, match="center=True with pairing='sample'"):
        InterplayCallback(center=True)
    with pytest.raises(InterplayValueError, match="every_n_epochs must be at least 1"):
        InterplayCallback(every_n_epochs=0)
    with pytest.raises(InterplayValueError, match="cannot find the labels in a batch of type Tensor"):
        labels_of(torch.zeros(3))
