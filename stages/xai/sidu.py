"""SIDU (Similarity Difference and Uniqueness) heatmaps, batched for speed.

For an input x and a layer with post-ReLU feature maps A (N channels, h x w), following
REFERENCE.md section 4 (Muddamsetty et al. 2022):

1. B_k = 1[A_k > threshold];  M_k = bilinear upsample of B_k to the input size (``align_corners=False``);
2. P = f(x), P_k = f(x * M_k) (the mask multiplies the already-normalised input);
3. SD_k = exp(-(P - P_k)^2 / (2 sigma^2)) on the scalar output (regression) or on the softmax
   probability of the ``target`` class (classification);
4. U_k = sum_j ||P_k - P_j||_2 (absolute difference for a scalar output, L2 norm of the probability
   vectors for classification), min-max normalised over k with epsilon 1e-13;
5. S = (1/N) sum_k SD_k U_k M_k.  Unlike the Keras reference we do NOT divide by 0.5 (a constant factor).

Speed: the (image, mask) pairs of all images are flattened into one work list that goes through the model
in chunks of ``batch_size`` (masks are built on the fly per chunk, so memory is bounded by ``batch_size``,
not by N); outputs stay on the device and only the final heatmaps are copied to the host. Because
bilinear upsampling is linear, sum_k w_k M_k = upsample(sum_k w_k B_k): the heatmap is accumulated at
feature-map resolution and upsampled once. With ``dedup`` identical binary grids of the same image (e.g.
the many all-zero grids, which are legitimate inputs x * 0) go through the model once and their output is
scattered back, which changes nothing in the result. Uniqueness costs O(N log N) per image for a scalar
output (sorting) and a chunked ``torch.cdist`` for probability vectors.
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from stages.core import progress
from stages.core.config import Bool, Float, ParamError, Section, Str
from stages.xai import base

EPS = 1e-13  # min-max normalisation epsilon of the reference code
_WORD = 62  # bits packed per int64 word when de-duplicating grids (stays clear of the sign bit)


def feature_grids(model: nn.Module, images: torch.Tensor, layer: nn.Module, threshold: float,
                  batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One plain forward pass (in chunks of ``batch_size``) capturing ``layer``'s output with a hook.

    Returns the binary grids (B, N, h, w) bool, and the outputs P (B, K) float32.
    """
    maps: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda mod, inp, out: maps.append(out > threshold))
    try:
        outs = [base.outputs(model(images[s:s + batch_size])) for s in range(0, len(images), batch_size)]
    finally:
        handle.remove()
    if len(maps) != len(outs):
        raise RuntimeError(f"layer {type(layer).__name__} ran {len(maps)} times for {len(outs)} forward passes")
    grids = torch.cat(maps)
    if grids.dim() != 4:
        raise ValueError(f"layer output must be (B, N, h, w) feature maps, got shape {tuple(grids.shape)}")
    return grids, torch.cat(outs)


