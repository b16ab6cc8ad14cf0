"""Embedded generator of a synthetic stand-in for LTD (thermal harbour-front clips) in the exact LTD layout.

World model: a pinhole camera ``CAM_H`` metres above a flat promenade, looking along the ground axis Z
(metres away from the camera); X is metres to the right of the optical axis. A point (X, Z, height h)
projects to column ``X_V + X * F_PX / Z`` and row ``Y_V + (CAM_H - h) * F_PX / Z``, so objects are larger
and move faster lower in the image. The scene: water on the left of the quay edge (X < X_QUAY), an arcaded
building on the right (X = X_FACADE) and one closing the far end (Z = Z_FAR), a foreground mast with
cables that hides what passes behind it, and fixed warm spots (lamps, bollards, a heated ticket machine,
lit windows) that are never annotated.

Brightness is a temperature proxy: every scene pixel is ``base + gain * AMBIENT_RANGE * a`` where the
ambient ``a`` follows the season (warm summer -> brighter background, less contrast to people) and, less,
the time of day. People are ~body temperature, vehicles and bikes a little warmer than the ground.

Objects are born by a renewal process per behaviour (walkers, standing people, parked/driving vehicles,
ridden/parked bikes). By Little's law the mean number in view is rate x mean visible lifetime, so the
rates are calibrated by Monte Carlo to give a mean annotated count per frame of ``mean_objects`` with the
class shares of ``CLASS_SHARE``; the gamma-distributed gaps make the per-frame counts Poisson-like.
Everything is drawn from numpy Generators seeded by ``seed``: the same settings give byte-identical files.
"""
from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from stages.data.source import new_copy

W, H = 384, 288                    # LTD frame size (columns, rows)
CLASSES = ("human", "bicycle", "motorcycle", "vehicle")
JPEG_QUALITY = 90                  # fixed so that outputs are byte-identical

# --- camera and ground geometry (metres, pixels) ---
F_PX = 400.0                       # focal length (px)
CAM_H = 8.0                        # camera height: a 1.6-1.9 m person is 14 px tall far away, <= 60 px at the bottom
X_V, Y_V = 40.0, 35.0              # vanishing point (column, row) of the promenade
X_QUAY = 3.0                       # quay edge: water for X < X_QUAY
X_FACADE = 15.0                    # arcade front of the building on the right
FAR_ROW = 105.0                    # ground row of the far building: objects enter/leave through its arcade there
Z_FAR = F_PX * CAM_H / (FAR_ROW - Y_V)
Z_NEAR = F_PX * CAM_H / (H + 12 - Y_V)   # just below the bottom edge: objects leave under the camera
POLE_X = (184, 195)                # foreground mast columns [x0, x1): objects behind it are occluded
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

# --- objects ---
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
# share of each class in the mean count (riders count as humans)
CLASS_SHARE = {"human": 0.75, "vehicle": 0.17, "bicycle": 0.05, "motorcycle": 0.03}
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
ARRIVAL_SHAPE = 4.0                # births are a gamma renewal process: more regular than Poisson, which offsets
                                   # the clumping of groups and riders, so counts stay Poisson-like (var ~ mean)
MIN_VISIBLE = 0.3                  # annotated only if this share of the box is not hidden (frame edge, mast, nearer)
CLEAR_VISIBLE = 0.8                # flag 1 if at least this share is visible, else 0 (occluded / uncertain)
OCCLUDER_SHRINK = 0.8              # a nearer object hides this central share (per side) of its box
VEHICIE_P = 0.035                  # share of vehicle lines spelled 'vehicie' (the real typo)
CRLF_P = 0.3                       # share of days whose annotation files use CRLF line ends (as part of the real data)
CALIB_SAMPLES = 400                # Monte-Carlo births per behaviour to calibrate the birth rates

