import collections
import os
import signal

import pytest
import torch

from interplay import runs
from interplay.runs import Records, interrupts_deferred
from interplay.training.checkpoint import load_checkpoint, save_atomic

# These tests send SIGINT to the test process itself: only safe where it raises KeyboardInterrupt.
pytestmark = pytest.mark.skipif(
    signal.getsignal(signal.SIGINT) is not signal.default_int_handler, reason="SIGINT is handled by the test runner"
)


class _InterruptWhilePickled:
    """Sends Ctrl-C to this process while ``torch.save`` is halfway through writing."""

    def __reduce__(self):
        os.kill(os.getpid(), signal.SIGINT)
        return (collections.OrderedDict, ((("seven", 7),),))


def test_ctrl_c_during_save_lands_after_a_whole_file(tmp_path):
    target = tmp_path / "checkpoint.pt"
    state = {"before": torch.arange(1000.0), "trigger": _InterruptWhilePickled(), "after": torch.ones(500)}
    with pytest.raises(KeyboardInterrupt):
        save_atomic(state, target)
    loaded = load_checkpoint(target)
    assert loaded["trigger"] == {"seven": 7}
    assert torch.equal(loaded["before"], torch.arange(1000.0)) and torch.equal(loaded["after"], torch.ones(500))
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_error_while_saving_keeps_the_previous_checkpoint(tmp_path):
    target = tmp_path / "checkpoint.pt"
    save_atomic({"epoch": 1}, target)
    with pytest.raises(ValueError, match="unpicklable"):
        save_atomic({"epoch": 2, "bad": _Unpicklable()}, target)
    assert load_checkpoint(target) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_deferral_leaves_custom_handlers_alone():
    seen = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
        assert seen == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_record_is_written_whole_when_interrupted(tmp_path, monkeypatch):
    records = Records(tmp_path / "records.jsonl")
    records.append("epoch=0", note="first")
    dumps = runs.json.dumps

    def interrupted(value):  # Ctrl-C arrives while the line is being written
        os.kill(os.getpid(), signal.SIGINT)
        return dumps(value)

    monkeypatch.setattr(runs.json, "dumps", interrupted)
    with pytest.raises(KeyboardInterrupt):
        records.append("epoch=1", note="second")
    monkeypatch.undo()
    assert records.rows() == [{"unit": "epoch=0", "note": "first"}, {"unit": "epoch=1", "note": "second"}]


class _Unpicklable:
    def __reduce__(self):
        raise ValueError("unpicklable")
