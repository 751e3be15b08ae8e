"""A PyTorch Lightning callback that logs MIR, HDR, the matrix entropies and NC1–NC4 of validation and test.

Install with ``pip install 'interplay[lightning]'``. Add it to the trainer::

    trainer = lightning.Trainer(callbacks=[InterplayCallback()])

At the end of every ``every_n_epochs``-th validation epoch of ``fit``, of every
``trainer.validate`` and of every ``trainer.test``, it logs through ``pl_module.log`` (so into
every logger of the trainer) ``interplay/val/mir`` (``interplay/test/...`` for test), ``.../hdr``,
``.../h_z``, ``.../h_w``, ``.../h_joint``, ``.../mi``, ``.../nc1`` … ``.../nc4``, ``.../n``, the
values at neural collapse ``.../mir_nc`` and ``.../h_nc`` (Song et al. 2024, arXiv 2406.03999),
``.../stochastic`` (1 where the joint entropy was estimated because the exact eigenproblem exceeds
``max_exact_size``, 0 where it was exact) with the standard errors ``.../se_mir``, ``.../se_hdr``,
``.../se_mi``, ``.../se_h_joint``, and the same under ``interplay/train/`` for a fixed training
subset when one is given. With several evaluation dataloaders each has its own record, named with
Lightning's suffix: ``interplay/val/mir/dataloader_idx_1``. A value that cannot be computed (a
class missing from the evaluation set for the NC metrics, a single class, zero entropy, ...) is
logged as NaN with one warning per reason; training goes on.

The representation is the input of the classification head (:func:`interplay.probing.find_head`),
read by a forward hook during the evaluation steps the trainer runs anyway; the model's outputs
and the train/eval mode of every module are left as they are. Under DDP the metric states are
all-reduced, so every process logs the values of the whole evaluation set.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from contextlib import ExitStack

import torch
from torch import nn

from interplay.functional.entropy import MAX_EXACT_SIZE
from interplay.heads import call_model
from interplay.integrations.recording import (
    EvaluationRecorder,
    HeadReader,
    UndefinedWarnings,
    check_options,
    flat_values,
    labels_of,
)
from interplay.validation import InterplayValueError, check_scalar

try:
    import lightning.pytorch as pl
except ModuleNotFoundError as error:
    raise ModuleNotFoundError(
        f"interplay.integrations.lightning needs PyTorch Lightning ({error}); install it with pip install 'interplay[lightning]'."
    ) from None

__all__ = ["InterplayCallback"]


class InterplayCallback(pl.Callback):
    """Log the information interplay and neural collapse of the evaluation data every few epochs.

    Args:
        head: the classification head (a module or its name in the LightningModule). When
            ``None``, ``model.head`` or the last nn.Linear is tried, and refused unless its output
            is the output of the module's ``forward`` (checked when the evaluation step calls it).
        every_n_epochs: during ``fit``, record at the end of every this many validation epochs.
        train_data: optional fixed ``(inputs, labels)`` batches of training data, run through the
            module at the start of each recorded evaluation (batch ``i`` on process
            ``i % world_size``); their class means are then the NC4 centres of evaluation.
        labels: a function from an evaluation batch to its labels; by default the second item of
            a ``(inputs, labels)`` batch or the ``labels`` entry of a dict.
        pairing, center, max_exact_size: as in :func:`interplay.interplay_metrics`.
        method, tolerance, seed: as in :func:`interplay.interplay_metrics`. The default
            ``"auto"`` computes exactly where the eigenproblem fits ``max_exact_size`` (it grows
            as d·min(C, d): 9,216 for width 768 and 12 classes) and otherwise estimates the joint
            entropy, logging its standard errors; ``"exact"`` logs NaN where it does not fit.
        per_token: the head runs on (B, T, d) token representations with (B, T) labels: each
            token is a sample, tokens labelled ``ignore_index`` are left out.
        prefix: the start of every logged name.
        collapse_options: ``global_mean``, ``classes``, ``min_count`` of the neural collapse measures, as
            in :func:`interplay.neural_collapse` (``{"classes": "present"}`` measures the classes present).

    Example:
        >>> callback = InterplayCallback(every_n_epochs=2, method="stochastic", tolerance=0.01)
        >>> callback.every_n_epochs, callback.options["method"]
        (2, 'stochastic')
    """

    def __init__(
        self,
        head: nn.Module | str | None = None,
        *,
        every_n_epochs: int = 1,
        train_data: Iterable | None = None,
        labels: Callable = labels_of,
        pairing: str = "sample",
        center: bool = False,
        max_exact_size: int = MAX_EXACT_SIZE,
        method: str = "auto",
        tolerance: float = 0.005,
        seed: int = 0,
        per_token: bool = False,
        ignore_index: int = -100,
        prefix: str = "interplay",
        collapse_options: dict | None = None,
    ) -> None:
        self.head = head
        self.every_n_epochs = check_scalar(every_n_epochs, "every_n_epochs", minimum=1)
        self.train_data = train_data
        self.labels = labels
        self.options = check_options(
            pairing, center, max_exact_size=max_exact_size, method=method, tolerance=tolerance, seed=seed,
            collapse_options=collapse_options,
        )
        self.per_token, self.ignore_index = per_token, ignore_index
        self.prefix = prefix
        self._split: str | None = None  # "val" or "test" while an evaluation is recorded
        self._recorders: dict[int, EvaluationRecorder] = {}
        self._class_means: torch.Tensor | None = None
        self._no_centres: str | None = None
        self._pending: dict[str, float] = {}
        self._reader: HeadReader | None = None
        self._calls: list[tuple[torch.Tensor, torch.Tensor]] = []  # (input, output) of each head call
        self._outputs: list = []  # the module's forward outputs
        self._hooks = ExitStack()
        self._warn = UndefinedWarnings()

    def _due(self, trainer: pl.Trainer) -> bool:
        if trainer.sanity_checking:
            return False
        return trainer.state.fn != "fit" or (trainer.current_epoch + 1) % self.every_n_epochs == 0

    def on_validation_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._due(trainer):
            self._start(trainer, pl_module, "val", trainer.num_val_batches)

    def on_test_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start(trainer, pl_module, "test", trainer.num_test_batches)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self._batch(batch, dataloader_idx)

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self._batch(batch, dataloader_idx)

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._finish(pl_module)

    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._finish(pl_module)

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._hooks.close()
        self._split, self._recorders = None, {}

    def _start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, split: str, batches: list) -> None:
        self._reader = HeadReader(pl_module, self.head, per_token=self.per_token, ignore_index=self.ignore_index)
        head = self._reader.head
        self._hooks.callback(head.register_forward_hook(self._record_head).remove)
        self._hooks.callback(pl_module.register_forward_hook(self._record_output).remove)
        self._calls.clear()
        self._outputs.clear()
        self._class_means, self._no_centres, self._pending = None, None, {}
        if self.train_data is not None:
            self._measure_train_subset(trainer, pl_module, head)
        self._split = split
        # One record per dataloader, as Lightning keeps one metric state per dataloader_idx; all
        # are built now so that every process computes (and all-reduces) the same records.
        self._recorders = {
            index: EvaluationRecorder(head, class_means=self._class_means, **self.options) for index in range(len(batches))
        }

    def _record_head(self, _head, inputs, output) -> None:
        self._calls.append((inputs[0].detach(), output))

    def _record_output(self, _module, _inputs, output) -> None:
        self._outputs.append(output)

    def _measure_train_subset(self, trainer: pl.Trainer, pl_module: pl.LightningModule, head: nn.Module) -> None:
        train = EvaluationRecorder(head, **self.options)
        with torch.no_grad():
            for index, (inputs, labels) in enumerate(self.train_data):
                if index % trainer.world_size == trainer.global_rank:
                    call_model(pl_module, inputs, pl_module.device)
                    train.update(*self._rows(labels))
        values = train.compute()
        self._warn(f"{self.prefix}/train", train.reasons)
        self._pending = flat_values(values, f"{self.prefix}/train")
        try:
            self._class_means = train.class_means()
        except InterplayValueError as error:
            self._no_centres = f"NC4 has no centres, since the training subset's class means cannot be computed: {error}"

    def _rows(self, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The representations (m, d) and labels (m,) of the head calls since the last batch."""
        calls, output = list(self._calls), self._outputs[-1] if self._outputs else None
        self._calls.clear()
        self._outputs.clear()
        return self._reader.rows(calls, output, labels)

    def _batch(self, batch, dataloader_idx: int) -> None:
        if self._split is None:
            return
        self._recorders[dataloader_idx].update(*self._rows(self.labels(batch)))

    def _finish(self, pl_module: pl.LightningModule) -> None:
        if self._split is None:
            return
        self._hooks.close()
        prefix, values = f"{self.prefix}/{self._split}", dict(self._pending)
        for index, recorder in self._recorders.items():
            suffix = f"/dataloader_idx_{index}" if len(self._recorders) > 1 else ""
            record = recorder.compute()
            reasons = recorder.reasons
            if self._no_centres is not None:
                record["nc4"], reasons = math.nan, [*reasons, self._no_centres]
            self._warn(f"{prefix}{suffix}", reasons)
            values |= flat_values(record, prefix, suffix)
        self._split, self._recorders = None, {}
        for name, value in values.items():
            pl_module.log(name, torch.tensor(value, dtype=torch.float64, device=pl_module.device), sync_dist=False,
                          add_dataloader_idx=False)
