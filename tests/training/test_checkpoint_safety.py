"""A checkpoint is loaded as tensors and plain values only: a planted pickle cannot run code."""

from __future__ import annotations

import pytest
import torch

from interplay.cli import main
from interplay.training.checkpoint import load_checkpoint, save_atomic
from interplay.validation import InterplayValueError

TINY = ["--epochs", "1", "--train-eval-samples", "100", "--width", "8"]


class _Planted:
    """Unpickling it would create ``marker``: the code a planted checkpoint would run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_planted_checkpoint_is_refused_without_running_its_code(tmp_path, capsys):
    out, marker = tmp_path / "run", tmp_path / "ran"
    assert main(["train", *TINY, "--run-dir", str(out)]) == 0
    capsys.readouterr()
    state = load_checkpoint(out / "checkpoint.pt")
    torch.save(state | {"extra": _Planted(marker)}, out / "checkpoint.pt")
    assert main(["train", "--resume", str(out), "--epochs", "2"]) == 2
    err = capsys.readouterr().err
    assert not marker.exists()
    assert err.startswith("interplay: error: checkpoint ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert "refers to io.open" in err and "Start the run again with --fresh." in err and "keeps every finished epoch" not in err


def test_checkpoints_of_every_optimizer_load_safely(tmp_path):
    for kind in (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW):
        model = torch.nn.Linear(3, 2)
        optimizer = kind(model.parameters(), lr=0.1)
        model(torch.randn(4, 3)).sum().backward()
        optimizer.step()
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 1, "elapsed": 0.5}
        save_atomic(state, tmp_path / "c.pt")
        loaded = load_checkpoint(tmp_path / "c.pt")
        assert loaded["optimizer"]["param_groups"] == optimizer.state_dict()["param_groups"]
        assert torch.equal(loaded["model"]["weight"], model.weight.detach())


def test_a_file_that_is_not_a_checkpoint_is_one_error(tmp_path):
    (tmp_path / "c.pt").write_bytes(b"not a zip file at all")
    with pytest.raises(InterplayValueError, match="cannot be read") as caught:
        load_checkpoint(tmp_path / "c.pt")
    assert "\n" not in str(caught.value)
