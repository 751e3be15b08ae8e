"""The Hugging Face callback logs what the one-shot functions give on the same representations."""

from __future__ import annotations

import math

import pytest
import reference
import torch

transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from interplay import interplay_metrics, nc_reference, neural_collapse  # noqa: E402
from interplay.integrations.transformers import InterplayCallback  # noqa: E402
from interplay.validation import InterplayTypeError  # noqa: E402

CLASSES, LENGTH, VOCAB = 3, 8, 40


def synthetic_text(n: int, seed: int) -> list[dict[str, torch.Tensor]]:
    """Token sequences whose label is the keyword token (1, 2 or 3) hidden among random words."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, VOCAB, (n, LENGTH), generator=g)
    labels = torch.arange(n) % CLASSES
    ids[torch.arange(n), torch.randint(0, LENGTH, (n,), generator=g)] = labels + 1
    return [{"input_ids": ids[i], "attention_mask": torch.ones(LENGTH, dtype=torch.long), "labels": labels[i]} for i in range(n)]


def tiny_bert():
    config = transformers.BertConfig(
        vocab_size=VOCAB, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=LENGTH, num_labels=CLASSES,
    )
    torch.manual_seed(0)
    return transformers.BertForSequenceClassification(config)


class LogSpy(transformers.TrainerCallback):
    """Receives what every report_to backend receives."""

    def __init__(self) -> None:
        self.logs: list[dict] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.logs.append(dict(logs))


def arguments(tmp_path, **options):
    return transformers.TrainingArguments(
        output_dir=str(tmp_path), per_device_train_batch_size=16, per_device_eval_batch_size=32, learning_rate=1e-3,
        save_strategy="no", report_to=[], use_cpu=True, seed=0, disable_tqdm=True, logging_strategy="no", **options,
    )


def run(tmp_path, with_callback: bool):
    model = tiny_bert()
    args = arguments(tmp_path, num_train_epochs=2, eval_strategy="epoch")
    eval_set = synthetic_text(90, seed=1)
    trainer = transformers.Trainer(model=model, args=args, train_dataset=synthetic_text(240, seed=0), eval_dataset=eval_set)
    spy = LogSpy()
    if with_callback:
        trainer.add_callback(InterplayCallback(trainer))
        trainer.add_callback(spy)
    trainer.train()
    return model, trainer, trainer.evaluate(), eval_set, spy


def test_logged_values_equal_the_one_shot_functions_and_predictions_are_unchanged(tmp_path):
    model, trainer, metrics, eval_set, spy = run(tmp_path / "with", with_callback=True)
    logged = [row for row in trainer.state.log_history if "interplay/eval/mir" in row]
    assert len(logged) == 3  # two epochs and the final evaluate()
    assert len([row for row in spy.logs if "interplay/eval/mir" in row]) == 3  # through trainer.log to the backends

    batch = {k: torch.stack([row[k] for row in eval_set]) for k in ("input_ids", "attention_mask")}
    labels = torch.stack([row["labels"] for row in eval_set])
    model.eval()
    with torch.no_grad():
        features = model.bert(**batch).pooler_output  # (90, 16), the classifier's input
    weight, bias = model.classifier.weight.detach(), model.classifier.bias.detach()
    info = interplay_metrics(features, labels, weight).as_dict()
    collapse = neural_collapse(features, labels, weight, bias=bias).as_dict()
    expected = {k: info[k] for k in ("h_z", "h_w", "h_joint", "mi", "mir", "hdr")}
    expected |= {k: v for k, v in collapse.items() if k.startswith("nc")}
    expected |= {"n": 90, "mir_nc": float(nc_reference(CLASSES).mir), "h_nc": float(nc_reference(CLASSES).entropy)}
    for key, value in expected.items():
        assert logged[-1][f"interplay/eval/{key}"] == pytest.approx(value, abs=1e-6, rel=0), key
        assert metrics[f"interplay/eval/{key}"] == logged[-1][f"interplay/eval/{key}"]

    plain, plain_trainer, plain_metrics, _, _ = run(tmp_path / "without", with_callback=False)
    assert plain_metrics["eval_loss"] == metrics["eval_loss"]
    with torch.no_grad():
        assert torch.equal(plain.eval()(**batch).logits, model(**batch).logits)


def pooled(model, eval_set):
    """The classifier's input, labels, weight and bias of the whole evaluation set, read without the callback."""
    batch = {k: torch.stack([row[k] for row in eval_set]) for k in ("input_ids", "attention_mask")}
    model.eval()
    with torch.no_grad():
        features = model.bert(**batch).pooler_output  # (n, 16)
    labels = torch.stack([row["labels"] for row in eval_set])
    return features.numpy(), labels.numpy(), model.classifier.weight.detach().numpy(), model.classifier.bias.detach().numpy()


