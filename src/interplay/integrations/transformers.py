"""A Hugging Face ``Trainer`` callback that logs MIR, HDR, the matrix entropies and NC1–NC4 of evaluation.

Install with ``pip install 'interplay[transformers]'``. Add it to the trainer::

    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=test,
                      callbacks=[InterplayCallback()])

The callback takes the model from the trainer's events: it installs its forward hooks when the
trainer is built (or when training begins, for a callback added later) and removes them when
training ends, so an ``evaluate()`` after ``train()`` is measured only by a callback given the
trainer (see :class:`InterplayCallback`). The representation is the input of the classification head (e.g. BERT's pooled
output), and the labels are the ``labels`` the trainer passes to the model; only the forward
passes of the trainer's evaluation steps are recorded. A token-classification head, which sees
(B, T, d) token representations, is measured per token, leaving out the tokens labelled
``ignore_index`` (-100, the padding and sub-word label).

After each evaluation it adds ``interplay/eval/mir``, ``.../hdr``, ``.../h_z``, ``.../h_w``,
``.../h_joint``, ``.../mi``, ``.../nc1`` … ``.../nc4``, ``.../n``, ``.../mir_nc``, ``.../h_nc``,
``.../stochastic`` (1 where the joint entropy was estimated because the exact eigenproblem
exceeds ``max_exact_size``, 0 where it was exact) and the standard errors ``.../se_mir``,
``.../se_hdr``, ``.../se_mi``, ``.../se_h_joint`` (``interplay/eval_<name>/`` for each set of a
dict of evaluation sets) to the metrics that ``evaluate`` returns and to the trainer's
``log_history``. A value that cannot be computed (a class missing from the evaluation set for the
NC metrics, a single class, zero entropy, ...) is NaN, with one warning per reason; training goes
on. The model's outputs and modes are left as they are.
"""

from __future__ import annotations

import warnings
from contextlib import ExitStack

import torch
from torch import nn

from interplay.functional.entropy import MAX_EXACT_SIZE
from interplay.integrations.recording import EvaluationRecorder, HeadReader, UndefinedWarnings, check_options, flat_values
from interplay.validation import InterplayTypeError

try:
    from transformers import Trainer, TrainerCallback
except ModuleNotFoundError as error:
    raise ModuleNotFoundError(
        f"interplay.integrations.transformers needs transformers ({error}); install it with pip install 'interplay[transformers]'."
    ) from None

__all__ = ["InterplayCallback"]


