"""Behaviours of the synthetic LTD objects and one birth of each: where an object appears, how it moves, how long.

People walk between the scene's boundaries (the far arcade, under the camera, the right side) or stand, alone,
in pairs or in threes; vehicles drive along the promenade or park; bikes are ridden (with a rider on them) or
parked. Every draw comes from the generator passed in, in a fixed order.
"""
from __future__ import annotations

import math

import numpy as np

from stages.data.synth_ltd.geometry import (W, X_FACADE, X_QUAY, X_V, Z_FAR, Z_NEAR, depth_of_row, ppm, project,
                                            right_edge_X)
from stages.data.synth_ltd.motion import RIDER_ELEV, SIZE_M, Obj
from stages.data.synth_ltd.thermal import HUMAN_T, HUMAN_T_SD, WARMTH

# behaviour -> (class, share of that class's mean count, speed range m/s (None: static), lifetime cap s).
# The cap is also the warm-up window simulated before a clip starts, so clips start in the steady state.
BEHAVIOURS = {
    "human_walk": ("human", 0.55, (0.8, 1.6), 120.0),
    "human_stay": ("human", 0.45, None, 600.0),
    "vehicle_drive": ("vehicle", 0.3, (2.0, 5.0), 40.0),
    "vehicle_park": ("vehicle", 0.7, None, 1800.0),
    "bicycle_ride": ("bicycle", 0.6, (2.5, 4.5), 40.0),
    "bicycle_park": ("bicycle", 0.4, None, 1800.0),
    "motorcycle_ride": ("motorcycle", 0.8, (3.0, 6.0), 30.0),
    "motorcycle_park": ("motorcycle", 0.2, None, 1800.0),
}
# mean lifetime (s) of static objects: standing people, parked vehicles and bikes
STAY_MEAN = {"human": 90.0, "vehicle": 600.0, "bicycle": 900.0, "motorcycle": 600.0}
GROUP_SIZES, GROUP_P = (1, 2, 3), (0.85, 0.12, 0.03)   # people walk/stand alone, in pairs or threes


def _dims(rng, kind):
    (w0, w1), (h0, h1) = SIZE_M[kind]
    return rng.uniform(w0, w1), rng.uniform(h0, h1)


def _boundary_point(rng, side: str) -> np.ndarray:
    """A point where people and bikes enter/leave: the far arcade, under the camera, or the right side."""
    if side == "far":
        return np.array([rng.uniform(X_QUAY + 0.6, X_FACADE - 0.6), Z_FAR])
    if side == "near":
        return np.array([rng.uniform(X_QUAY + 0.6, right_edge_X(Z_NEAR) - 0.3), Z_NEAR])
    Z = rng.uniform(Z_NEAR, Z_FAR)                                  # right: the arcade, or beyond the frame edge
    return np.array([min(X_FACADE - 0.3, right_edge_X(Z) + 0.6), Z])


def _path(rng) -> tuple[np.ndarray, np.ndarray]:
    """(entry, exit) points of a walk or ride between two different boundaries."""
    sides = ("far", "near", "right")
    i = rng.choice(3, p=(0.38, 0.34, 0.28))
    j = (i + 1 + rng.integers(2)) % 3
    return _boundary_point(rng, sides[i]), _boundary_point(rng, sides[j])


def _spot(rng, rows: tuple[float, float], margin: float) -> np.ndarray:
    """A static position on the promenade with its ground row uniform in ``rows``."""
    Z = depth_of_row(rng.uniform(*rows))
    return np.array([rng.uniform(X_QUAY + margin, max(X_QUAY + margin, min(X_FACADE, right_edge_X(Z)) - margin)), Z])


def spawn(kind: str, rng: np.random.Generator, t0: float) -> list[Obj]:
    """The objects (with riders / companions) of one birth of behaviour ``kind`` at time ``t0``."""
    cls, _, speed, cap = BEHAVIOURS[kind]
    if cls == "human":
        return _spawn_people(rng, t0, speed, cap)
    w, h = _dims(rng, cls)
    if speed is None:
        return [_spawn_parked(cls, rng, t0, cap, w, h)]
    return _spawn_ridden(cls, rng, t0, speed, cap, w, h)