def _unique_jobs(grids: torch.Tensor, dedup: bool):
    """Work list over the flattened (image, grid) pairs (B*N rows).

    Returns (rep, inverse): ``rep`` (M,) indexes the representative row of each job, ``inverse`` (B*N,)
    maps each row to its job. Without dedup every row is its own job.
    """
    B, N = grids.shape[:2]
    rows = torch.arange(B * N, device=grids.device)
    if not dedup:
        return rows, rows
    flat = grids.reshape(B * N, -1).long()
    L = flat.shape[1]
    n_words = -(-L // _WORD)
    flat = F.pad(flat, (0, n_words * _WORD - L)).view(B * N, n_words, _WORD)
    words = (flat << torch.arange(_WORD, device=grids.device)).sum(-1)  # exact bit packing
    keys = torch.cat([(rows // N)[:, None], words], 1)  # the image index keeps images apart
    uniq, inverse = torch.unique(keys, dim=0, return_inverse=True)  # the one host sync (job count)
    rep = torch.full((len(uniq),), B * N, device=grids.device).scatter_reduce_(0, inverse, rows, "amin")
    return rep, inverse


def masked_outputs(model: nn.Module, images: torch.Tensor, grids: torch.Tensor, batch_size: int,
                   dedup: bool = False, autocast: str | None = None, stats: dict | None = None) -> torch.Tensor:
    """Outputs f(x_b * M_bk) for every image b and grid k: (B, N, K) float32 on the model's device."""
    B, N, h, w = grids.shape
    H, W = images.shape[-2:]
    rep, inverse = _unique_jobs(grids, dedup)
    flat = grids.reshape(B * N, h, w)
    amp, fmt = base.amp(images.device, autocast), base.memory_format(model)
    outs = None
    for s in progress.bar(range(0, len(rep), batch_size), desc="SIDU masked images", unit="batch"):
        r = rep[s:s + batch_size]
        masks = F.interpolate(flat[r, None].to(images.dtype), size=(H, W), mode="bilinear", align_corners=False)
        x = (images[r // N] * masks).contiguous(memory_format=fmt)
        with amp:
            y = base.outputs(model(x))
        if outs is None:
            outs = y.new_empty(len(rep), y.shape[1])
        outs[s:s + len(r)] = y
    if stats is not None:
        stats.update(n_masks=N, n_forward=len(rep))
    return outs[inverse].view(B, N, -1)


def uniqueness(pk: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """U_k = sum_j ||P_k - P_j||_2 for pk (B, N, K), float64, not yet normalised.

    K = 1: O(N log N) by sorting (sum_j |x_k - x_j| from prefix sums); K > 1: ``torch.cdist`` in chunks of
    rows so that memory stays O(batch_size * N) (exact differences, not the matrix-product shortcut).
    """
    pk = pk.double()
    B, N, K = pk.shape
    if K == 1:
        s, order = pk[..., 0].sort(dim=1)
        cs = s.cumsum(1)
        r = torch.arange(N, device=pk.device, dtype=pk.dtype)
        below = s * r - (cs - s)                      # sum over the r smaller values of (x_k - x_j)
        above = (cs[:, -1:] - cs) - s * (N - 1 - r)   # sum over the larger values of (x_j - x_k)
        return torch.empty_like(s).scatter_(1, order, below + above)
    rows = max(1, batch_size // B)
    return torch.cat([torch.cdist(pk[:, i:i + rows], pk, compute_mode="donot_use_mm_for_euclid_dist").sum(-1)
                      for i in range(0, N, rows)], 1)


def sidu_weights(p: torch.Tensor, pk: torch.Tensor, sigma: float, target: torch.Tensor | None = None,
                 batch_size: int = 512) -> torch.Tensor:
    """Mask weights SD_k * U_k, (B, N) float64, from P (B, K) and P_k (B, N, K) raw model outputs.

    K = 1 (output (B,) or (B, 1)) is a regression model; K > 1 a classifier (softmax on both, explained
    class ``target`` (B,), default the argmax of P).
    """
    p, pk = p.double(), pk.double()
    if p.shape[1] == 1:
        y, yk = p[:, 0:1], pk[..., 0]
    else:
        p, pk = p.softmax(-1), pk.softmax(-1)
        c = p.argmax(1) if target is None else torch.as_tensor(target, device=p.device).long().expand(len(p))
        y = p.gather(1, c[:, None])
        yk = pk.gather(2, c[:, None, None].expand(-1, pk.shape[1], 1))[..., 0]
    sd = torch.exp(-(y - yk) ** 2 / (2 * sigma ** 2))
    u = uniqueness(pk, batch_size)
    lo, hi = u.min(1, keepdim=True).values, u.max(1, keepdim=True).values
    return sd * (u - lo) / (hi - lo + EPS)


def sidu(model: nn.Module, images: torch.Tensor, layer: nn.Module, *, threshold: float, sigma: float,
         batch_size: int, target=None, dedup: bool = False, autocast: str | None = None,
         stats: dict | None = None) -> torch.Tensor:
    """SIDU heatmaps (B, H, W) float32 (on the CPU) for normalised images (B, C, H, W).

    ``layer`` is the module whose (post-ReLU) output gives the N feature maps, e.g. ``model.layer4``.
    ``threshold`` binarises the maps, ``sigma`` is the SD kernel width in output units (regression) or in
    probability (classification), ``batch_size`` the number of masked images per forward pass. ``target``
    (int or (B,) tensor) picks the explained class of a classifier (default: argmax); ignored for a scalar
    output. ``dedup`` runs identical binary grids of an image once (exact); ``autocast`` ("none" | "bf16" |
    "fp16") runs P and the P_k in mixed precision on CUDA (ignored elsewhere; the binary grids always come from
a float32 pass, so that precision does not flip cells at the threshold). ``stats``, if given,
    receives n_masks (N) and n_forward (masked forward passes actually run).

    Heatmap = (1/N) sum_k SD_k U_k M_k (no division by the reference's constant 0.5), so 0 <= S <= 1.
    The model runs in eval mode (each submodule's mode is restored afterwards), without gradients, and the
    temporary hook is removed.
    """
    device = base.model_device(model)
    images = images.to(device, torch.float32)
    with torch.no_grad(), base.eval_mode(model):
        grids, p = feature_grids(model, images, layer, threshold, batch_size)
        if autocast not in (None, "none") and device.type == "cuda":  # P in the same precision as the P_k
            with base.amp(device, autocast):
                p = torch.cat([base.outputs(model(images[s:s + batch_size])) for s in range(0, len(images), batch_size)])
        pk = masked_outputs(model, images, grids, batch_size, dedup, autocast, stats)
        wts = sidu_weights(p, pk, sigma, target, batch_size)
        low = torch.einsum("bn,bnhw->bhw", wts, grids.to(wts.dtype)) / grids.shape[1]
        heat = F.interpolate(low[:, None], size=images.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    return heat.float().cpu()


def _layer(model: nn.Module, name: str) -> nn.Module:
    return functools.reduce(getattr, name.split("."), model)


def explain_model(model: nn.Module, images: torch.Tensor, layer_name: str, stats: dict | None = None,
                  **kw) -> torch.Tensor:
    """SIDU heatmaps of a model or of an :class:`~stages.models.resnet.Ensemble`.

    ``layer_name`` is a (dotted) attribute path, e.g. ``"layer4"``. For an ensemble the heatmap is the mean
    of the members' heatmaps, each member explained on its own output with its own layer (not the SIDU of
    the averaged prediction: the members' feature maps differ, so there is no shared set of masks).
    ``stats`` receives n_masks, members and n_forward summed over members. ``kw`` go to :func:`sidu`.
    """
    members = list(getattr(model, "members", [model]))
    heat, total = None, {"n_forward": 0}
    for m in members:
        st: dict = {}
        h = sidu(m, images, _layer(m, layer_name), stats=st, **kw)
        heat = h if heat is None else heat + h
        total.update(n_masks=st["n_masks"], n_forward=total["n_forward"] + st["n_forward"])
    if stats is not None:
        stats.update(total, members=len(members))
    return heat / len(members)


class SIDU(base.Explainer):
    """SIDU on the feature maps of ``layer`` per task (e.g. ``layer4``); ``sigma`` per task in the task's output units.
    Regression: the scalar output; classification: the true class (``target``)."""
    PARAMS = {"layer": Section(), "threshold": Section(), "dedup": Bool(), "sigma": Section()}

    def explain(self, model, images, stats, target=None):
        name = self.task.name
        if name not in self.cfg["sigma"]:
            raise ParamError(f"{self.key}.sigma.{name}: missing (the SD kernel width for this task)")
        sigma = Float(min=0, min_open=True).check(f"{self.key}.sigma.{name}", self.cfg["sigma"][name])
        if name not in self.cfg["layer"]:
            raise ParamError(f"{self.key}.layer.{name}: missing (the module whose feature maps SIDU masks with)")
        layer = Str().check(f"{self.key}.layer.{name}", self.cfg["layer"][name])
        if name not in self.cfg["threshold"]:
            raise ParamError(f"{self.key}.threshold.{name}: missing (the feature-map binarisation threshold)")
        threshold = Float().check(f"{self.key}.threshold.{name}", self.cfg["threshold"][name])
        kw = {"threshold": threshold, "dedup": self.cfg["dedup"], "sigma": sigma,
              "batch_size": self.cfg["batch_size"], "autocast": self.cfg["autocast"], "target": target}
        stats.update(sigma=sigma, threshold=threshold, layer=layer)
        try:
            return explain_model(model, images, layer, stats=stats, **kw)
        except AttributeError as e:
            raise ParamError(f"{self.key}.layer.{name} = {layer!r}: not a module of the model ({e})") from e