def test_the_model_comes_from_the_trainer_and_the_hooks_leave_with_training(tmp_path):
    model, eval_set = tiny_bert(), synthetic_text(90, seed=1)
    trainer = transformers.Trainer(
        model=model, args=arguments(tmp_path, num_train_epochs=1, eval_strategy="epoch"),
        train_dataset=synthetic_text(64, seed=0), eval_dataset=eval_set, callbacks=[InterplayCallback()],
    )
    metrics = trainer.evaluate()  # hooked since the trainer was built
    trainer.train()
    assert not model._forward_hooks and not model._forward_pre_hooks and not model.classifier._forward_hooks
    rows = [row for row in trainer.state.log_history if "interplay/eval/mir" in row]  # train() starts a new history
    assert len(rows) == 1 and "eval_loss" in rows[0]  # beside the trainer's own metrics
    features, labels, weight, bias = pooled(model, eval_set)
    expected = reference.sample_pairing(features, labels, weight) | reference.neural_collapse(features, labels, weight, bias)
    for key in ("mir", "hdr", "h_joint", "nc1", "nc3", "nc4"):
        assert rows[-1][f"interplay/eval/{key}"] == pytest.approx(expected[key], abs=1e-6, rel=1e-6), key
    assert rows[-1]["interplay/eval/stochastic"] == 0.0 and rows[-1]["interplay/eval/se_mir"] == 0.0
    assert math.isfinite(metrics["interplay/eval/mir"]) and metrics["interplay/eval/n"] == 90


def test_an_exact_path_over_max_exact_size_is_estimated_and_undefined_records_are_nan(tmp_path):
    model, eval_set = tiny_bert(), synthetic_text(90, seed=1)
    # d·min(C, d) = 48 > 16 here, as 768·12 > 8,192 for BERT-base with 12 classes.
    trainer = transformers.Trainer(model=model, args=arguments(tmp_path), eval_dataset=eval_set,
                                   callbacks=[InterplayCallback(max_exact_size=16)])
    metrics = trainer.evaluate()
    features, labels, weight, _ = pooled(model, eval_set)
    expected = reference.sample_pairing(features, labels, weight)
    assert metrics["interplay/eval/stochastic"] == 1.0 and 0 < metrics["interplay/eval/se_mir"] < 0.05
    assert abs(metrics["interplay/eval/mir"] - expected["mir"]) < 4 * metrics["interplay/eval/se_mir"]

    callback = InterplayCallback(method="exact", max_exact_size=16)
    trainer = transformers.Trainer(model=model, args=arguments(tmp_path), eval_dataset=eval_set, callbacks=[callback])
    without_two = [row for row in eval_set if row["labels"] != 2]
    with pytest.warns(UserWarning, match="max_exact_size=16") as caught:
        for _ in range(2):
            metrics = trainer.evaluate(without_two)
    assert len([w for w in caught if "max_exact_size" in str(w.message)]) == 1  # once, not every evaluation
    assert math.isnan(metrics["interplay/eval/mir"]) and math.isnan(metrics["interplay/eval/nc1"])  # class 2 is missing
    assert metrics["interplay/eval/n"] == len(without_two)


def test_a_token_classifier_is_measured_per_token_without_the_ignored_labels(tmp_path):
    config = transformers.BertConfig(
        vocab_size=VOCAB, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=LENGTH, num_labels=CLASSES,
    )
    torch.manual_seed(0)
    model = transformers.BertForTokenClassification(config)
    eval_set = synthetic_text(40, seed=2)
    g = torch.Generator().manual_seed(5)
    for row in eval_set:
        row["labels"] = torch.where(torch.rand(LENGTH, generator=g) < 0.3, -100, row["input_ids"] % CLASSES)
    trainer = transformers.Trainer(model=model, args=arguments(tmp_path), eval_dataset=eval_set, callbacks=[InterplayCallback()])
    metrics = trainer.evaluate()
    batch = {k: torch.stack([row[k] for row in eval_set]) for k in ("input_ids", "attention_mask")}
    with torch.no_grad():
        tokens = model.eval().bert(**batch).last_hidden_state.reshape(-1, 16)  # (n·T, 16)
    labels = torch.stack([row["labels"] for row in eval_set]).reshape(-1)
    kept = labels != -100
    features, labels, weight = tokens[kept].numpy(), labels[kept].numpy(), model.classifier.weight.detach().numpy()
    expected = reference.sample_pairing(features, labels, weight) | reference.neural_collapse(features, labels, weight)
    assert metrics["interplay/eval/n"] == int(kept.sum())
    for key in ("mir", "hdr", "nc1"):
        assert metrics[f"interplay/eval/{key}"] == pytest.approx(expected[key], abs=1e-6, rel=1e-6), key


def test_a_head_passed_where_the_trainer_goes_is_refused():
    with pytest.raises(InterplayTypeError, match="trainer must be a transformers.Trainer or None; got str"):
        InterplayCallback("classifier")
