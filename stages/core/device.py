"""Device choice: the torch device a stage runs on, from the ``device`` setting of params.yaml."""
from __future__ import annotations


def pick_device(setting: str = "auto"):
    """``auto`` picks CUDA when present, else the CPU; ``cuda`` without a GPU is an error."""
    import torch

    if setting == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda requested in params.yaml but no CUDA device is available")
    if setting in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")
