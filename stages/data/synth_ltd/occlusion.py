"""Occlusion in the synthetic LTD frames: which share of each box is visible, and which boxes are annotated.

A box is hidden where it leaves the frame, where the foreground mast stands and where a nearer object covers it
(only the central part of the nearer box counts). Objects less than MIN_VISIBLE visible are not annotated; the
others carry flag 1 when at least CLEAR_VISIBLE of them is visible, else 0 (occluded / uncertain).
"""
from __future__ import annotations

import numpy as np

from stages.data.synth_ltd.geometry import H, POLE_X, W
from stages.data.synth_ltd.motion import Obj

MIN_VISIBLE = 0.3                  # annotated only if this share of the box is not hidden (frame edge, mast, nearer)
CLEAR_VISIBLE = 0.8                # flag 1 if at least this share is visible, else 0 (occluded / uncertain)
OCCLUDER_SHRINK = 0.8              # a nearer object hides this central share (per side) of its box


def intrinsic_visible(b: np.ndarray) -> np.ndarray:
    """Share of each box (N, 4) inside the frame and not behind the mast."""
    x0, y0, x1, y1 = b.T
    cx0, cx1 = np.clip(x0, 0, W), np.clip(x1, 0, W)
    ch = np.clip(y1, 0, H) - np.clip(y0, 0, H)
    pole = np.clip(np.minimum(cx1, POLE_X[1]) - np.maximum(cx0, POLE_X[0]), 0, None)
    return (cx1 - cx0 - pole) * ch / ((x1 - x0) * (y1 - y0))


def visible_share(box, nearer: list) -> float:
    """Share of ``box`` not outside the frame, behind the mast, or behind the (shrunk) boxes ``nearer``."""
    x0, y0, x1, y1 = box
    cover = np.zeros((y1 - y0, x1 - x0), bool)
    cover[:, :max(0, -x0)] = True
    cover[:, max(0, W - x0):] = True
    cover[:max(0, -y0)] = True
    cover[max(0, H - y0):] = True
    cover[:, max(0, POLE_X[0] - x0):max(0, POLE_X[1] - x0)] = True
    for a0, b0, a1, b1 in nearer:
        dx, dy = (a1 - a0) * (1 - OCCLUDER_SHRINK) / 2, (b1 - b0) * (1 - OCCLUDER_SHRINK) / 2
        cx0, cx1 = max(x0, int(a0 + dx)), min(x1, int(a1 - dx))
        cy0, cy1 = max(y0, int(b0 + dy)), min(y1, int(b1 - dy))
        if cx0 < cx1 and cy0 < cy1:
            cover[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0] = True
    return 1.0 - float(cover.mean())


def annotate_clip(objs: list[Obj], n_frames: int) -> tuple[list, int]:
    """Per frame: (objects far to near, [(object, flag)] annotated), and the number of hidden object-frames."""
    frames, hidden = [], 0
    for t in range(n_frames):
        here = sorted((o for o in objs if t in o.boxes), key=lambda o: -o.depth[t])
        ann = []
        for i, o in enumerate(here):
            vis = visible_share(o.boxes[t], [n.boxes[t] for n in here[i + 1:] if n is not o.partner])
            if vis >= MIN_VISIBLE:
                ann.append((o, int(vis >= CLEAR_VISIBLE)))
            else:
                hidden += 1
        frames.append((here, ann))
    return frames, hidden
