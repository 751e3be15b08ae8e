"""Shared test configuration: hypothesis profiles and the data folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

settings.register_profile(
    "ci", derandomize=True, max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of the official data files, from INTERPLAY_DATA_DIR; tests using it skip without it."""
    value = os.environ.get("INTERPLAY_DATA_DIR")
    if not value:
        pytest.skip("INTERPLAY_DATA_DIR is not set")
    return Path(value)
