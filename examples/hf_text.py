"""MIR, HDR and neural collapse of a Hugging Face sequence classifier, logged at every evaluation (README example)."""

import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

from interplay.integrations.transformers import InterplayCallback


def texts(n, seed):
    """Token sequences whose label is the keyword (token 1, 2 or 3) hidden among random words."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, 40, (n, 8), generator=g)
    labels = torch.arange(n) % 3
    ids[torch.arange(n), torch.randint(0, 8, (n,), generator=g)] = labels + 1
    return [{"input_ids": i, "labels": y} for i, y in zip(ids, labels)]


config = BertConfig(vocab_size=40, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                    intermediate_size=64, max_position_embeddings=8, num_labels=3)
model = BertForSequenceClassification(config)  # or .from_pretrained(...) of your own model
args = TrainingArguments("runs/hf-text", num_train_epochs=2, learning_rate=1e-3, per_device_train_batch_size=32, eval_strategy="epoch",
                         save_strategy="no", report_to="none", use_cpu=True, disable_tqdm=True)
trainer = Trainer(model=model, args=args, train_dataset=texts(320, 0), eval_dataset=texts(150, 1))
trainer.add_callback(InterplayCallback(trainer))
trainer.train()
print({k: round(v, 3) for k, v in trainer.evaluate().items() if k.startswith("interplay/")})
