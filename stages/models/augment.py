"""Train-only image augmentation of a batch, drawn per image from the loop's generator."""
from __future__ import annotations

import torch


def augment_batch(x: torch.Tensor, aug: dict, gen: torch.Generator) -> torch.Tensor:
    """Train-only augmentation (REFERENCE section 2), drawn per image but applied to the whole batch at once.

    ``x``: uint8 (B, C, H, W) on any device -> float (B, C, H, W) in [0, 255]. Per image: horizontal flip with
    probability ``hflip``, rotation by U(-rotation, rotation) degrees (bilinear, zero fill, like torchvision's
    RandomRotation), brightness factor U(1-b, 1+b), contrast factor U(1-c, 1+c) around the image mean (like
    ColorJitter), inversion with probability ``invert``. Random numbers come from ``gen`` (CPU), so the result is
    deterministic and identical on CPU and GPU.
    """
    b = len(x)
    u = torch.rand(b, 6, generator=gen).to(x.device)
    out = x.float()
    flip = u[:, 0] < aug.get("hflip", 0)
    angle = torch.deg2rad((u[:, 1] * 2 - 1) * aug.get("rotation", 0))
    if flip.any() or aug.get("rotation", 0) > 0:
        cos, sin = torch.cos(angle), torch.sin(angle)
        sx = torch.where(flip, -1.0, 1.0)
        h, w = x.shape[-2:]
        # rotation about the centre in pixel units (aspect-correct), then the flip of the output x axis
        theta = torch.stack([torch.stack([cos * sx, -sin * h / w * sx, torch.zeros_like(cos)], 1),
                             torch.stack([sin * w / h, cos, torch.zeros_like(cos)], 1)], 1)
        grid = torch.nn.functional.affine_grid(theta, list(out.shape), align_corners=False)
        out = torch.nn.functional.grid_sample(out, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    view = (b, 1, 1, 1)
    if aug.get("brightness", 0) > 0:
        out = out * (1 + (u[:, 2] * 2 - 1) * aug["brightness"]).view(view)
    if aug.get("contrast", 0) > 0:
        mean = out.mean(dim=(1, 2, 3), keepdim=True)
        out = (out - mean) * (1 + (u[:, 3] * 2 - 1) * aug["contrast"]).view(view) + mean
    out = out.clamp(0, 255)
    if aug.get("invert", 0) > 0:
        out = torch.where((u[:, 4] < aug["invert"]).view(view), 255 - out, out)
    return out


def has_augment(aug: dict) -> bool:
    return any(v > 0 for v in aug.values())