class InterplayCallback(TrainerCallback):
    """Log the information interplay and neural collapse of the evaluation set after every evaluation.

    ``Trainer.evaluate`` logs its metrics before it calls ``on_evaluate``, and a callback has no
    handle on the trainer's reporting backends, so without the trainer the values reach only the
    returned metrics and the evaluation's row of ``log_history``. Pass ``trainer`` to send them
    through ``trainer.log`` instead (a row of their own), i.e. to every ``report_to`` backend
    (TensorBoard, W&B, ...).

    Args:
        trainer: optional ``transformers.Trainer`` whose ``log`` carries the values. Its model is
            hooked at once and again after training, so that every ``trainer.evaluate()`` is
            measured, before and after ``train()``.
        head: the classification head (a module or its name in the model). When ``None``,
            ``model.head`` or the last nn.Linear is tried, and refused unless its output is the
            model's logits.
        pairing, center, max_exact_size: as in :func:`interplay.interplay_metrics`.
        method, tolerance, seed: as in :func:`interplay.interplay_metrics`. The default
            ``"auto"`` computes exactly where the eigenproblem fits ``max_exact_size`` (it grows
            as d·min(C, d): 9,216 for BERT-base's 768 and 12 classes) and otherwise estimates the
            joint entropy, logging its standard errors; ``"exact"`` logs NaN where it does not fit.
        ignore_index: the label of tokens left out of a per-token head.
        prefix: the start of every logged name.
        collapse_options: ``global_mean``, ``classes``, ``min_count`` of the neural collapse measures, as
            in :func:`interplay.neural_collapse` (``{"classes": "present"}`` measures the classes present).

    Example:
        >>> callback = InterplayCallback(method="stochastic", tolerance=0.01)
        >>> callback.options["method"], callback.model is None
        ('stochastic', True)
    """

    def __init__(
        self,
        trainer: Trainer | None = None,
        head: nn.Module | str | None = None,
        *,
        pairing: str = "sample",
        center: bool = False,
        max_exact_size: int = MAX_EXACT_SIZE,
        method: str = "auto",
        tolerance: float = 0.005,
        seed: int = 0,
        ignore_index: int = -100,
        prefix: str = "interplay",
        collapse_options: dict | None = None,
    ) -> None:
        if trainer is not None and not isinstance(trainer, Trainer):
            raise InterplayTypeError(
                f"trainer must be a transformers.Trainer or None; got {type(trainer).__name__}. Pass the head as head=."
            )
        self.trainer = trainer
        self.head = head
        self.options = check_options(
            pairing, center, max_exact_size=max_exact_size, method=method, tolerance=tolerance, seed=seed,
            collapse_options=collapse_options,
        )
        self.ignore_index = ignore_index
        self.prefix = prefix
        self.model: nn.Module | None = None
        self._reader: HeadReader | None = None
        self._recorder: EvaluationRecorder | None = None
        self._labels: torch.Tensor | None = None
        self._calls: list[tuple[torch.Tensor, torch.Tensor]] = []  # (input, output) of each head call
        self._pending: tuple | None = None  # the head calls, output and labels of the last forward pass
        self._hooks = ExitStack()
        self._warn = UndefinedWarnings()
        self._unmeasured_warned = False
        if trainer is not None:
            self._attach(trainer.model)

    def _attach(self, model: nn.Module | None) -> None:
        if model is None or model is self.model:
            return
        self.remove()
        self._reader = HeadReader(model, self.head, per_token=True, ignore_index=self.ignore_index)
        self.model = model
        self._hooks.callback(model.register_forward_pre_hook(self._remember_labels, with_kwargs=True).remove)
        self._hooks.callback(self._reader.head.register_forward_hook(self._record_head).remove)
        self._hooks.callback(model.register_forward_hook(self._record_pass).remove)

    def _remember_labels(self, model: nn.Module, _args, kwargs) -> None:
        self._calls.clear()
        self._labels = None if model.training else kwargs.get("labels")

    def _record_head(self, _head, inputs, output) -> None:
        if self._labels is not None:
            self._calls.append((inputs[0].detach(), output))

    def _record_pass(self, _model, _args, output) -> None:
        if self._labels is not None:
            self._pending = (list(self._calls), output, self._labels)
        self._calls.clear()
        self._labels = None

    def on_init_end(self, args, state, control, model=None, **kwargs):
        self._attach(model)

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self._attach(model)

    def on_train_end(self, args, state, control, **kwargs):
        self.remove()
        if self.trainer is not None:
            self._attach(self.trainer.model)  # bound to this trainer: its later evaluate() calls are measured

    def on_prediction_step(self, args, state, control, **kwargs):
        # Only the forward passes of the trainer's own evaluation steps count, never a call of the
        # model elsewhere in eval mode.
        if self._pending is None:
            return
        features, labels = self._reader.rows(*self._pending)
        self._pending = None
        if self._recorder is None:
            self._recorder = EvaluationRecorder(self._reader.head, **self.options)
        self._recorder.update(features, labels)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if self._recorder is None:
            self._warn_unmeasured()
            return
        # Trainer names each evaluation set's metrics "<metric_key_prefix>_runtime", ...: "eval", "eval_<name>".
        split = next((k.removesuffix("_runtime") for k in metrics or {} if k.endswith("_runtime")), "eval")
        record = self._recorder.compute()
        self._warn(f"{self.prefix}/{split}", self._recorder.reasons)
        self._recorder = None
        values = flat_values(record, f"{self.prefix}/{split}")
        if metrics is not None:
            metrics.update(values)
        if self.trainer is not None:
            self.trainer.log(dict(values))
        elif state.log_history and f"{split}_runtime" in state.log_history[-1]:
            state.log_history[-1].update(values)  # the row Trainer.evaluate has just logged
        else:
            state.log_history.append({**values, "step": state.global_step})

    def on_predict(self, args, state, control, metrics=None, **kwargs):
        self._recorder = None  # a prediction pass is not an evaluation to report

    def _warn_unmeasured(self) -> None:
        if self._unmeasured_warned:
            return
        self._unmeasured_warned = True
        why = (
            "the model was not called with labels= in eval mode" if self.model is not None else
            "its hooks are installed when the Trainer is built or training begins and removed when training ends; "
            "pass the trainer, InterplayCallback(trainer), to measure trainer.evaluate() after train() too"
        )
        warnings.warn(f"InterplayCallback measured nothing in this evaluation: {why}.", stacklevel=2)

    def remove(self) -> None:
        """Remove the hooks from the model."""
        self._hooks.close()
        self.model, self._recorder, self._pending = None, None, None
