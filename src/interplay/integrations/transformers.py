"""A Hugging Face ``Trainer`` callback that logs MIR, HDR, the matrix entropies and NC1–NC4 of evaluation.

Install with ``pip install 'interplay[transformers]'``. Give it the trainer, whose ``log`` it
uses so that the values reach every reporting backend the user enabled::

    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=test)
    trainer.add_callback(InterplayCallback(trainer))

For a sequence classification model the representation is the input of the classification head
(e.g. BERT's pooled output), read by a forward hook while the trainer evaluates; the labels are
the ``labels`` the trainer passes to the model. After each ``Trainer.evaluate`` it logs
``interplay/eval/mir``, ``.../hdr``, ``.../h_z``, ``.../h_w``, ``.../h_joint``, ``.../mi``,
``.../nc1`` … ``.../nc4``, ``.../n``, ``.../mir_nc`` and ``.../h_nc`` (``interplay/eval_<name>/``
for each set of a dict of evaluation sets), and adds them to the metrics that ``evaluate``
returns. The model's outputs and modes are left as they are.
"""

from __future__ import annotations

from contextlib import ExitStack

import torch
from torch import nn

from interplay.functional.entropy import MAX_EXACT_SIZE
from interplay.integrations.recording import EvaluationRecorder, check_options, flat_values
from interplay.probing import find_head, tap_features

try:
    from transformers import Trainer, TrainerCallback
except ModuleNotFoundError as error:
    raise ModuleNotFoundError(
        f"interplay.integrations.transformers needs transformers ({error}); install it with pip install 'interplay[transformers]'."
    ) from None

__all__ = ["InterplayCallback"]


class InterplayCallback(TrainerCallback):
    """Log the information interplay and neural collapse of the evaluation set after every evaluation.

    Args:
        trainer: the ``transformers.Trainer`` whose evaluations are measured and whose ``log``
            carries the values.
        head: the classification head (a module or its name in the model); found automatically
            when ``None`` (see :func:`interplay.probing.find_head`).
        pairing, center, max_exact_size: as in :func:`interplay.interplay_metrics`.
        prefix: the start of every logged name.
    """

    def __init__(
        self,
        trainer: Trainer,
        head: nn.Module | str | None = None,
        *,
        pairing: str = "sample",
        center: bool = False,
        max_exact_size: int = MAX_EXACT_SIZE,
        prefix: str = "interplay",
    ) -> None:
        self.trainer = trainer
        self.model = trainer.model
        self.head = find_head(self.model, head)
        self.options = check_options(pairing, center, max_exact_size=max_exact_size)
        self.prefix = prefix
        self._recorder: EvaluationRecorder | None = None
        self._labels: torch.Tensor | None = None
        self._hooks = ExitStack()
        self._seen = self._hooks.enter_context(tap_features(self.head))
        self._hooks.callback(self.model.register_forward_pre_hook(self._remember_labels, with_kwargs=True).remove)
        self._hooks.callback(self.head.register_forward_hook(self._record).remove)

    def _remember_labels(self, model: nn.Module, _args, kwargs) -> None:
        self._labels = None if model.training else kwargs.get("labels")

    def _record(self, _head, _inputs, _output) -> None:
        features = self._seen.pop()  # (n, d), the head's input, recorded by the tap registered first
        if self._labels is None:
            return
        if self._recorder is None:
            self._recorder = EvaluationRecorder(self.head, **self.options)
        self._recorder.update(features, self._labels)
        self._labels = None

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if self._recorder is None:
            return
        # Trainer names each evaluation set's metrics "<metric_key_prefix>_runtime", ...: "eval", "eval_<name>".
        split = next((k.removesuffix("_runtime") for k in metrics or {} if k.endswith("_runtime")), "eval")
        values = flat_values(self._recorder.compute(), f"{self.prefix}/{split}")
        self._recorder = None
        if metrics is not None:
            metrics.update(values)
        self.trainer.log(values)

    def on_predict(self, args, state, control, metrics=None, **kwargs):
        self._recorder = None  # a prediction pass is not an evaluation to report

    def remove(self) -> None:
        """Remove the hooks from the model."""
        self._hooks.close()
