"""A PyTorch Lightning callback that logs MIR, HDR, the matrix entropies and NC1–NC4 of validation.

Install with ``pip install 'interplay[lightning]'``. Add it to the trainer::

    trainer = lightning.Trainer(callbacks=[InterplayCallback()])

At the end of every ``every_n_epochs``-th validation epoch it logs, through ``pl_module.log`` (so
into every logger of the trainer), ``interplay/val/mir``, ``.../hdr``, ``.../h_z``, ``.../h_w``,
``.../h_joint``, ``.../mi``, ``.../nc1`` … ``.../nc4``, ``.../n`` and the values at neural
collapse ``.../mir_nc`` and ``.../h_nc`` (Song et al. 2024, arXiv 2406.03999), and the same under
``interplay/train/`` for a fixed training subset when one is given. The representation is the
input of the classification head (:func:`interplay.probing.find_head`), read by a forward hook
during the validation steps the trainer runs anyway; the model's outputs and the train/eval mode
of every module are left as they are. Under DDP the metric states are all-reduced, so every
process logs the values of the whole validation set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import ExitStack

import torch
from torch import nn

from interplay.functional.entropy import MAX_EXACT_SIZE
from interplay.integrations.recording import EvaluationRecorder, check_options, flat_values, labels_of
from interplay.probing import find_head, tap_features
from interplay.validation import InterplayValueError, check_num_classes

try:
    import lightning.pytorch as pl
except ModuleNotFoundError as error:
    raise ModuleNotFoundError(
        f"interplay.integrations.lightning needs PyTorch Lightning ({error}); install it with pip install 'interplay[lightning]'."
    ) from None

__all__ = ["InterplayCallback"]


class InterplayCallback(pl.Callback):
    """Log the information interplay and neural collapse of the validation data every few epochs.

    Args:
        head: the classification head (a module or its name in the LightningModule); found
            automatically when ``None`` (see :func:`interplay.probing.find_head`).
        every_n_epochs: record at the end of every this many validation epochs.
        train_data: optional fixed ``(inputs, labels)`` batches of training data, run through the
            module at the start of each recorded validation epoch (batch ``i`` on process
            ``i % world_size``); their class means are then the NC4 centres of validation.
        labels: a function from a validation batch to its labels; by default the second item of
            a ``(inputs, labels)`` batch or the ``labels`` entry of a dict.
        pairing, center, max_exact_size: as in :func:`interplay.interplay_metrics`.
        prefix: the start of every logged name.

    Example:
        >>> callback = InterplayCallback(every_n_epochs=2)
        >>> callback.every_n_epochs
        2
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
        prefix: str = "interplay",
    ) -> None:
        self.head = head
        self.every_n_epochs = check_num_classes(every_n_epochs, "every_n_epochs", minimum=1)
        self.train_data = train_data
        self.labels = labels
        self.options = {"pairing": check_options(pairing, center), "center": center, "max_exact_size": max_exact_size}
        self.prefix = prefix
        self._recorder: EvaluationRecorder | None = None
        self._pending: dict[str, float] = {}
        self._seen: list[torch.Tensor] = []
        self._hooks = ExitStack()

    def _due(self, trainer: pl.Trainer) -> bool:
        return not trainer.sanity_checking and (trainer.current_epoch + 1) % self.every_n_epochs == 0

    def on_validation_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self._due(trainer):
            return
        head = find_head(pl_module, self.head)
        class_means, values = None, {}
        if self.train_data is not None:
            train = self._train_subset(trainer, pl_module, head)
            class_means, values = train.class_means(), flat_values(train.compute(), f"{self.prefix}/train")
        self._recorder = EvaluationRecorder(head, class_means=class_means, **self.options)
        self._pending = values
        self._seen = self._hooks.enter_context(tap_features(head))

    def _train_subset(self, trainer: pl.Trainer, pl_module: pl.LightningModule, head: nn.Module) -> EvaluationRecorder:
        recorder = EvaluationRecorder(head, **self.options)
        with torch.no_grad(), tap_features(head) as seen:
            for index, batch in enumerate(self.train_data):
                if index % trainer.world_size != trainer.global_rank:
                    continue
                inputs, labels = batch
                pl_module(inputs.to(pl_module.device))
                recorder.update(torch.cat(seen), labels)
                seen.clear()
        return recorder

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if self._recorder is None:
            return
        if not self._seen:
            raise InterplayValueError(
                "the classification head did not run during this validation step; pass head=<the module whose "
                "input is the representation> to InterplayCallback."
            )
        features = torch.cat(self._seen)  # (n, d)
        self._seen.clear()
        self._recorder.update(features, self.labels(batch))

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._recorder is None:
            return
        self._hooks.close()
        values = self._pending | flat_values(self._recorder.compute(), f"{self.prefix}/val")
        self._recorder = None
        for name, value in values.items():
            pl_module.log(name, torch.tensor(value, dtype=torch.float64, device=pl_module.device), sync_dist=False)

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._hooks.close()
        self._recorder = None
