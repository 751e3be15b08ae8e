"""The Lightning callback logs what the one-shot functions give on the same representations."""

from __future__ import annotations

import math
import warnings

import pytest
import reference
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

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
    with pytest.raises(InterplayValueError, match="every_n_epochs must be an int >= 1"):
        InterplayCallback(every_n_epochs=0)
    with pytest.raises(InterplayValueError, match="cannot find the labels in a batch of type Tensor"):
        labels_of(torch.zeros(3))
    with pytest.raises(InterplayValueError, match="method must be one of"):
        InterplayCallback(method="fast")
    with pytest.raises(InterplayValueError, match="tolerance"):
        InterplayCallback(tolerance=0)


def trainer_of(callbacks, logger, **options):
    return pl.Trainer(
        accelerator="cpu", devices=1, logger=logger, callbacks=callbacks, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, **options,
    )


def reference_values(module, loader) -> dict[str, float]:
    """MIR and HDR by the float64 oracle (full n×n Gram) on the samples whose representation is not zero."""
    features, labels = direct(module, loader)
    alive = (features != 0).any(1)
    return reference.sample_pairing(features[alive].numpy(), labels[alive].numpy(), module.head.weight.detach().numpy())


def subset(loader, keep) -> DataLoader:
    inputs, labels = (torch.cat(part) for part in zip(*loader, strict=True))
    chosen = keep(labels)
    return DataLoader(TensorDataset(inputs[chosen], labels[chosen]), batch_size=50)


def test_an_exact_path_over_max_exact_size_is_estimated_and_never_stops_fit():
    # d·min(C, d) = 320 > 64 here, as 768·12 > 8,192 for a BERT-base width with 12 classes.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module, logger, val_loader = fit([InterplayCallback(max_exact_size=64)], epochs=1, limit_train_batches=5)
    assert not [w for w in caught if "interplay" in str(w.message)]
    row = next(row for row in logger.rows if "interplay/val/mir" in row)
    expected = reference_values(module, val_loader)
    assert row["interplay/val/stochastic"] == 1.0
    assert 0 < row["interplay/val/se_mir"] < 0.02
    assert abs(row["interplay/val/mir"] - expected["mir"]) < 4 * row["interplay/val/se_mir"]
    assert row["interplay/val/hdr"] == pytest.approx(expected["hdr"], abs=1e-9)
    assert row["interplay/val/se_hdr"] == 0.0

    with pytest.warns(UserWarning, match="max_exact_size=64") as caught:
        _, logger, _ = fit([InterplayCallback(max_exact_size=64, method="exact")], epochs=2, limit_train_batches=5)
    assert len([w for w in caught if "interplay/val" in str(w.message)]) == 1  # once, not every epoch
    rows = [row for row in logger.rows if "interplay/val/mir" in row]
    assert len(rows) == 2 and all(math.isnan(row["interplay/val/mir"]) for row in rows)
    assert all(math.isnan(row["interplay/val/stochastic"]) for row in rows)
    assert rows[-1]["interplay/val/nc1"] > 0  # the NC metrics need no joint entropy


def test_a_missing_class_leaves_mir_defined_and_the_class_metrics_nan_with_one_warning():
    _, val_loader = loaders()
    without_three = subset(val_loader, lambda labels: labels != 3)
    torch.manual_seed(0)
    module, logger, callback = DigitsClassifier(), MemoryLogger(), InterplayCallback()
    with pytest.warns(UserWarning, match=r"interplay/val: .*classes \[3\] have none") as caught:
        for _ in range(2):
            trainer_of([callback], logger).validate(module, without_three, verbose=False)
    assert len([w for w in caught if "interplay/val" in str(w.message)]) == 1
    expected = reference_values(module, without_three)
    for row in logger.rows:
        assert row["interplay/val/mir"] == pytest.approx(expected["mir"], abs=1e-9)
        assert row["interplay/val/hdr"] == pytest.approx(expected["hdr"], abs=1e-9)
        assert row["interplay/val/stochastic"] == 0.0 and row["interplay/val/se_mir"] == 0.0
        assert math.isnan(row["interplay/val/nc1"]) and math.isnan(row["interplay/val/nc4"])
        assert row["interplay/val/n"] == len(without_three.dataset)

    only_five = subset(val_loader, lambda labels: labels == 5)
    logger = MemoryLogger()
    with pytest.warns(UserWarning, match="at least two classes"):
        trainer_of([InterplayCallback()], logger).validate(module, only_five, verbose=False)
    assert math.isnan(logger.rows[-1]["interplay/val/mir"]) and math.isnan(logger.rows[-1]["interplay/val/nc1"])


class Evaluated(DigitsClassifier):
    def validation_step(self, batch, index, dataloader_idx=0):
        return super().validation_step(batch, index)

    def test_step(self, batch, index):
        return super().validation_step(batch, index)