# --- brightness (temperature proxy, 8-bit levels) ---
AMBIENT_RANGE = 45.0               # ground brightness change per unit ambient a (a in about [-1.2, 1.2])
SEASON_AMP, PEAK_DOY = 0.8, 200    # seasonal ambient cos(2 pi (doy - PEAK_DOY) / 365.25): warmest mid July
DIURNAL_AMP, PEAK_HOUR = 0.3, 15.0  # smaller day/night ambient swing, warmest mid afternoon
WEATHER_SD = 0.08                  # per-clip ambient jitter (cloud, wind)
GROUND_T = 95.0                    # promenade brightness at a = 0
HUMAN_T, HUMAN_T_SD, HUMAN_AMB = 218.0, 8.0, 12.0   # body brightness, spread, change per unit ambient (clothes);
                                   # real LTD people are the warmest things in view, near saturation
WARMTH = {  # brightness above the ground level (uniform range) by sprite
    "vehicle": (30.0, 60.0), "vehicle_hot": (50.0, 80.0), "bicycle": (55.0, 85.0),
    "motorcycle": (40.0, 60.0), "motorcycle_hot": (65.0, 90.0),
}
NOISE_SD = 3.0                     # per-pixel sensor noise
FRAME_OFFSET_SD = 1.0              # per-frame global offset (flat-field drift)
COLUMN_SD = 1.2                    # per-clip fixed column pattern


# ------------------------------------------------------------------ geometry
def ppm(Z):
    """Pixels per metre at depth Z."""
    return F_PX / Z


def depth_of_row(y):
    return CAM_H * F_PX / (y - Y_V)


def project(X, Z, h=0.0):
    """(column, row) of ground point (X, Z) raised by h metres."""
    p = F_PX / Z
    return X_V + X * p, Y_V + (CAM_H - h) * p


def right_edge_X(Z):
    """Ground X seen at the right frame edge at depth Z."""
    return (W - X_V) * Z / F_PX


# ------------------------------------------------------------------ configuration and schedule
@dataclass
class SynthConfig:
    out: str
    seed: int
    start_date: str       # YYYYMMDD
    end_date: str
    dates: int
    clips_per_date: int
    frames_per_clip: int
    mean_objects: float


@dataclass
class Clip:
    number: int           # running clip number over the dataset (clip_<n>_<HHMM>)
    day: date
    minute: int           # start minute of the day
    crlf: bool            # annotation line ends

    @property
    def name(self) -> str:
        return f"clip_{self.number}_{self.minute // 60:02d}{self.minute % 60:02d}"

    @property
    def folder(self) -> str:
        return f"{self.day:%Y%m%d}/{self.name}"


def parse_day(text: str) -> date:
    return datetime.strptime(text, "%Y%m%d").date()


def recording_days(start: date, end: date, n: int) -> list[date]:
    """``n`` distinct days spread evenly from ``start`` to ``end`` (both included when n > 1)."""
    span = (end - start).days
    if n > span + 1:
        raise ValueError(f"{n} days do not fit between {start} and {end}")
    offsets = np.floor(np.linspace(0, span, n) + 0.5).astype(int) if n > 1 else [0]
    return [start + timedelta(days=int(o)) for o in offsets]


def schedule(cfg: SynthConfig) -> list[Clip]:
    """Clips of every day: one per equal slice of the 24 h (so day and night), random start inside it."""
    rng = np.random.default_rng([cfg.seed, 1])
    clips, n = [], 0
    for day in recording_days(parse_day(cfg.start_date), parse_day(cfg.end_date), cfg.dates):
        crlf = bool(rng.random() < CRLF_P)
        for k in range(cfg.clips_per_date):
            n += 1
            minute = int((k + rng.uniform(0.05, 0.95)) * 1440 / cfg.clips_per_date)
            clips.append(Clip(n, day, minute, crlf))
    return clips


def ambient(day: date, minute: int) -> float:
    """Ambient temperature proxy in about [-1, 1]: seasonal cycle plus a smaller day/night cycle."""
    doy = day.timetuple().tm_yday
    return (SEASON_AMP * math.cos(2 * math.pi * (doy - PEAK_DOY) / 365.25)
            + DIURNAL_AMP * math.cos(2 * math.pi * (minute / 60 - PEAK_HOUR) / 24))


