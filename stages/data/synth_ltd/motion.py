"""An object of the synthetic LTD scene and its motion: ground position over time and its box in the frame.

An object moves at constant velocity on the ground from its birth position, with a small sinusoidal sway
(gait, shifting weight); its annotated box follows from the camera geometry, never smaller than a few pixels
so that far objects stay visible blobs after the model's downscaling.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from stages.data.synth_ltd.geometry import CAM_H, F_PX, X_V, Y_V

SIZE_M = {  # (width range, height range) in metres of the annotated box
    "human": ((0.45, 0.6), (1.6, 1.9)),
    "rider": ((0.45, 0.6), (1.45, 1.6)),
    "bicycle": ((0.75, 0.95), (0.65, 0.8)),
    "motorcycle": ((0.9, 1.15), (0.75, 0.95)),
    "vehicle": ((3.8, 5.0), (1.45, 1.8)),   # oblique side view: 50-150 px wide in the vehicle zone
}
MIN_PX = {"human": (5, 14), "bicycle": (10, 8), "motorcycle": (10, 8)}   # smallest box (w, h) px: far objects
                                   # stay visible blobs after the model's 4x downscaling
RIDER_ELEV = {"bicycle": 0.35, "motorcycle": 0.45}   # rider box bottom above the ground (m): sits on the bike box


@dataclass
class Obj:
    cls: str                  # annotation class
    sprite: str               # sprite name ('human': walkers alternate human_walk / human_stand poses)
    t0: float                 # birth time (s, clip time)
    life: float               # seconds in view
    start: np.ndarray         # (X, Z) at birth
    vel: np.ndarray           # (vX, vZ) m/s
    w: float                  # box size (m)
    h: float
    elev: float = 0.0         # box bottom above the ground (riders)
    warmth: float = 0.0       # brightness above the ground (body brightness for people)
    flip: bool = False        # mirror the sprite (facing left)
    sway: tuple = (0.0, 1.0, 0.0, 0.0)   # amplitude (m), period (s), phase, direction angle of the sway
    depth_bias: float = 0.0   # drawing order tie-break (rider behind its bike)
    partner: Obj | None = None  # a rider's bike: it does not count as occluding the rider
    boxes: dict = field(default_factory=dict)   # t -> (x0, y0, x1, y1) integer box (unclipped), clip frames only
    depth: dict = field(default_factory=dict)   # t -> Z (+ depth_bias) for the drawing order

    def xz(self, ts: np.ndarray) -> np.ndarray:
        """Ground positions (X, Z) at the times ``ts``, shape (len(ts), 2)."""
        tau = ts - self.t0
        amp, period, phase, ang = self.sway
        s = amp * np.sin(2 * np.pi * tau / period + phase)
        across = np.array([math.cos(ang), math.sin(ang)])
        return self.start[None, :] + tau[:, None] * self.vel[None, :] + s[:, None] * across[None, :]

    def alive(self, t0: int, t1: int) -> np.ndarray:
        """Integer times in [t0, t1) at which the object exists."""
        return np.arange(max(t0, math.ceil(self.t0)), min(t1, math.ceil(self.t0 + self.life)))

    def box_at(self, ts: np.ndarray) -> np.ndarray:
        """Integer boxes (x0, y0, x1, y1), shape (len(ts), 4); may extend beyond the frame."""
        X, Z = self.xz(ts).T
        p = F_PX / Z
        min_w, min_h = MIN_PX.get(self.cls, (1, 1))
        w, h = np.maximum(np.rint(self.w * p), min_w), np.maximum(np.rint(self.h * p), min_h)
        x0 = np.rint(X_V + X * p - w / 2)
        y1 = np.rint(Y_V + (CAM_H - self.elev) * p)
        return np.stack([x0, y1 - h, x0 + w, y1], 1).astype(int)