def test_each_validation_dataloader_has_its_own_record_and_test_is_logged():
    _, val_loader = loaders()
    first, second = subset(val_loader, lambda labels: labels < 5), subset(val_loader, lambda labels: labels >= 3)
    torch.manual_seed(0)
    module, logger = Evaluated(), MemoryLogger()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*cannot be computed")  # NC of a subset of the classes
        trainer_of([InterplayCallback()], logger).validate(module, [first, second], verbose=False)
    row = logger.rows[-1]
    assert "interplay/val/mir" not in row
    for index, loader in enumerate((first, second)):
        expected = reference_values(module, loader)
        assert row[f"interplay/val/mir/dataloader_idx_{index}"] == pytest.approx(expected["mir"], abs=1e-9)
        assert row[f"interplay/val/n/dataloader_idx_{index}"] == len(loader.dataset)

    trainer_of([InterplayCallback()], logger).test(module, val_loader, verbose=False)
    expected = expected_values(module, val_loader)
    for key in ("mir", "hdr", "nc1", "nc4"):
        assert logger.rows[-1][f"interplay/test/{key}"] == pytest.approx(expected[key], abs=1e-6), key


class AuxiliaryOutput(pl.LightningModule):
    """No ``.head``, and the last nn.Linear registered is an auxiliary projection, not the classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU())
        self.classifier = nn.Linear(32, 10)
        self.projection = nn.Linear(32, 4)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        features = self.body(inputs)
        self.projected = self.projection(features)  # e.g. for an auxiliary loss
        return self.classifier(features)

    def validation_step(self, batch, _index):
        self(batch[0])


def test_a_guessed_head_that_does_not_give_the_output_is_refused():
    torch.manual_seed(0)
    module, (_, val_loader) = AuxiliaryOutput(), loaders()
    with pytest.raises(InterplayValueError, match=r"the guessed head \(Linear.*does not produce the model's output"):
        trainer_of([InterplayCallback()], False).validate(module, val_loader, verbose=False)
    logger = MemoryLogger()
    trainer_of([InterplayCallback(head="classifier")], logger).validate(module, val_loader, verbose=False)
    features, labels = direct(module, val_loader)
    expected = reference.sample_pairing(features.numpy(), labels.numpy(), module.classifier.weight.detach().numpy())
    assert logger.rows[-1]["interplay/val/mir"] == pytest.approx(expected["mir"], abs=1e-9)


class Tagger(pl.LightningModule):
    """A per-token classifier: the head sees (B, T, d) token representations."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
        self.head = nn.Linear(16, 3)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(tokens))

    def validation_step(self, batch, _index):
        self(batch[0])


def test_a_per_token_head_is_measured_per_token_without_the_ignored_labels():
    g = torch.Generator().manual_seed(2)
    labels = torch.randint(0, 3, (60, 5), generator=g)
    tokens = 3 * torch.randn(3, 8, generator=g)[labels] + torch.randn(60, 5, 8, generator=g) * torch.logspace(0, -2, 8)
    labels[torch.rand(60, 5, generator=g) < 0.3] = -100  # padding and sub-words
    loader = DataLoader(TensorDataset(tokens, labels), batch_size=16)
    torch.manual_seed(0)
    module, logger = Tagger(), MemoryLogger()
    trainer_of([InterplayCallback(per_token=True)], logger).validate(module, loader, verbose=False)
    kept = labels.reshape(-1) != -100
    with torch.no_grad():
        features = module.body(tokens).reshape(-1, 16)[kept]
    weight = module.head.weight.detach().numpy()
    expected = reference.sample_pairing(features.numpy(), labels.reshape(-1)[kept].numpy(), weight)
    row = logger.rows[-1]
    assert row["interplay/val/n"] == int(kept.sum())
    assert row["interplay/val/mir"] == pytest.approx(expected["mir"], abs=1e-9)
    with pytest.raises(InterplayValueError, match="It looks per-token: pass per_token=True"):
        trainer_of([InterplayCallback()], False).validate(module, loader, verbose=False)


class TwoInputs(pl.LightningModule):
    """forward(image, scale): the training subset's inputs are a tuple, passed as model(*inputs)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU())
        self.head = nn.Linear(32, 10)

    def forward(self, images: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(images) * scale[:, None])

    def validation_step(self, batch, _index):
        (images, scale), _ = batch
        self(images, scale)


def test_a_training_subset_of_several_inputs_is_called_with_each():
    torch.manual_seed(0)
    module, (train_loader, _) = TwoInputs(), loaders()
    images, labels = next(iter(train_loader))
    scale = torch.linspace(0.5, 2, len(labels))
    batches = [((images, scale), labels)]
    val = DataLoader(TensorDataset(images, scale, labels), batch_size=32, collate_fn=lambda rows: (
        (torch.stack([r[0] for r in rows]), torch.stack([r[1] for r in rows])), torch.stack([r[2] for r in rows])))
    logger = MemoryLogger()
    trainer_of([InterplayCallback(train_data=batches)], logger).validate(module, val, verbose=False)
    with torch.no_grad():
        features = module.body(images) * scale[:, None]
    expected = reference.sample_pairing(features.numpy(), labels.numpy(), module.head.weight.detach().numpy())
    assert logger.rows[-1]["interplay/train/mir"] == pytest.approx(expected["mir"], abs=1e-9)
