"""The Hugging Face callback logs what the one-shot functions give on the same representations."""

from __future__ import annotations

import pytest
import torch

transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from interplay import interplay_metrics, nc_reference, neural_collapse  # noqa: E402
from interplay.integrations.transformers import InterplayCallback  # noqa: E402

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


def run(tmp_path, with_callback: bool):
    model = tiny_bert()
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path), num_train_epochs=2, per_device_train_batch_size=16, per_device_eval_batch_size=32,
        learning_rate=1e-3, eval_strategy="epoch", save_strategy="no", report_to=[], use_cpu=True, seed=0,
        disable_tqdm=True, logging_strategy="no",
    )
    eval_set = synthetic_text(90, seed=1)
    trainer = transformers.Trainer(model=model, args=args, train_dataset=synthetic_text(240, seed=0), eval_dataset=eval_set)
    if with_callback:
        trainer.add_callback(InterplayCallback(trainer))
    trainer.train()
    return model, trainer, trainer.evaluate(), eval_set


def test_logged_values_equal_the_one_shot_functions_and_predictions_are_unchanged(tmp_path):
    model, trainer, metrics, eval_set = run(tmp_path / "with", with_callback=True)
    logged = [row for row in trainer.state.log_history if "interplay/eval/mir" in row]
    assert len(logged) == 3  # two epochs and the final evaluate()

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

    plain, plain_trainer, plain_metrics, _ = run(tmp_path / "without", with_callback=False)
    assert plain_metrics["eval_loss"] == metrics["eval_loss"]
    with torch.no_grad():
        assert torch.equal(plain.eval()(**batch).logits, model(**batch).logits)
