"""Batched image augmentations written with torch operations (no torchvision, no PIL).

``crop_and_flip`` is the standard weak augmentation (random translation by padding and cropping,
random horizontal flip). ``rand_augment`` is FixMatch's strong augmentation: RandAugment with two
operations per image at random magnitudes (Sohn et al. 2020, "RA" variant), followed by Cutout.
Every image of a batch draws its own operations and magnitudes; each operation is applied to the
whole batch and kept where drawn, so there is no Python loop over images. Images are (N, C, H, W)
in [0, 1].
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["crop_and_flip", "rand_augment", "cutout", "COLOR_OPS", "GEOMETRIC_OPS"]

COLOR_OPS = ("identity", "autocontrast", "brightness", "color", "contrast", "equalize", "posterize", "sharpness", "solarize")
GEOMETRIC_OPS = ("rotate", "shear_x", "shear_y", "translate_x", "translate_y")


def crop_and_flip(images: torch.Tensor, pad: int, *, flip: bool = True, mode: str = "constant") -> torch.Tensor:
    """Random crops of the ``pad``-padded images (a translation by up to ``pad`` pixels) and, with
    ``flip``, random horizontal flips.

    Example:
        >>> crop_and_flip(torch.rand(5, 1, 8, 8), pad=1).shape
        torch.Size([5, 1, 8, 8])
    """
    n, c, h, w = images.shape
    if flip:
        flipped = torch.rand(n, device=images.device) < 0.5
        images = torch.where(flipped[:, None, None, None], images.flip(3), images)
    padded = F.pad(images, (pad, pad, pad, pad), mode=mode)
    dy, dx = torch.randint(0, 2 * pad + 1, (2, n), device=images.device)
    rows = (dy[:, None] + torch.arange(h, device=images.device))[:, None, :, None]  # (n, 1, h, 1)
    cols = (dx[:, None] + torch.arange(w, device=images.device))[:, None, None, :]  # (n, 1, 1, w)
    batch = torch.arange(n, device=images.device)[:, None, None, None]
    return padded[batch, torch.arange(c, device=images.device)[None, :, None, None], rows, cols]


def _gray(images: torch.Tensor) -> torch.Tensor:
    if images.shape[1] != 3:
        return images.mean(dim=1, keepdim=True)
    weights = images.new_tensor([0.299, 0.587, 0.114])[None, :, None, None]
    return (images * weights).sum(dim=1, keepdim=True)


def _blend(images: torch.Tensor, other: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return (other + factor[:, None, None, None] * (images - other)).clamp(0, 1)


def _autocontrast(images: torch.Tensor) -> torch.Tensor:
    low = images.amin(dim=(2, 3), keepdim=True)
    high = images.amax(dim=(2, 3), keepdim=True)
    scale = torch.where(high > low, 1 / (high - low).clamp_min(1e-12), torch.ones_like(high))
    return torch.where(high > low, (images - low) * scale, images)


def _equalize(images: torch.Tensor) -> torch.Tensor:
    """Each pixel becomes the share of its channel's pixels at or below it (a histogram equalisation)."""
    n, c, h, w = images.shape
    flat = images.reshape(n * c, h * w)
    ordered = flat.sort(dim=1).values
    return (torch.searchsorted(ordered, flat, right=True).to(images.dtype) / (h * w)).reshape(n, c, h, w)


def _color(images: torch.Tensor, kind: str, magnitude: torch.Tensor) -> torch.Tensor:
    """One colour operation at per-image magnitudes in [0, 1]."""
    factor = 0.05 + 1.9 * magnitude  # enhancement factors in [0.05, 1.95], as in FixMatch
    if kind == "identity":
        return images
    if kind == "autocontrast":
        return _autocontrast(images)
    if kind == "brightness":
        return _blend(images, torch.zeros_like(images), factor)
    if kind == "color":
        return _blend(images, _gray(images).expand_as(images), factor)
    if kind == "contrast":
        return _blend(images, _gray(images).mean(dim=(1, 2, 3), keepdim=True).expand_as(images), factor)
    if kind == "equalize":
        return _equalize(images)
    if kind == "posterize":
        step = 2.0 ** (8 - (4 + torch.round(4 * magnitude)))[:, None, None, None]  # keep 4 to 8 bits
        return torch.floor(images * 255 / step) * step / 255
    if kind == "sharpness":
        kernel = images.new_tensor([[1, 1, 1], [1, 5, 1], [1, 1, 1]]) / 13
        smooth = F.conv2d(F.pad(images, (1, 1, 1, 1), mode="replicate"), kernel.expand(images.shape[1], 1, 3, 3), groups=images.shape[1])
        return _blend(images, smooth, factor)
    if kind == "solarize":
        threshold = magnitude[:, None, None, None]
        return torch.where(images >= threshold, 1 - images, images)
    raise ValueError(f"unknown colour operation {kind!r}")


