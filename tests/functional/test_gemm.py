"""matmul_nt: x @ wᵀ in float32 by oneDNN where it runs, else torch.matmul, to float32 rounding."""

from __future__ import annotations

import pytest
import torch

from interplay.functional import gemm
from interplay.functional.gemm import matmul_nt


@pytest.mark.parametrize("shape", [(16, 700, 300), (1, 5, 3), (257, 64, 513)])
def test_float32_product_is_x_times_w_transposed_to_rounding(shape):
    m, k, n = shape
    g = torch.Generator().manual_seed(0)
    x, w = torch.randn(m, k, generator=g), torch.randn(n, k, generator=g)
    exact = x.double() @ w.double().mT
    product = matmul_nt(x, w)
    assert product.dtype == torch.float32 and product.shape == (m, n)
    scale = x.double().abs() @ w.double().abs().mT  # bounds the rounding of each entry
    assert bool(((product.double() - exact).abs() <= 4 * k * torch.finfo(torch.float32).eps * scale + 1e-30).all())


def test_non_contiguous_inputs_and_other_dtypes():
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(40, 30, generator=g), torch.randn(16, 50, generator=g)
    x, w = a.mT[:, :16], b.mT  # (30, 16) and (50, 16), both transposed views
    assert not x.is_contiguous() and not w.is_contiguous()
    assert torch.allclose(matmul_nt(x, w), x @ w.mT, rtol=1e-5, atol=1e-5)
    d = a.double()
    assert torch.equal(matmul_nt(d, d), d @ d.mT)  # float64 is torch.matmul itself


def test_without_onednn_it_is_torch_matmul(monkeypatch):
    monkeypatch.setattr(gemm, "_onednn", lambda: False)
    g = torch.Generator().manual_seed(2)
    x, w = torch.randn(8, 20, generator=g), torch.randn(12, 20, generator=g)
    assert torch.equal(matmul_nt(x, w), x @ w.mT)