def _spawn_people(rng, t0: float, speed, cap: float) -> list[Obj]:
    """A group of people standing together (``speed`` None) or walking side by side along one path."""
    g = int(rng.choice(GROUP_SIZES, p=GROUP_P))
    static = speed is None
    if static:
        p0 = _spot(rng, (112, 262), 0.9)
        life = min(cap, 5 + rng.exponential(STAY_MEAN["human"]))
        vel, u = np.zeros(2), np.array([1.0, 0.0])
    else:
        p0, p1 = _path(rng)
        v = rng.uniform(*speed)
        u = (p1 - p0) / np.linalg.norm(p1 - p0)
        vel, life = u * v, min(cap, np.linalg.norm(p1 - p0) / v)
    perp = np.array([-u[1], u[0]])
    out = []
    for k in range(g):
        off = perp * (k - (g - 1) / 2) * rng.uniform(0.6, 0.9) + u * rng.uniform(-0.3, 0.3) * (k > 0)
        w, h = _dims(rng, "human")
        sway = _sway(rng, static, perp)
        out.append(Obj("human", "human", t0, life, p0 + off, vel, w, h, warmth=rng.normal(HUMAN_T, HUMAN_T_SD),
                       flip=bool(rng.random() < 0.5), sway=sway, depth_bias=k * 1e-3))
    return out


def _sway(rng, static: bool, perp: np.ndarray) -> tuple:
    """(amplitude, period, phase, direction) of a person's sway: a slow wander while standing, else the gait's
    sway across the walking direction ``perp``."""
    if static:
        return rng.uniform(0.05, 0.25), rng.uniform(15, 40), rng.uniform(0, 2 * np.pi), rng.uniform(0, np.pi)
    return rng.uniform(0.05, 0.15), rng.uniform(6, 12), rng.uniform(0, 2 * np.pi), math.atan2(perp[1], perp[0])


def _spawn_parked(cls: str, rng, t0: float, cap: float, w: float, h: float) -> Obj:
    """A parked vehicle (mostly in view, low in the image) or bike (on the promenade) of size ``w`` x ``h``."""
    life = min(cap, 30 + rng.exponential(STAY_MEAN[cls]))
    if cls == "vehicle":
        p0 = _parking_place(rng, w)
    else:
        p0 = _spot(rng, (128, 250), 0.6)
    return Obj(cls, cls, t0, life, p0, np.zeros(2), w, h, warmth=rng.uniform(*WARMTH[cls]),
               flip=bool(rng.random() < 0.5))


def _parking_place(rng, w: float) -> np.ndarray:
    """Ground (X, Z) of a parked car ``w`` metres long, placed so that it stays mostly in view."""
    Z = depth_of_row(rng.uniform(150, 272))
    p, wpx = ppm(Z), w * ppm(Z)
    lo = max(project(X_QUAY, Z)[0] + 0.2 * wpx, 0.4 * wpx)
    cx = rng.uniform(lo, max(lo, W - 0.4 * wpx))
    return np.array([(cx - X_V) / p, Z])


def _spawn_ridden(cls: str, rng, t0: float, speed, cap: float, w: float, h: float) -> list[Obj]:
    """A driving vehicle, or a ridden bike with its rider sitting on it (the rider moves with the bike)."""
    v = rng.uniform(*speed)
    p0, p1 = _drive_path(rng) if cls == "vehicle" else _path(rng)
    d = p1 - p0
    u = d / np.linalg.norm(d)
    life = min(cap, np.linalg.norm(d) / v)
    flip = bool(u[0] < 0) if abs(u[0]) > 0.2 else bool(rng.random() < 0.5)
    hot = cls + "_hot" if cls != "bicycle" else cls
    bike = Obj(cls, hot, t0, life, p0, u * v, w, h, warmth=rng.uniform(*WARMTH[hot]), flip=flip)
    out = [bike]
    if cls in RIDER_ELEV:
        rw, rh = _dims(rng, "rider")
        out.append(Obj("human", "rider", t0, life, p0.copy(), u * v, rw, rh, elev=RIDER_ELEV[cls],
                       warmth=rng.normal(HUMAN_T, HUMAN_T_SD), flip=flip, depth_bias=1e-3, partner=bike))
    return out


def _drive_path(rng) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) of a vehicle driving along the promenade, in or out through the far arcade."""
    X = rng.uniform(6.0, 9.5)
    p0, p1 = np.array([X, Z_FAR]), np.array([X, Z_NEAR])
    if rng.random() < 0.5:
        p0, p1 = p1, p0
    return p0, p1
