"""Inference: a model's raw predictions (or penultimate features) on uint8 images, in eval mode and in batches."""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from stages.data.arrays import normalize


def inference_copy(model: nn.Module) -> nn.Module:
    """An eval-mode copy in channels_last memory format for inference: on the 2-core CPU 2.2x faster than the
    default layout for the quick profile's networks (measured, bench/bench_arch.py); outputs agree to ~1e-6. A
    copy, so training (which stays in the default layout: bf16 autocast backward in channels_last crashed the
    CPU build) never sees the change."""
    return copy.deepcopy(model).eval().to(memory_format=torch.channels_last)


@torch.no_grad()
def predict(model: nn.Module, images, meta: dict, device, batch_size: int = 64, features: bool = False) -> np.ndarray:
    """Raw (unrounded) predictions of ``model`` in eval mode for uint8 images (N, C, H, W); with ``features``
    its penultimate features (``model.features``) instead. Small batches: the activations of a stride-1 stem stay
    in cache (batch 64 ran 1.8x faster than 256 on the CPU)."""
    net = inference_copy(model)
    outs = []
    for i in range(0, len(images), batch_size):
        x = normalize(torch.as_tensor(np.asarray(images[i:i + batch_size])).to(device), meta)
        x = x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x
        outs.append((net.features(x) if features else net(x)).float())
    return torch.cat(outs).cpu().numpy() if outs else np.zeros(0, np.float32)
