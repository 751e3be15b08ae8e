"""The lmc experiment: spawning at an optimiser step, the independent control, the dip and its correlations."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from scipy import stats

from interplay.cli import main
from interplay.experiments import experiment_config, lmc
from interplay.runs import Records
from interplay.training.session import Session


def _config(**values):
    return experiment_config("lmc", quick=True, values={"seeds": (0,)} | values)


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_spawn_steps_join_steps_and_epochs():
    config = _config(spawn_iterations=(0, 5, 12), spawn_epochs=(1, 2))
    assert config.spawn_steps(12) == [0, 5, 12, 24]
    assert _config(spawn_epochs=None).spawn_steps(12) == [0, 4]


def test_snapshots_are_the_parent_at_each_step_and_a_child_continues_exactly():
    config = _config()
    parent = Session.create(config.train_config(0))
    per_epoch = parent.steps_per_epoch
    steps = [0, 5, per_epoch, per_epoch + 3, 2 * per_epoch]
    states = lmc.snapshots(parent, steps)
    assert list(states) == steps

    fresh = Session.create(config.train_config(0))
    assert _same(states[0]["model"], fresh.model.state_dict())  # spawn 0 is the shared initialisation
    fresh.train_epoch(1, steps=range(5))
    assert _same(states[5]["model"], fresh.model.state_dict())
    straight = Session.create(config.train_config(0))
    straight.train_epoch(1)
    straight.train_epoch(2)  # two whole epochs, never split
    assert _same(states[2 * per_epoch]["model"], straight.model.state_dict())

    # A child is the parent at the spawn step; with the parent's own seed it continues the parent's run
    # exactly (same momentum, same place in the epoch's data order).
    k = per_epoch + 3
    assert _same(lmc.network(config, 0, k, states[k], k).state_dict(), states[k]["model"])
    assert _same(lmc.network(config, 0, 2 * per_epoch, states[k], k).state_dict(), straight.model.state_dict())
    one, two = (lmc.network(config, 0 + offset, 2 * per_epoch, states[k], k).state_dict() for offset in lmc.CHILD_SEEDS)
    assert not _same(one, two)  # their own data orders


def test_control_pairs_independent_initialisations(tmp_path, monkeypatch):
    config = _config(spawn_iterations=(0,), spawn_epochs=None, points=2, epochs=1)
    calls, original = [], lmc.network

    def network(config, seed, stop, state=None, start=0):
        calls.append((seed, state is None, original(config, seed, start, state, start).state_dict()))
        return original(config, seed, stop, state, start)

    monkeypatch.setattr(lmc, "network", network)
    lmc.run(config, Records(tmp_path / "records.jsonl"), tmp_path)
    children, control = calls[:2], calls[2:]
    assert [(seed, fresh) for seed, fresh, _ in children] == [(1000, False), (2000, False)]
    assert [(seed, fresh) for seed, fresh, _ in control] == [(3000, True), (4000, True)]
    shared = Session.create(config.train_config(0)).model.state_dict()
    assert _same(children[0][2], shared) and _same(children[1][2], shared)
    assert not _same(control[0][2], control[1][2])
    assert not _same(control[0][2], shared) and not _same(control[1][2], shared)
    rows = Records(tmp_path / "records.jsonl").rows()
    assert {r["spawn"] for r in rows} == {0, lmc.CONTROL}


def _path(spawn, seed, alphas, **columns):
    return [{"spawn": spawn, "seed": seed, "split": "test", "alpha": a, **{k: v[i] for k, v in columns.items()}}
            for i, a in enumerate(alphas)]


def test_dip_and_rise_against_a_hand_computation():
    alphas = [0.0, 0.25, 0.5, 0.75, 1.0]
    mir = np.array([0.60, 0.55, 0.40, 0.58, 0.70])
    hdr = np.array([0.10, 0.20, 0.50, 0.20, 0.30])
    loss = np.array([0.30, 0.50, 0.90, 0.40, 0.20])
    accuracy = np.array([0.90, 0.85, 0.60, 0.88, 0.94])
    a = np.array(alphas)
    line = lambda v: (1 - a) * v[0] + a * v[-1]  # noqa: E731
    (found,) = lmc.barriers(_path(3, 0, alphas, mir=mir, hdr=hdr, loss=loss, accuracy=accuracy))
    assert found["mir_dip"] == pytest.approx(np.max(line(mir) - mir)) == pytest.approx(0.25)
    assert found["hdr_rise"] == pytest.approx(np.max(hdr - line(hdr))) == pytest.approx(0.30)
    assert found["loss_barrier"] == pytest.approx(0.90 - 0.25)
    assert found["error_barrier"] == pytest.approx(0.40 - 0.08)
    assert found["error_instability"] == pytest.approx(0.40 - (0.10 + 0.06) / 2)
    assert found["mir_mid"] == pytest.approx(0.65 - 0.40) and found["loss_mid"] == pytest.approx(0.90 - 0.25)
    assert found["hdr_mid"] == pytest.approx(0.50 - 0.20) and found["error_mid"] == pytest.approx(0.92 - 0.60)
    bulge = 0.05 * 4 * a * (1 - a)  # above the line inside, on it at the ends
    flat = lmc.barriers(_path(3, 0, alphas, mir=line(mir) + bulge, hdr=line(hdr) - bulge, loss=loss, accuracy=accuracy))[0]
    assert flat["mir_dip"] == 0.0 and math.copysign(1, flat["mir_dip"]) == 1  # no dip: 0 at the ends, and not -0
    assert flat["hdr_rise"] == 0.0
    assert flat["mir_mid"] == pytest.approx(-0.05) and flat["hdr_mid"] == pytest.approx(-0.05)  # signed: above the line


def test_correlations_across_paths_match_scipy_and_drop_the_control():
    barrier = [0.00, 0.02, 0.01, 0.05, 0.03, 1.50]
    dip = [0.01, 0.00, 0.03, 0.02, 0.04, 0.30]
    spawns = [0, 0, 25, 25, 50, lmc.CONTROL]
    found = [{"spawn": s, "seed": i % 2, "split": "test", "loss_barrier": b, "error_barrier": b / 2, "mir_dip": d, "hdr_rise": 0.0,
              "loss_mid": -b, "mir_mid": d, "hdr_mid": 0.0} for i, (s, b, d) in enumerate(zip(spawns, barrier, dip))]
    rows = {(r["paths"], r["metric"], r["barrier"]): r for r in lmc.correlations(found)}
    every = rows[("all", "mir_dip", "loss_barrier")]
    assert every["n"] == 6 and every["pearson"] == pytest.approx(np.corrcoef(barrier, dip)[0, 1])
    ranks = stats.rankdata(barrier), stats.rankdata(dip)
    assert every["spearman"] == pytest.approx(np.corrcoef(*ranks)[0, 1])
    spawned = rows[("spawned", "mir_dip", "loss_barrier")]
    assert spawned["n"] == 5 and spawned["pearson"] == pytest.approx(np.corrcoef(barrier[:5], dip[:5])[0, 1])
    assert math.isnan(rows[("all", "hdr_rise", "loss_barrier")]["spearman"])  # a constant HDR rise
    assert rows[("all", "mir_mid", "loss_mid")]["pearson"] == pytest.approx(-every["pearson"])


@pytest.mark.parametrize(("setting", "message"), [
    ("spawn_epochs=[3]", r"spawn_epochs must each be below epochs=3; got \[3\]"),
    ("spawn_iterations=[0,36]", r"spawn_iterations must each be below the 36 steps of training \(3 epochs of 12\); got \[0, 36\]"),
    ("spawn_iterations=[]", r"spawn_iterations must be a non-empty list of integers >= 0"),
])
def test_bad_spawn_points_are_one_line_errors(setting, message, tmp_path, capsys):
    assert main(["experiment", "lmc", "--quick", "--set", setting, "--out", str(tmp_path)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("interplay: error: ")]
    assert len(errors) == 1 and re.search(message, errors[0])
    assert not any(Records(p).rows() for p in tmp_path.rglob("records.jsonl"))
