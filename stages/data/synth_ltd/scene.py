"""The static scene of the synthetic LTD camera: the background and the foreground drawn over the objects.

The background holds the sky, a skyline across the water, the quay wall, the paved promenade, the building
closing the far end and the arcaded one on the right, and fixed warm spots (lamps, bollards, a heated ticket
machine, lit windows) that are never annotated. The foreground is a mast with cables and a bar along the top
that hide what passes behind them. Each pixel is painted as a brightness at ambient 0 and a gain per unit
ambient (:mod:`.thermal`), so one scene serves every season and hour.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from stages.data.synth_ltd.geometry import (F_PX, FAR_ROW, H, POLE_X, W, X_FACADE, X_QUAY, X_V, Z_FAR, Z_NEAR, ppm,
                                            project, right_edge_X)
from stages.data.synth_ltd.thermal import AMBIENT_RANGE, GROUND_T

CABLES = ((197, 238), (209, 266), (100, 60), (150, 170))   # foreground rigging: thin cold lines, (top x, bottom x)

# --- fixed warm clutter, never annotated (ground X, Z in metres) ---
# Warm clutter is real (a thermal camera sees every heated thing) but, as in the real footage, it is not
# person-shaped and not brighter than people: squat, wide or high up, so that at the model's 72 x 96 input an
# upright warm blob on the promenade is a person (the Original must count them, Retrain must ignore them).
LAMP_Z = (15.0, 24.0, 36.0)        # lamp posts on the quay with warm heads (4.4-4.8 m up, above any person)
LAMP_T = 185.0                     # lamp head brightness (people are warmer)
BOLLARDS = ((X_QUAY + 0.35, 15.5), (X_QUAY + 0.35, 19.0), (X_QUAY + 0.35, 26.0),   # (X, Z): squat stone bollards
            (X_QUAY + 0.35, 31.0), (X_QUAY + 0.35, 40.0))                       # along the quay edge, sun-warmed
BOLLARD_WH = (0.5, 0.45)           # width, height (m): wider than tall
TICKET_MACHINE = (14.2, 20.5)      # heated cabinet against the arcade: wide and low, cooler than a person
TICKET_WH, TICKET_T = (1.4, 1.0), 160.0
WINDOW_WH = (1.6, 1.0)             # window width (along the wall), height (m): landscape, high up
WINDOW_T = 150.0                   # lit/heated window brightness (people are warmer)
BENCH_Z = (25.0, 31.0)             # benches along the arcade
WARM_WINDOW_P = 0.15               # share of lit/heated windows

WATER_FAR = 200.0                  # depth (m) to which the quay edge and the water are drawn
Z_EDGE = X_FACADE * F_PX / (W - X_V)   # the right building leaves the view nearer than this depth
_ROWS = np.arange(H, dtype=np.float32)[:, None]   # row index of every pixel, as a column


@dataclass
class Scene:
    base: np.ndarray      # float32 (H, W) brightness at ambient 0
    gain: np.ndarray      # float32 (H, W) brightness change per unit ambient, in units of AMBIENT_RANGE
    fg_alpha: np.ndarray  # foreground (mast, cables, top bar) opacity, drawn over the objects
    fg_base: np.ndarray
    fg_gain: np.ndarray

    def background(self, a: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(background with foreground, foreground keep factor, foreground term) at ambient ``a``."""
        bg = self.base + self.gain * (AMBIENT_RANGE * a)
        fg = self.fg_alpha * (self.fg_base + self.fg_gain * (AMBIENT_RANGE * a))
        keep = 1.0 - self.fg_alpha
        return bg * keep + fg, keep, fg


class _Canvas:
    """Paints polygons/lines with a value and an ambient gain into two float maps."""

    def __init__(self):
        self.base = np.zeros((H, W), np.float32)
        self.gain = np.zeros((H, W), np.float32)

    def poly(self, pts, value, gain):
        p = [np.round(np.asarray(pts, np.float64) * 16).astype(np.int32)]
        cv2.fillPoly(self.base, p, float(value), cv2.LINE_8, 4)
        cv2.fillPoly(self.gain, p, float(gain), cv2.LINE_8, 4)

    def mask(self, pts) -> np.ndarray:
        m = np.zeros((H, W), np.float32)
        cv2.fillPoly(m, [np.round(np.asarray(pts, np.float64) * 16).astype(np.int32)], 1.0, cv2.LINE_8, 4)
        return m

    def line(self, p0, p1, value, gain, thickness=1):
        a = tuple(int(round(v * 16)) for v in p0)
        b = tuple(int(round(v * 16)) for v in p1)
        cv2.line(self.base, a, b, float(value), max(1, int(round(thickness))), cv2.LINE_8, 4)
        cv2.line(self.gain, a, b, float(gain), max(1, int(round(thickness))), cv2.LINE_8, 4)

    def upright(self, X, Z, w, h0, h1, value, gain):
        """A rectangle facing the camera at (X, Z), w metres wide, from height h0 to h1."""
        (xl, yb), (xr, yt) = project(X - w / 2, Z, h0), project(X + w / 2, Z, h1)
        self.poly([(xl, yb), (xr, yb), (xr, yt), (xl, yt)], value, gain)

    def facade(self, X, z0, z1, h0, h1, value, gain):
        """A rectangle on the wall X = const (parallel to Z) from depth z0 to z1."""
        self.poly([project(X, z0, h0), project(X, z1, h0), project(X, z1, h1), project(X, z0, h1)], value, gain)


