"""Half precision, autocast, extreme magnitudes and the arguments that choose a computation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference
from interplay import gram_entropy, hdr, interplay_metrics, matrix_entropy, matrix_mutual_information, mir, neural_collapse
from interplay.losses import CrossModalAlignmentLoss, InterplayLoss


@pytest.fixture
def batch(generator):
    features = torch.randn(48, 16, generator=generator)
    labels = torch.arange(48) % 4
    heads = torch.randn(4, 16, generator=generator)
    return features, labels, heads


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_inputs_are_computed_in_float32(batch, dtype):
    features, labels, heads = batch
    x, w = features.to(dtype), heads.to(dtype)
    want = reference.sample_pairing(x.double().numpy(), labels.numpy(), w.double().numpy())
    for compute in (None, torch.float16):
        # Without gradients the information metrics are computed in float64 whatever the input.
        result = interplay_metrics(x, labels, w, dtype=compute)
        assert result.mir.dtype == torch.float64
        assert float(result.mir) == pytest.approx(want["mir"], abs=1e-9)
        grad = interplay_metrics(x.float().requires_grad_(), labels, w, dtype=compute)
        assert grad.mir.dtype == torch.float32
        assert float(grad.mir) == pytest.approx(want["mir"], abs=1e-4)
        assert float(matrix_entropy(x, dtype=compute)) == pytest.approx(want["h_x"], abs=1e-4)
    y = w[labels]
    assert float(mir(x, y, dtype=None)) == pytest.approx(want["mir"], abs=1e-4)
    assert float(hdr(x, y, dtype=None)) == pytest.approx(want["hdr"], abs=1e-4)
    assert float(neural_collapse(x, labels, w, dtype=None).nc1) == pytest.approx(
        reference.neural_collapse(x.double().numpy(), labels.numpy(), w.double().numpy())["nc1"], rel=1e-3
    )


def test_losses_work_inside_cpu_autocast(batch):
    features, labels, heads = batch
    features = features.clone().requires_grad_()
    heads = heads.clone().requires_grad_()
    layer = torch.nn.Linear(16, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        hidden = layer(features)  # bfloat16 under autocast
        assert hidden.dtype == torch.bfloat16
        loss = InterplayLoss(0.5, 0.5)(hidden, labels, heads) + CrossModalAlignmentLoss()(hidden, heads, labels)
    assert loss.dtype == torch.float32
    loss.backward()
    for grad in (features.grad, heads.grad, layer.weight.grad):
        assert grad is not None and bool(torch.isfinite(grad).all()) and float(grad.abs().sum()) > 0
    plain = InterplayLoss(0.5, 0.5, dtype=torch.float64)(hidden.detach().double(), labels, heads.detach().double())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = InterplayLoss(0.5, 0.5)(hidden.detach(), labels, heads.detach())
    assert float(inside) == pytest.approx(float(plain), abs=1e-4)  # Grams are not formed in bfloat16


@pytest.mark.parametrize("scale", [1e-30, 1e-20, 1e20, 1e30])
def test_extreme_magnitudes_in_float32_give_the_scale_free_value(batch, scale):
    features, labels, heads = batch
    y = heads[labels]
    want = reference.entropies(features.double().numpy(), y.double().numpy())
    x = features * scale  # still finite float32
    assert float(hdr(x, y, dtype=None)) == pytest.approx(want["hdr"], abs=1e-4)
    assert float(mir(x, y, dtype=None)) == pytest.approx(want["mir"], abs=1e-4)
    assert float(matrix_mutual_information(x, y, dtype=None)) == pytest.approx(want["mi"], abs=1e-4)
    assert float(matrix_entropy(x, dtype=None)) == pytest.approx(want["h_x"], abs=1e-4)
    nc = reference.neural_collapse(features.double().numpy(), labels.numpy(), heads.double().numpy())
    assert float(neural_collapse(x, labels, heads, dtype=None).nc1) == pytest.approx(nc["nc1"], rel=1e-3)


def test_gram_entropy_accepts_float32_grams(generator):
    z = torch.nn.functional.normalize(torch.randn(300, 40, generator=generator), dim=1)
    k = z @ z.T  # float32 rounding leaves negative eigenvalues far above float64's tolerance
    want = reference.entropy_of(k.double().numpy())
    assert float(gram_entropy(k)) == pytest.approx(want, abs=1e-5)
    assert float(gram_entropy(k.double(), tol=1e-3)) == pytest.approx(want, abs=1e-5)
    with pytest.raises(ValueError, match="gram must be positive semi-definite"):
        gram_entropy(k.double())  # a float32 Gram stored as float64, without tol
    with pytest.raises(ValueError, match=r"tol must be a number >= 0 and < 1"):
        gram_entropy(k, tol=-1.0)


@pytest.mark.parametrize("bad", [0, 1, -5, 2.5, True, "8192"])
def test_max_exact_size_is_checked(batch, bad):
    features, labels, heads = batch
    with pytest.raises((ValueError, TypeError), match="max_exact_size must be"):
        interplay_metrics(features, labels, heads, max_exact_size=bad)
    with pytest.raises((ValueError, TypeError), match="max_exact_size must be"):
        mir(features, heads[labels], max_exact_size=bad)


def test_center_accepts_numpy_and_refuses_wrong_shapes(batch):
    features, labels, heads = batch
    mean = features.mean(0)
    want = interplay_metrics(features, labels, heads, center=mean)
    assert float(interplay_metrics(features, labels, heads, center=mean.numpy()).mir) == pytest.approx(float(want.mir))
    assert float(interplay_metrics(features, labels, heads, center=np.bool_(True)).mir) == pytest.approx(float(want.mir))
    with pytest.raises(ValueError, match=r"center must have shape \(16,\), one entry per feature dimension; got shape \(3,\)"):
        interplay_metrics(features, labels, heads, center=np.zeros(3))
    with pytest.raises(TypeError, match="center must be a bool or a \\(16,\\) tensor or array"):
        interplay_metrics(features, labels, heads, center="yes")
    with pytest.raises(ValueError, match="center must contain only finite values"):
        interplay_metrics(features, labels, heads, center=np.full(16, np.nan))


@pytest.mark.parametrize("api", ["legacy", "backend"])
def test_lowered_matmul_precision_is_raised_inside_and_restored_after(batch, api):
    """A caller who lowered float32 products (TF32/bfloat16) through either of torch's two APIs
    gets full-precision products inside the metrics, no error, and their setting back."""
    from interplay.functional.gram import full_precision

    backends = [torch.backends.cuda.matmul, torch.backends.mkldnn.matmul]
    features, labels, heads = batch
    expected = interplay_metrics(features, labels, heads).as_dict()
    if api == "legacy":
        torch.set_float32_matmul_precision("high")
    else:
        backends[0].fp32_precision, backends[1].fp32_precision = "tf32", "bf16"
    try:
        with full_precision(features):
            if api == "legacy":
                assert torch.get_float32_matmul_precision() == "highest"
            else:
                assert [b.fp32_precision for b in backends] == ["ieee", "ieee"]
        assert interplay_metrics(features, labels, heads).as_dict() == expected
        if api == "legacy":
            assert torch.get_float32_matmul_precision() == "high"
        else:
            assert [b.fp32_precision for b in backends] == ["tf32", "bf16"]
    finally:
        if api == "legacy":
            torch.set_float32_matmul_precision("highest")
        else:
            backends[0].fp32_precision = backends[1].fp32_precision = "none"
    assert torch.get_float32_matmul_precision() == "highest"
