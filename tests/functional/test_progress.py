"""Progress measures of grokking against models whose Fourier structure is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from interplay.data.modular import modular_addition
from interplay.functional.progress import fourier_basis, progress_measures

P = 13


class Fourier(nn.Module):
    """Logits ``scale·Σ_k cos(w_k(a+b-c))`` plus ``noise`` that is not a function of a+b; a chosen embedding."""

    def __init__(self, frequencies, scale=4.0, noise=0.0, embedding=None):
        super().__init__()
        self.frequencies, self.scale = frequencies, scale
        self.noise = noise * torch.randn(P, P, P, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        self.embed = nn.Embedding(P + 1, 4)
        if embedding is not None:
            self.embed.weight.data[:P] = embedding

    def forward(self, pairs):
        a, b = pairs[:, 0, None].double(), pairs[:, 1, None].double()
        c = torch.arange(P, dtype=torch.float64)
        logits = sum(torch.cos(2 * math.pi * k * (a + b - c) / P) for k in self.frequencies)
        return self.scale * logits + self.noise[pairs[:, 0], pairs[:, 1]]


def cross_entropy(logits, labels):
    logits = logits - logits.max(1, keepdims=True)
    return float(np.mean(np.log(np.exp(logits).sum(1)) - logits[np.arange(len(labels)), labels]))


def test_fourier_basis_is_orthonormal_and_real_fft_ordered():
    basis = fourier_basis(P)
    assert torch.allclose(basis @ basis.T, torch.eye(P, dtype=torch.float64), atol=1e-12)
    signal = basis[2 * 3]  # rows: constant, then cos k, sin k; this is sin at frequency 3
    assert np.argmax(np.abs(np.fft.rfft(signal.numpy()))) == 3


def test_a_pure_key_frequency_model():
    train = modular_addition(P, 0.5, seed=0)["train"]
    model = Fourier([2, 5])
    row = progress_measures(model, P, train, keys=2)
    logits = model(train[0]).numpy()
    assert row["restricted_loss"] == pytest.approx(cross_entropy(logits, train[1].numpy()), abs=1e-9)
    assert row["excluded_loss"] == pytest.approx(math.log(P), abs=1e-9)  # nothing is left: uniform logits


def test_noise_off_the_key_directions_is_what_restriction_removes():
    train = modular_addition(P, 0.5, seed=1)["train"]
    model = Fourier([4], noise=1.0)
    row = progress_measures(model, P, train, keys=1)
    # Independent decomposition: average the logits over each anti-diagonal a+b = s, then FFT over s.
    pairs, labels = train
    grid = model(torch.cartesian_prod(torch.arange(P), torch.arange(P))).reshape(P, P, P).numpy()
    sums = (np.arange(P)[:, None] + np.arange(P)[None, :]) % P
    by_sum = np.stack([grid[sums == s].mean(0) for s in range(P)])  # (P, P): sum s, class c
    spectrum = np.fft.fft(by_sum, axis=0)
    keep = np.zeros(P, bool)
    keep[[0, 4, P - 4]] = True
    restricted = np.real(np.fft.ifft(np.where(keep[:, None], spectrum, 0), axis=0))[sums]  # (P, P, P)
    keyed = np.real(np.fft.ifft(np.where(keep[:, None] & (np.arange(P) != 0)[:, None], spectrum, 0), axis=0))[sums]
    a, b = pairs[:, 0].numpy(), pairs[:, 1].numpy()
    assert row["restricted_loss"] == pytest.approx(cross_entropy(restricted[a, b], labels.numpy()), abs=1e-9)
    assert row["excluded_loss"] == pytest.approx(cross_entropy((grid - keyed)[a, b], labels.numpy()), abs=1e-9)


def test_embedding_share_and_weight_norm():
    x = torch.arange(P, dtype=torch.float64)
    sparse = torch.stack([torch.cos(2 * math.pi * 3 * x / P), torch.sin(2 * math.pi * 3 * x / P),
                          torch.cos(2 * math.pi * 5 * x / P), torch.sin(2 * math.pi * 5 * x / P)], 1)
    model = Fourier([1], embedding=sparse.float())
    train = modular_addition(P, 0.5, seed=0)["train"]
    assert progress_measures(model, P, train, keys=2)["embedding_fourier_share"] == pytest.approx(1.0, abs=1e-6)
    assert progress_measures(model, P, train, keys=1)["embedding_fourier_share"] == pytest.approx(0.5, abs=1e-6)
    expected = sum(float(w.detach().double().square().sum()) for w in model.parameters())
    assert progress_measures(model, P, train)["weight_norm"] == pytest.approx(expected)