# ------------------------------------------------------------------ static scene
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
    rng = np.random.default_rng([seed, 0])
    c = _Canvas()
    rows = np.arange(H, dtype=np.float32)[:, None]
    c.base[:] = 22 + 18 * np.clip(rows / 60, 0, 1)                 # cold sky, warmer toward the horizon
    c.gain[:] = 0.3
    x = 0.0                                                        # skyline across the water
    while x < 70:
        w = rng.uniform(8, 20)
        top = rng.uniform(20, 50)
        c.poly([(x, top), (x + w, top), (x + w, 60), (x, 60)], rng.uniform(70, 110), 0.8)
        for _ in range(2):
            wx, wy = rng.uniform(x + 1, x + w - 2), rng.uniform(top + 2, 56)
            c.poly([(wx, wy), (wx + 2, wy), (wx + 2, wy + 2), (wx, wy + 2)], 170, 0.2)
        x += w
    zq = np.geomspace(Z_NEAR, 200.0, 40)                           # water left of the quay edge
    q_far, q_near = project(X_QUAY, 200.0), project(X_QUAY, Z_NEAR)
    water = [(0, 57), (q_far[0], 57), q_near, (0, H + 20)]
    c.poly(water, 42, 0.45)
    ripples = cv2.resize(rng.normal(0, 7, (H // 2, W // 24)).astype(np.float32), (W, H), interpolation=cv2.INTER_CUBIC)
    c.base += c.mask(water) * (ripples + 14 * np.clip(1 - (rows - 57) / 120, 0, 1))  # grazing reflections far away
    edge = [project(X_QUAY, z) for z in zq]                        # quay wall: 1.5 m face below the edge
    wall = [project(X_QUAY, z, -1.5) for z in zq]
    c.poly(edge + wall[::-1], 82, 0.9)
    z_edge = X_FACADE * F_PX / (W - X_V)                           # the right building leaves the view nearer than this
    ground = [project(X_QUAY, Z_FAR), project(X_FACADE, Z_FAR), project(X_FACADE, z_edge), (W, H + 20),
              project(X_QUAY, Z_NEAR)]
    c.poly(ground, GROUND_T, 1.0)
    c.base += c.mask(ground) * (_smooth_noise(rng, (9, 12), 4.0) + 12 * np.clip((rows - FAR_ROW) / (H - FAR_ROW), 0, 1))
    for X in np.arange(X_QUAY + 2, X_FACADE, 2.0):                 # paving seams
        c.line(project(X, Z_FAR), project(X, Z_NEAR), GROUND_T - 7, 1.0)
    for Z in np.arange(14.0, Z_FAR, 4.0):
        c.line(project(X_QUAY, Z), project(min(X_FACADE, right_edge_X(Z) + 1), Z), GROUND_T - 7, 1.0)
    c.upright((X_QUAY + X_FACADE) / 2, Z_FAR, X_FACADE - X_QUAY + 3, 0, 11, 100, 0.85)   # far building
    c.upright((X_QUAY + X_FACADE) / 2, Z_FAR, X_FACADE - X_QUAY + 3, 0, 3, 58, 0.5)      # its dark arcade
    for X in np.arange(X_QUAY - 1, X_FACADE + 1.5, 3.0):
        c.upright(X, Z_FAR, 0.6, 0, 3, 105, 0.85)
    for h0 in (4.2, 7.2):
        for X in np.arange(X_QUAY - 0.5, X_FACADE + 1, 2.2):
            warm = rng.random() < WARM_WINDOW_P
            c.upright(X, Z_FAR, WINDOW_WH[0], h0, h0 + WINDOW_WH[1], WINDOW_T if warm else 60, 0.15 if warm else 0.3)
    c.facade(X_FACADE, z_edge * 0.8, Z_FAR, 0, 10.5, 105, 0.85)
    c.facade(X_FACADE, z_edge * 0.8, Z_FAR, 0, 3.2, 68, 0.6)      # arcade
    for Z in np.arange(Z_FAR - 0.3, z_edge * 0.8, -4.0):
        c.facade(X_FACADE, Z - 0.6, Z, 0, 3.2, 110, 0.85)         # arcade pillars
    for h0 in (4.2, 7.2):
        for Z in np.arange(Z_FAR - 1.5, z_edge * 0.8, -2.5):
            warm = rng.random() < WARM_WINDOW_P
            c.facade(X_FACADE, Z - WINDOW_WH[0], Z, h0, h0 + WINDOW_WH[1], WINDOW_T if warm else 60, 0.15 if warm else 0.3)
    for Z in rng.uniform(z_edge, Z_FAR - 2, 3):                    # warm lamps inside the arcade
        c.facade(X_FACADE, Z - 0.4, Z, 2.5, 2.9, 195, 0.1)
    for Z in np.arange(Z_NEAR + 1, Z_FAR, 2.0):                    # railing posts and rail on the quay
        c.line(project(X_QUAY + 0.1, Z), project(X_QUAY + 0.1, Z, 1.0), 62, 0.5, 0.06 * ppm(Z))
    rail = [project(X_QUAY + 0.1, z, 1.0) for z in zq[zq <= Z_FAR]]
    for p0, p1 in zip(rail[:-1], rail[1:]):
        c.line(p0, p1, 62, 0.5, 0.06 * ppm(Z_NEAR * 2))
    for Z in LAMP_Z:                                               # lamp posts with warm heads
        c.line(project(X_QUAY + 0.5, Z), project(X_QUAY + 0.5, Z, 4.5), 70, 0.5, max(1.0, 0.12 * ppm(Z)))
        c.upright(X_QUAY + 0.5, Z, 0.5, 4.4, 4.8, LAMP_T, 0.1)
    for X, Z in BOLLARDS:
        c.upright(X, Z, BOLLARD_WH[0], 0, BOLLARD_WH[1], GROUND_T + 30, 1.0)
    c.upright(*TICKET_MACHINE, TICKET_WH[0], 0, TICKET_WH[1], TICKET_T, 0.2)
    for Z in BENCH_Z:
        c.upright(13.9, Z, 1.6, 0.2, 0.5, GROUND_T + 22, 0.9)
    r2 = ((np.arange(W) - W / 2) / (W / 2))[None, :] ** 2 + ((rows - H / 2) / (H / 2)) ** 2
    texture = _smooth_noise(rng, (36, 48), 3.0)                     # weathering, uneven heating
    base = cv2.GaussianBlur(c.base + texture - 8 * r2.astype(np.float32), (0, 0), 0.7)   # optics blur, vignetting
    gain = cv2.GaussianBlur(c.gain, (0, 0), 0.7)

    f = _Canvas()                                                  # foreground: mast, cables, top bar
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
    return Scene(base.astype(np.float32), gain.astype(np.float32), alpha, f.base.astype(np.float32),
                 f.gain.astype(np.float32))


# ------------------------------------------------------------------ sprites
def _finish(alpha, delta, sigma=1.2):
    a = np.clip(cv2.GaussianBlur(alpha, (0, 0), sigma), 0, 1)
    return a, cv2.GaussianBlur(delta, (0, 0), sigma * 1.5)


def make_sprites() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Canonical (alpha, brightness offset) sprites, resized to each box: soft-edged warm blobs."""
    s = {}
    for name, feet in (("human_walk", (4, 16)), ("human_stand", (7, 13)), ("rider", None)):
        a, d = np.zeros((60, 20), np.float32), np.zeros((60, 20), np.float32)
        cv2.ellipse(a, (10, 22), (7, 13), 0, 0, 360, 1.0, -1)            # torso
        cv2.line(a, (3, 15), (2, 33), 1.0, 3)                             # arms
        cv2.line(a, (17, 15), (18, 33), 1.0, 3)
        if feet:
            cv2.line(a, (8, 33), (feet[0], 59), 1.0, 4)
            cv2.line(a, (12, 33), (feet[1], 59), 1.0, 4)
            d[34:] = -6.0                                                 # trousers cooler
        else:
            cv2.line(a, (8, 33), (4, 50), 1.0, 4)                         # seated: thighs forward, shins down
            cv2.line(a, (4, 50), (6, 59), 1.0, 4)
            cv2.line(a, (12, 33), (15, 48), 1.0, 4)
            d[34:] = -8.0
        cv2.ellipse(a, (10, 7), (4, 6), 0, 0, 360, 1.0, -1)               # head, warmest
        cv2.ellipse(d, (10, 7), (4, 6), 0, 0, 360, 22.0, -1)
        d[14:34] = np.where(d[14:34] == 0, -4.0, d[14:34])
        s[name] = _finish(a, d)
    for name, hot in (("vehicle", False), ("vehicle_hot", True)):
        a, d = np.zeros((40, 100), np.float32), np.zeros((40, 100), np.float32)
        cv2.rectangle(a, (3, 17), (96, 33), 1.0, -1)                      # body
        cv2.ellipse(a, (6, 25), (4, 8), 0, 0, 360, 1.0, -1)
        cv2.ellipse(a, (93, 25), (4, 8), 0, 0, 360, 1.0, -1)
        cabin = np.array([(22, 18), (34, 3), (70, 3), (84, 18)], np.int32)
        cv2.fillPoly(a, [cabin], 1.0)
        cv2.fillPoly(d, [cabin], -70.0)                                   # glass mirrors the cold sky
        cv2.line(d, (52, 4), (52, 17), 0.0, 3)
        cv2.line(d, (22, 18), (84, 18), -35.0, 2)                         # roof/window sill
        for cx in (22, 79):
            cv2.circle(a, (cx, 32), 7, 1.0, -1)
            cv2.circle(d, (cx, 32), 7, 45.0, -1)                          # warm tyres
        if hot:
            cv2.rectangle(d, (85, 18), (97, 30), 40.0, -1)                # engine
        s[name] = _finish(a, d, 1.0)
    a, d = np.zeros((24, 36), np.float32), np.zeros((24, 36), np.float32)
    for cx in (8, 28):
        cv2.circle(a, (cx, 16), 6, 1.0, 4)
    frame = (((8, 16), (17, 8)), ((17, 8), (28, 16)), ((17, 8), (15, 17)), ((27, 6), (31, 4)), ((15, 6), (19, 6)))
    for p0, p1 in frame:
        cv2.line(a, p0, p1, 1.0, 3)
    s["bicycle"] = _finish(a, d)
    for name, hot in (("motorcycle", False), ("motorcycle_hot", True)):
        a, d = np.zeros((26, 40), np.float32), np.zeros((26, 40), np.float32)
        for cx in (8, 32):
            cv2.circle(a, (cx, 18), 7, 1.0, -1)
        cv2.ellipse(a, (20, 12), (13, 6), 0, 0, 360, 1.0, -1)
        if hot:
            cv2.ellipse(d, (19, 16), (6, 4), 0, 0, 360, 55.0, -1)
        s[name] = _finish(a, d)
    return s


# ------------------------------------------------------------------ objects and their motion
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


def intrinsic_visible(b: np.ndarray) -> np.ndarray:
    """Share of each box (N, 4) inside the frame and not behind the mast."""
    x0, y0, x1, y1 = b.T
    cx0, cx1 = np.clip(x0, 0, W), np.clip(x1, 0, W)
    ch = np.clip(y1, 0, H) - np.clip(y0, 0, H)
    pole = np.clip(np.minimum(cx1, POLE_X[1]) - np.maximum(cx0, POLE_X[0]), 0, None)
    return (cx1 - cx0 - pole) * ch / ((x1 - x0) * (y1 - y0))


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
    static = speed is None
    out = []
    if cls == "human":
        g = int(rng.choice(GROUP_SIZES, p=GROUP_P))
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
        for k in range(g):
            off = perp * (k - (g - 1) / 2) * rng.uniform(0.6, 0.9) + u * rng.uniform(-0.3, 0.3) * (k > 0)
            w, h = _dims(rng, "human")
            if static:                                   # shifting weight, slow wander
                sway = (rng.uniform(0.05, 0.25), rng.uniform(15, 40), rng.uniform(0, 2 * np.pi), rng.uniform(0, np.pi))
            else:                                        # gait sway across the walking direction
                sway = (rng.uniform(0.05, 0.15), rng.uniform(6, 12), rng.uniform(0, 2 * np.pi),
                        math.atan2(perp[1], perp[0]))
            out.append(Obj("human", "human", t0, life, p0 + off, vel, w, h, warmth=rng.normal(HUMAN_T, HUMAN_T_SD),
                           flip=bool(rng.random() < 0.5), sway=sway, depth_bias=k * 1e-3))
        return out
    w, h = _dims(rng, cls)
    if static:
        life = min(cap, 30 + rng.exponential(STAY_MEAN[cls]))
        if cls == "vehicle":
            Z = depth_of_row(rng.uniform(150, 272))
            p, wpx = ppm(Z), w * ppm(Z)                                  # keep parked cars mostly in view
            lo = max(project(X_QUAY, Z)[0] + 0.2 * wpx, 0.4 * wpx)
            cx = rng.uniform(lo, max(lo, W - 0.4 * wpx))
            p0 = np.array([(cx - X_V) / p, Z])
        else:
            p0 = _spot(rng, (128, 250), 0.6)
        out.append(Obj(cls, cls, t0, life, p0, np.zeros(2), w, h, warmth=rng.uniform(*WARMTH[cls]),
                       flip=bool(rng.random() < 0.5)))
        return out
    v = rng.uniform(*speed)
    if cls == "vehicle":                                                 # along the promenade, in or out the far arcade
        X = rng.uniform(6.0, 9.5)
        p0, p1 = np.array([X, Z_FAR]), np.array([X, Z_NEAR])
        if rng.random() < 0.5:
            p0, p1 = p1, p0
    else:
        p0, p1 = _path(rng)
    d = p1 - p0
    u = d / np.linalg.norm(d)
    life = min(cap, np.linalg.norm(d) / v)
    flip = bool(u[0] < 0) if abs(u[0]) > 0.2 else bool(rng.random() < 0.5)
    hot = cls + "_hot" if cls != "bicycle" else cls
    bike = Obj(cls, hot, t0, life, p0, u * v, w, h, warmth=rng.uniform(*WARMTH[hot]), flip=flip)
    out.append(bike)
    if cls in RIDER_ELEV:
        rw, rh = _dims(rng, "rider")
        out.append(Obj("human", "rider", t0, life, p0.copy(), u * v, rw, rh, elev=RIDER_ELEV[cls],
                       warmth=rng.normal(HUMAN_T, HUMAN_T_SD), flip=flip, depth_bias=1e-3, partner=bike))
    return out


@functools.lru_cache(maxsize=8)
def _per_birth(seed: int, samples: int) -> dict[str, dict[str, float]]:
    """Monte-Carlo mean annotated frames per birth of each behaviour, by class (frame edge and mast only)."""
    rng = np.random.default_rng([seed, 2])
    per_birth = {}
    for kind in BEHAVIOURS:
        frames = Counter()
        for _ in range(samples):
            for o in spawn(kind, rng, rng.uniform(0, 1)):
                ts = o.alive(0, 10 ** 6)
                if len(ts):
                    frames[o.cls] += int((intrinsic_visible(o.box_at(ts)) >= MIN_VISIBLE).sum())
        per_birth[kind] = {c: n / samples for c, n in frames.items()}
    return per_birth


def calibrate_rates(mean_objects: float, seed: int, samples: int = CALIB_SAMPLES) -> dict[str, float]:
    """Birth rate (1/s) of each behaviour so the expected annotated count per frame per class is
    ``mean_objects * CLASS_SHARE`` (frame edge and mast included; mutual occlusion is not)."""
    per_birth = _per_birth(seed, samples)
    rates, riders = {}, 0.0
    for kind, (cls, share, _, _) in BEHAVIOURS.items():
        if cls != "human":
            rates[kind] = mean_objects * CLASS_SHARE[cls] * share / per_birth[kind][cls]
            riders += rates[kind] * per_birth[kind].get("human", 0.0)
    humans = max(0.0, mean_objects * CLASS_SHARE["human"] - riders)
    for kind, (cls, share, _, _) in BEHAVIOURS.items():
        if cls == "human":
            rates[kind] = humans * share / per_birth[kind]["human"]
    return rates


def birth_times(rng: np.random.Generator, rate: float, t_start: float, t_end: float) -> np.ndarray:
    """Gamma-renewal births (shape ARRIVAL_SHAPE, mean rate ``rate``) in [t_start, t_end), random phase."""
    if rate <= 0:
        return np.zeros(0)
    t, chunks = t_start - rng.uniform(0, 1 / rate), []
    while t < t_end:
        gaps = rng.gamma(ARRIVAL_SHAPE, 1 / (ARRIVAL_SHAPE * rate), int(rate * (t_end - t)) + 8)
        chunks.append(t + np.cumsum(gaps))
        t = chunks[-1][-1]
    ts = np.concatenate(chunks)
    return ts[(ts >= t_start) & (ts < t_end)]


def simulate_clip(rng: np.random.Generator, rates: dict[str, float], n_frames: int) -> list[Obj]:
    """All objects in view during [0, n_frames), births simulated from -cap so the clip starts in steady state."""
    objs = []
    for kind, lam in rates.items():
        cap = BEHAVIOURS[kind][3]
        for t0 in birth_times(rng, lam, -cap, n_frames):
            for o in spawn(kind, rng, float(t0)):
                ts = o.alive(0, n_frames)
                if len(ts):
                    o.boxes = dict(zip(ts.tolist(), map(tuple, o.box_at(ts).tolist())))
                    o.depth = dict(zip(ts.tolist(), (o.xz(ts)[:, 1] + o.depth_bias).tolist()))
                    objs.append(o)
    return objs


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


# ------------------------------------------------------------------ rendering and writing
def paste(img: np.ndarray, sprite: tuple[np.ndarray, np.ndarray], box, temp: float, flip: bool) -> None:
    """Alpha-blend a sprite resized to ``box`` with brightness ``temp + offset`` into ``img`` (in place)."""
    x0, y0, x1, y1 = box
    alpha, delta = sprite
    size = (x1 - x0, y1 - y0)
    interp = cv2.INTER_AREA if size[0] < alpha.shape[1] else cv2.INTER_LINEAR
    a, d = cv2.resize(alpha, size, interpolation=interp), cv2.resize(delta, size, interpolation=interp)
    if flip:
        a, d = a[:, ::-1], d[:, ::-1]
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
    if cx0 >= cx1 or cy0 >= cy1:
        return
    a = a[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    d = d[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    region = img[cy0:cy1, cx0:cx1]
    region += a * (temp + d - region)


def _label(cls: str, rng) -> str:
    return "vehicie" if cls == "vehicle" and rng.random() < VEHICIE_P else cls


def generate(cfg: SynthConfig, root: str | Path, progress: bool = True) -> dict:
    """Write the whole dataset under ``root`` (frames/ and annotations/); return statistics."""
    root = Path(root)
    scene, sprites = build_scene(cfg.seed), make_sprites()
    rates = calibrate_rates(cfg.mean_objects, cfg.seed) if cfg.mean_objects > 0 else {}
    stats = {"frames": 0, "clips": 0, "tracks": 0, "objects": Counter(), "vehicie": 0, "flag0": 0,
             "hidden": 0, "hist": Counter()}
    next_id = 1
    clips = schedule(cfg)
    for clip in tqdm(clips, desc="synthesize_ltd", unit="clip", disable=not progress):
        rng = np.random.default_rng([cfg.seed, 3, clip.number])
        a = ambient(clip.day, clip.minute) + rng.normal(0, WEATHER_SD)
        ground = GROUND_T + AMBIENT_RANGE * a
        bg, keep, fg = scene.background(a)
        bg = bg + rng.normal(0, COLUMN_SD, (1, W)).astype(np.float32)
        frames, hidden = annotate_clip(simulate_clip(rng, rates, cfg.frames_per_clip), cfg.frames_per_clip)
        stats["hidden"] += hidden
        ids = {}
        for _, ann in frames:                       # ids in order of first appearance, unique over the dataset
            for o, _ in ann:
                if id(o) not in ids:
                    ids[id(o)] = next_id
                    next_id += 1
        stats["tracks"] += len(ids)
        fdir, adir = root / "frames" / clip.folder, root / "annotations" / clip.folder
        fdir.mkdir(parents=True)
        adir.mkdir(parents=True)
        eol = "\r\n" if clip.crlf else "\n"
        for t, (here, ann) in enumerate(frames):
            img = bg.copy()
            for o in here:                          # far to near
                name = o.sprite
                if name == "human":
                    name = "human_walk" if o.vel.any() and (t + o.flip) % 2 else "human_stand"
                temp = o.warmth + HUMAN_AMB * a if o.cls == "human" else ground + o.warmth
                paste(img, sprites[name], o.boxes[t], temp, o.flip)
            img = img * keep + fg
            img += rng.standard_normal((H, W), dtype=np.float32) * NOISE_SD + rng.normal(0, FRAME_OFFSET_SD)
            u8 = np.rint(np.clip(img, 0, 255)).astype(np.uint8)
            if not cv2.imwrite(str(fdir / f"image_{t:04d}.jpg"), u8, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
                raise OSError(f"could not write {fdir / f'image_{t:04d}.jpg'}")
            lines = []
            for o, flag in sorted(ann, key=lambda of: ids[id(of[0])]):
                x0, y0, x1, y1 = o.boxes[t]
                label = _label(o.cls, rng)
                lines.append(f"{ids[id(o)]:08d} {label} {max(x0, 0)} {max(y0, 0)} {min(x1, W)} {min(y1, H)} {flag}")
                stats["objects"][o.cls] += 1
                stats["vehicie"] += label == "vehicie"
                stats["flag0"] += flag == 0
            with open(adir / f"annotations_{t:04d}.txt", "w", newline="") as f:
                f.write("".join(line + eol for line in lines))
            stats["hist"][len(lines)] += 1
            stats["frames"] += 1
        stats["clips"] += 1
    return stats


def write_dataset(cfg: SynthConfig, progress: bool = True) -> dict:
    """Generate into a temporary folder; on success it replaces ``cfg.out``: the folder, or a zip of it when
    ``cfg.out`` ends in .zip (:func:`stages.data.source.new_copy`)."""
    with new_copy(cfg.out) as tmp:
        return generate(cfg, tmp, progress)


def summary_line(stats: dict) -> str:
    objs = stats["objects"]
    n = sum(objs.values())
    per = ", ".join(f"{c} {objs.get(c, 0)}" for c in CLASSES)
    hist = stats["hist"]
    top = max(hist) if hist else 0
    return (f"{stats['frames']} frames in {stats['clips']} clips, {n} objects ({per}; {stats['vehicie']} spelled "
            f"'vehicie'), {stats['tracks']} tracks, {n / max(1, stats['frames']):.2f} per frame, "
            f"{hist.get(0, 0)} empty frames, flag 0 on {stats['flag0']}, {stats['hidden']} hidden not annotated; "
            f"count histogram {[hist.get(k, 0) for k in range(top + 1)]}")