def _affine(chosen: dict[str, torch.Tensor], magnitude: dict[str, torch.Tensor], n: int, device, dtype) -> torch.Tensor:
    """Per-image (n, 2, 3) affine matrices in normalised coordinates for the drawn geometric operations."""
    matrix = torch.eye(3, device=device, dtype=dtype).repeat(n, 1, 1)
    for kind in GEOMETRIC_OPS:
        sign = torch.where(torch.rand(n, device=device) < 0.5, -1.0, 1.0).to(dtype)
        value = sign * magnitude[kind] * chosen[kind]
        step = torch.eye(3, device=device, dtype=dtype).repeat(n, 1, 1)
        if kind == "rotate":
            angle = value * math.radians(30)
            step[:, 0, 0], step[:, 0, 1] = torch.cos(angle), -torch.sin(angle)
            step[:, 1, 0], step[:, 1, 1] = torch.sin(angle), torch.cos(angle)
        elif kind == "shear_x":
            step[:, 0, 1] = 0.3 * value
        elif kind == "shear_y":
            step[:, 1, 0] = 0.3 * value
        elif kind == "translate_x":
            step[:, 0, 2] = 2 * 0.3 * value  # up to 30 % of the width; the grid spans 2
        else:
            step[:, 1, 2] = 2 * 0.3 * value
        matrix = step @ matrix
    return matrix[:, :2]


def cutout(images: torch.Tensor, fraction: float = 0.5, fill: float = 0.5) -> torch.Tensor:
    """Fill one random square of side ``fraction`` × the image side per image with ``fill``.

    Example:
        >>> out = cutout(torch.zeros(2, 1, 8, 8))
        >>> [int((img == 0.5).sum()) for img in out]
        [16, 16]
    """
    n, _, h, w = images.shape
    side_y, side_x = max(1, round(h * fraction)), max(1, round(w * fraction))
    top = torch.randint(0, h - side_y + 1, (n,), device=images.device)
    left = torch.randint(0, w - side_x + 1, (n,), device=images.device)
    rows = torch.arange(h, device=images.device)[None, :, None]
    cols = torch.arange(w, device=images.device)[None, None, :]
    inside = (rows >= top[:, None, None]) & (rows < (top + side_y)[:, None, None])
    inside = inside & (cols >= left[:, None, None]) & (cols < (left + side_x)[:, None, None])
    return torch.where(inside[:, None], torch.full_like(images, fill), images)


def rand_augment(images: torch.Tensor, ops_per_image: int = 2, *, cutout_fraction: float = 0.5) -> torch.Tensor:
    """FixMatch's strong augmentation: ``ops_per_image`` distinct random operations per image, each
    at a random magnitude, then Cutout.

    The drawn colour operations are applied first (in a fixed order) and the geometric ones are
    composed into one affine warp; the set of operations and magnitudes per image is RandAugment's.

    Example:
        >>> torch.manual_seed(0) and None
        >>> out = rand_augment(torch.rand(6, 1, 16, 16))
        >>> out.shape, bool(out.min() >= 0 and out.max() <= 1)
        (torch.Size([6, 1, 16, 16]), True)
    """
    n = images.shape[0]
    names = COLOR_OPS + GEOMETRIC_OPS
    if not 0 < ops_per_image <= len(names):
        raise ValueError(f"ops_per_image must lie in [1, {len(names)}]; got {ops_per_image}.")
    picks = torch.rand(n, len(names), device=images.device).argsort(dim=1)[:, :ops_per_image]  # distinct ops per image
    chosen = torch.zeros(n, len(names), dtype=torch.bool, device=images.device).scatter_(1, picks, True)
    magnitudes = torch.rand(n, len(names), device=images.device, dtype=images.dtype)
    out = images
    for i, kind in enumerate(COLOR_OPS):
        if chosen[:, i].any():
            out = torch.where(chosen[:, i, None, None, None], _color(out, kind, magnitudes[:, i]), out)
    geometric = {k: chosen[:, len(COLOR_OPS) + j] for j, k in enumerate(GEOMETRIC_OPS)}
    if any(bool(v.any()) for v in geometric.values()):
        size = {k: magnitudes[:, len(COLOR_OPS) + j] for j, k in enumerate(GEOMETRIC_OPS)}
        grid = F.affine_grid(_affine(geometric, size, n, images.device, images.dtype), list(images.shape), align_corners=False)
        out = F.grid_sample(out, grid, padding_mode="zeros", align_corners=False)
    return cutout(out, cutout_fraction)