def _smooth_noise(rng, shape_lo, sd) -> np.ndarray:
    lo = rng.normal(0, sd, shape_lo).astype(np.float32)
    return cv2.resize(lo, (W, H), interpolation=cv2.INTER_CUBIC)


def build_scene(seed: int) -> Scene:
    """The scene of ``seed``: the background painted back to front, then the foreground.

    The painting order is also the order of the random draws, so the same seed gives the same scene."""
    rng = np.random.default_rng([seed, 0])
    c = _Canvas()
    quay_z = np.geomspace(Z_NEAR, WATER_FAR, 40)                   # depths along the quay edge
    _paint_sky(c)
    _paint_skyline(c, rng)
    _paint_water(c, rng)
    _paint_quay_wall(c, quay_z)
    _paint_promenade(c, rng)
    _paint_far_building(c, rng)
    _paint_right_building(c, rng)
    _paint_quay_furniture(c, quay_z)
    _paint_clutter(c)
    base, gain = _apply_optics(c, rng)
    alpha, fg_base, fg_gain = _foreground()
    return Scene(base.astype(np.float32), gain.astype(np.float32), alpha, fg_base.astype(np.float32),
                 fg_gain.astype(np.float32))


def _paint_sky(c: _Canvas) -> None:
    """Cold sky, warmer toward the horizon; it sets the whole canvas, the rest is painted over it."""
    c.base[:] = 22 + 18 * np.clip(_ROWS / 60, 0, 1)
    c.gain[:] = 0.3


def _paint_skyline(c: _Canvas, rng) -> None:
    """Buildings of random width and height across the water, each with two lit windows."""
    x = 0.0
    while x < 70:
        w = rng.uniform(8, 20)
        top = rng.uniform(20, 50)
        c.poly([(x, top), (x + w, top), (x + w, 60), (x, 60)], rng.uniform(70, 110), 0.8)
        for _ in range(2):
            wx, wy = rng.uniform(x + 1, x + w - 2), rng.uniform(top + 2, 56)
            c.poly([(wx, wy), (wx + 2, wy), (wx + 2, wy + 2), (wx, wy + 2)], 170, 0.2)
        x += w


