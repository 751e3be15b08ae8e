"""The batched augmentations against per-image references written with plain loops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interplay.data.augment import COLOR_OPS, GEOMETRIC_OPS, _color, _equalize, crop_and_flip, cutout, rand_augment


def test_crop_without_padding_or_flip_is_the_identity():
    images = torch.rand(4, 2, 6, 6)
    assert crop_and_flip(images, pad=0, flip=False).equal(images)


def test_every_crop_is_a_window_of_the_padded_image_or_of_its_mirror():
    torch.manual_seed(0)
    images = torch.rand(16, 1, 6, 6)
    out = crop_and_flip(images, pad=2, mode="reflect")
    for image, result in zip(images, out):
        windows = []
        for source in (image, image.flip(2)):
            padded = np.pad(source.numpy(), ((0, 0), (2, 2), (2, 2)), mode="reflect")
            windows += [padded[:, dy : dy + 6, dx : dx + 6] for dy in range(5) for dx in range(5)]
        assert any(np.array_equal(w, result.numpy()) for w in windows)


def test_equalize_is_the_rank_share_of_each_pixel():
    images = torch.rand(3, 2, 5, 5)
    out = _equalize(images)
    for n in range(3):
        for c in range(2):
            flat = images[n, c].flatten().numpy()
            expected = np.array([(flat <= v).sum() / flat.size for v in flat]).reshape(5, 5)
            np.testing.assert_allclose(out[n, c].numpy(), expected, rtol=0, atol=1e-7)


def test_colour_operations_match_their_definitions():
    images = torch.rand(4, 1, 5, 5)
    magnitude = torch.tensor([0.0, 0.3, 0.6, 1.0])
    solarized = _color(images, "solarize", magnitude)
    for i, t in enumerate(magnitude.tolist()):
        expected = np.where(images[i].numpy() >= t, 1 - images[i].numpy(), images[i].numpy())
        np.testing.assert_allclose(solarized[i].numpy(), expected)
    posterized = _color(images, "posterize", magnitude)
    for i, bits in enumerate([4, 5, 6, 8]):
        levels = np.floor(images[i].numpy() * 255 / 2 ** (8 - bits)) * 2 ** (8 - bits) / 255
        np.testing.assert_allclose(posterized[i].numpy(), levels, atol=1e-6)
    brightness = _color(images, "brightness", magnitude)
    np.testing.assert_allclose(brightness[3].numpy(), np.clip(images[3].numpy() * 1.95, 0, 1), atol=1e-6)


@pytest.mark.parametrize("kind", COLOR_OPS)
def test_colour_operations_keep_the_range(kind):
    out = _color(torch.rand(5, 3, 6, 6), kind, torch.rand(5))
    assert out.shape == (5, 3, 6, 6) and out.min() >= 0 and out.max() <= 1


def test_cutout_fills_one_square_per_image():
    torch.manual_seed(1)
    out = cutout(torch.zeros(8, 1, 10, 10), fraction=0.3, fill=1.0)
    for image in out[:, 0]:
        rows, cols = torch.nonzero(image, as_tuple=True)
        assert len(rows) == 9 and int(rows.max() - rows.min()) == 2 and int(cols.max() - cols.min()) == 2


def test_images_draw_their_own_operations():
    torch.manual_seed(2)
    images = torch.rand(1, 1, 12, 12).expand(32, 1, 12, 12)
    out = rand_augment(images, cutout_fraction=0.0 + 1 / 12)
    distinct = {tuple(o.flatten().tolist()) for o in out}
    assert len(distinct) > 16 and out.min() >= 0 and out.max() <= 1


def test_rand_augment_rejects_a_bad_operation_count():
    with pytest.raises(ValueError, match="ops_per_image must lie in"):
        rand_augment(torch.rand(2, 1, 8, 8), ops_per_image=len(COLOR_OPS) + len(GEOMETRIC_OPS) + 1)
