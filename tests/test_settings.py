"""The config base: checks on construction, one rule hook, digests that survive a field's rename."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from interplay.config import Layer, Settings, TrainConfig, resolve_config, setting
from interplay.experiments import collapse, grokking, semi_supervised
from interplay.validation import InterplayValueError

# Digests of these configs as written by the release before the record interval was renamed
# (metrics_every, eval_every -> record_every): run folders named by them must still resume.
EARLIER_DIGESTS = [
    (TrainConfig(), "cd787026"),
    (TrainConfig(record_every=3), "90336f62"),
    (grokking.Config(), "3b8c60ba"),
    (semi_supervised.Config(record_every=7), "4a3abca4"),
    (collapse.Config(), "b6b0950b"),
]


@pytest.mark.parametrize(("config", "digest"), EARLIER_DIGESTS)
def test_digest_is_unchanged_by_the_rename(config, digest):
    assert config.digest() == digest


@pytest.mark.parametrize(("cls", "earlier"), [(TrainConfig, "metrics_every"), (grokking.Config, "eval_every"),
                                              (semi_supervised.Config, "eval_every")])
def test_files_with_the_earlier_name_still_load(cls, earlier):
    stored = resolve_config(cls, [Layer("config.json", {earlier: 4})])
    typed = resolve_config(cls, [Layer("--set", {earlier.replace("_", "-"): "4"}, text=True)])
    assert stored.record_every == typed.record_every == 4


def test_record_interval_defaults_to_a_tenth_of_the_run():
    assert TrainConfig(epochs=30).record_interval == 3
    assert TrainConfig(epochs=30, record_every=7).record_interval == 7
    assert TrainConfig(epochs=4).record_interval == 1


@dataclass(frozen=True)
class Paired(Settings):
    low: int = setting(1, "lower bound", minimum=0)
    high: int = setting(2, "upper bound", minimum=0)

    def check(self) -> None:
        if self.low >= self.high:
            raise InterplayValueError(f"low must be below high; got {self.low} and {self.high}.")


def test_fields_are_checked_before_the_rules_across_them():
    with pytest.raises(InterplayValueError, match="low must be an integer >= 0"):
        Paired(low=-1)
    with pytest.raises(InterplayValueError, match="low must be below high"):
        Paired(low=3)
    assert Paired(low=0, high=5).digest() != Paired().digest()


def test_class_attributes_are_not_config_keys():
    with pytest.raises(InterplayValueError, match="unknown config key 'FORMERLY'"):
        resolve_config(TrainConfig, [Layer("run.toml", {"FORMERLY": {}})])