def _paint_water(c: _Canvas, rng) -> None:
    """Water left of the quay edge, with ripples and grazing reflections far away."""
    q_far, q_near = project(X_QUAY, WATER_FAR), project(X_QUAY, Z_NEAR)
    water = [(0, 57), (q_far[0], 57), q_near, (0, H + 20)]
    c.poly(water, 42, 0.45)
    ripples = cv2.resize(rng.normal(0, 7, (H // 2, W // 24)).astype(np.float32), (W, H), interpolation=cv2.INTER_CUBIC)
    c.base += c.mask(water) * (ripples + 14 * np.clip(1 - (_ROWS - 57) / 120, 0, 1))


def _paint_quay_wall(c: _Canvas, quay_z) -> None:
    """The quay wall: a 1.5 m face below the quay edge."""
    edge = [project(X_QUAY, z) for z in quay_z]
    wall = [project(X_QUAY, z, -1.5) for z in quay_z]
    c.poly(edge + wall[::-1], 82, 0.9)


def _paint_promenade(c: _Canvas, rng) -> None:
    """The paved ground between the quay edge and the buildings: uneven warmth, warmer near, paving seams."""
    ground = [project(X_QUAY, Z_FAR), project(X_FACADE, Z_FAR), project(X_FACADE, Z_EDGE), (W, H + 20),
              project(X_QUAY, Z_NEAR)]
    c.poly(ground, GROUND_T, 1.0)
    warmth = _smooth_noise(rng, (9, 12), 4.0) + 12 * np.clip((_ROWS - FAR_ROW) / (H - FAR_ROW), 0, 1)
    c.base += c.mask(ground) * warmth
    for X in np.arange(X_QUAY + 2, X_FACADE, 2.0):
        c.line(project(X, Z_FAR), project(X, Z_NEAR), GROUND_T - 7, 1.0)
    for Z in np.arange(14.0, Z_FAR, 4.0):
        c.line(project(X_QUAY, Z), project(min(X_FACADE, right_edge_X(Z) + 1), Z), GROUND_T - 7, 1.0)


def _window_look(rng) -> tuple[float, float]:
    """(brightness, gain) of one window: lit/heated with probability WARM_WINDOW_P, else cold."""
    warm = rng.random() < WARM_WINDOW_P
    return (WINDOW_T, 0.15) if warm else (60, 0.3)


def _paint_far_building(c: _Canvas, rng) -> None:
    """The building closing the far end: its dark arcade with pillars, two rows of windows (some warm)."""
    c.upright((X_QUAY + X_FACADE) / 2, Z_FAR, X_FACADE - X_QUAY + 3, 0, 11, 100, 0.85)
    c.upright((X_QUAY + X_FACADE) / 2, Z_FAR, X_FACADE - X_QUAY + 3, 0, 3, 58, 0.5)      # its dark arcade
    for X in np.arange(X_QUAY - 1, X_FACADE + 1.5, 3.0):
        c.upright(X, Z_FAR, 0.6, 0, 3, 105, 0.85)
    for h0 in (4.2, 7.2):
        for X in np.arange(X_QUAY - 0.5, X_FACADE + 1, 2.2):
            c.upright(X, Z_FAR, WINDOW_WH[0], h0, h0 + WINDOW_WH[1], *_window_look(rng))


def _paint_right_building(c: _Canvas, rng) -> None:
    """The arcaded building on the right: arcade with pillars, two rows of windows (some warm), warm lamps."""
    near = Z_EDGE * 0.8
    c.facade(X_FACADE, near, Z_FAR, 0, 10.5, 105, 0.85)
    c.facade(X_FACADE, near, Z_FAR, 0, 3.2, 68, 0.6)              # arcade
    for Z in np.arange(Z_FAR - 0.3, near, -4.0):
        c.facade(X_FACADE, Z - 0.6, Z, 0, 3.2, 110, 0.85)         # arcade pillars
    for h0 in (4.2, 7.2):
        for Z in np.arange(Z_FAR - 1.5, near, -2.5):
            c.facade(X_FACADE, Z - WINDOW_WH[0], Z, h0, h0 + WINDOW_WH[1], *_window_look(rng))
    for Z in rng.uniform(Z_EDGE, Z_FAR - 2, 3):                    # warm lamps inside the arcade
        c.facade(X_FACADE, Z - 0.4, Z, 2.5, 2.9, 195, 0.1)


def _paint_quay_furniture(c: _Canvas, quay_z) -> None:
    """Railing posts and rail along the quay edge, lamp posts with warm heads."""
    for Z in np.arange(Z_NEAR + 1, Z_FAR, 2.0):
        c.line(project(X_QUAY + 0.1, Z), project(X_QUAY + 0.1, Z, 1.0), 62, 0.5, 0.06 * ppm(Z))
    rail = [project(X_QUAY + 0.1, z, 1.0) for z in quay_z[quay_z <= Z_FAR]]
    for p0, p1 in zip(rail[:-1], rail[1:]):
        c.line(p0, p1, 62, 0.5, 0.06 * ppm(Z_NEAR * 2))
    for Z in LAMP_Z:
        c.line(project(X_QUAY + 0.5, Z), project(X_QUAY + 0.5, Z, 4.5), 70, 0.5, max(1.0, 0.12 * ppm(Z)))
        c.upright(X_QUAY + 0.5, Z, 0.5, 4.4, 4.8, LAMP_T, 0.1)


def _paint_clutter(c: _Canvas) -> None:
    """Squat warm things on the promenade: bollards, the ticket machine, benches."""
    for X, Z in BOLLARDS:
        c.upright(X, Z, BOLLARD_WH[0], 0, BOLLARD_WH[1], GROUND_T + 30, 1.0)
    c.upright(*TICKET_MACHINE, TICKET_WH[0], 0, TICKET_WH[1], TICKET_T, 0.2)
    for Z in BENCH_Z:
        c.upright(13.9, Z, 1.6, 0.2, 0.5, GROUND_T + 22, 0.9)


def _apply_optics(c: _Canvas, rng) -> tuple[np.ndarray, np.ndarray]:
    """(base, gain) of the painted background after weathering texture, vignetting and the optics' blur."""
    r2 = ((np.arange(W) - W / 2) / (W / 2))[None, :] ** 2 + ((_ROWS - H / 2) / (H / 2)) ** 2
    texture = _smooth_noise(rng, (36, 48), 3.0)                     # weathering, uneven heating
    base = cv2.GaussianBlur(c.base + texture - 8 * r2.astype(np.float32), (0, 0), 0.7)   # optics blur, vignetting
    gain = cv2.GaussianBlur(c.gain, (0, 0), 0.7)
    return base, gain


def _foreground() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(opacity, base, gain) of the foreground: the mast, a bar along the top and thin cold cables."""
    f = _Canvas()
    alpha = np.zeros((H, W), np.float32)
    cols = np.arange(*POLE_X)
    shade = 112 + 18 * np.cos(np.linspace(-1.3, 1.3, len(cols)))
    f.base[:, cols] = shade[None, :]
    f.gain[:, cols] = 0.5
    alpha[:, cols] = 1.0
    f.base[:5], f.gain[:5], alpha[:5] = 128, 0.4, 1.0
    for x0, x1 in CABLES:
        m = np.zeros((H, W), np.float32)
        cv2.line(m, (x0, 0), (x1, H - 1), 0.8, 1, cv2.LINE_AA)
        f.base = np.where(m > 0, 20.0, f.base)
        f.gain = np.where(m > 0, 0.2, f.gain)
        alpha = np.maximum(alpha, m)
    return alpha, f.base, f.gain
