"""Embedded UTKFace-format data: synthetic 200 x 200 faces named like the aligned-and-cropped release.

Each face is drawn with OpenCV primitives and numpy masks. Age shows through cues that stay
visible after resizing to 48 x 48: hair greying, a receding hairline (men), fading cheek "glow",
darker and blotchier skin, forehead/eye/mouth lines, age spots, a wider lower face, thinner lips,
drooping eyelids. Cues follow a noisy *apparent* age (real age + noise growing with age) with
person-specific onsets, so a model can learn them but cannot be exact. Gender and race change
skin tone, hair colour and style, beard and eye colour; pose, lighting, blur, noise, JPEG
quality, background, clothes and glasses are nuisance. Ages follow a UTKFace-like distribution
(:func:`age_weights`).

Besides the faces the folder holds what the preparation must survive:

- the five malformed names of the real release (three without race, one with a space before the
  extension, one without the dot), drawn with the age, gender and race their names give;
- one image truncated mid-file and one file of random bytes, both with valid names;
- one image too small (32 x 32) and one name whose age field is unreadable;
- two non-image files: a stray text file and a macOS ``._`` AppleDouble file.

Everything is a function of ``seed``: face ``i`` is drawn from its own generator seeded by
``(seed, i)``, so the output bytes do not depend on the number of worker processes.
"""
from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Iterator

import cv2
import numpy as np
from tqdm import tqdm

from stages.core import threads
from stages.core.config import Int, Str

log = logging.getLogger(__name__)

SCHEMA = {"out": Str(), "seed": Int(min=0), "n_faces": Int(min=10)}

SIZE = 200                          # the aligned-and-cropped release is 200 x 200 RGB
MAX_AGE = 116                       # oldest age in UTKFace
SUFFIX = ".jpg.chip.jpg"
# The five malformed names of the real release (REFERENCE section 7): age, gender, race (None = missing).
MALFORMED = {
    "39_1_20170116174525125.jpg.chip.jpg": (39, 1, None),
    "61_1_20170109142408075.jpg.chip.jpg": (61, 1, None),
    "61_1_20170109150557335.jpg.chip.jpg": (61, 1, None),
    "24_0_1_20170116220224657 .jpg.chip.jpg": (24, 0, 1),
    "55_0_0_20170116232725357jpg.chip.jpg": (55, 0, 0),
}
RACE_P = [0.42, 0.19, 0.145, 0.17, 0.075]   # White, Black, Asian, Indian, Others (UTKFace shares)
FEMALE_P = 0.48
PARALLEL_FROM = 200                 # draw in worker processes from this many faces on
FIRST_DAY, DAYS = dt.datetime(2016, 12, 16), 36  # the release's time stamps span Dec 2016 - Jan 2017

# Colours are BGR (OpenCV order).
SKIN = np.array([[170, 192, 232], [55, 78, 112], [150, 188, 226], [92, 125, 176], [118, 152, 196]], np.float32)
HAIR = np.array([[22, 22, 26], [30, 44, 68], [45, 75, 112], [105, 165, 205], [40, 70, 150]], np.float32)
HAIR_P = {0: [0.25, 0.3, 0.2, 0.2, 0.05]}     # White; other races: black / dark brown
HAIR_P_OTHER = [0.75, 0.25, 0.0, 0.0, 0.0]
GREY = np.array([198, 198, 202], np.float32)
IRIS = np.array([[30, 50, 80], [20, 30, 45], [140, 110, 60], [90, 120, 80]], np.float32)

_Y, _X = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
_NOISE = np.random.default_rng(12345).standard_normal((2 * SIZE, 2 * SIZE, 3), dtype=np.float32)  # sensor noise bank


def age_weights() -> np.ndarray:
    """Relative frequency of ages 0..MAX_AGE, shaped like UTKFace: a spike of babies, some
    children, a peak at 24-30, a long tail to 116 and heaping on round ages (30, 35, 40, ...)."""
    a = np.arange(MAX_AGE + 1, dtype=np.float64)
    w = (1.1 * np.exp(-np.abs(a - 1) / 0.9)                                   # babies (age 1 spike)
         + 0.2 * np.exp(-0.5 * ((a - 12) / 8.0) ** 2)                         # children
         + 0.75 * np.exp(-0.5 * ((a - 27) / 4.5) ** 2)                        # young adults
         + 0.32 * (a >= 18) * np.exp(-np.clip(a - 30, 0, None) / 35.0         # adult tail ...
                                     - np.clip(a - 85, 0, None) / 10.0))       # ... thinning after 85
    w *= 1 + np.where((a % 5 == 0) & (a >= 25), np.clip((a - 20) / 15, 0.3, 1.5), 0)  # age heaping
    w[0] = 0.0
    return w / w.sum()


def sample_people(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ages, genders (0 male, 1 female) and races (0..4) of ``n`` people."""
    ages = rng.choice(MAX_AGE + 1, size=n, p=age_weights())
    genders = (rng.random(n) < FEMALE_P).astype(int)
    races = rng.choice(len(RACE_P), size=n, p=RACE_P)
    return ages, genders, races


def time_stamps(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct yyyymmddHHMMSSFFF stamps in the release's date range."""
    ms = np.unique(rng.integers(0, DAYS * 86_400_000, size=2 * n + 16))
    ms = rng.permutation(ms)[:n]
    out = []
    for m in ms.tolist():
        t = FIRST_DAY + dt.timedelta(milliseconds=m)
        out.append(t.strftime("%Y%m%d%H%M%S") + f"{t.microsecond // 1000:03d}")
    return out


def _ellipse_mask(cx, cy, ax, ay, angle=0.0) -> np.ndarray:
    m = np.zeros((SIZE, SIZE), np.uint8)
    cv2.ellipse(m, (int(cx), int(cy)), (max(int(ax), 1), max(int(ay), 1)), angle, 0, 360, 1, -1, cv2.LINE_8)
    return m.astype(bool)


def _gauss(cx, cy, s) -> np.ndarray:
    return np.outer(np.exp(-0.5 * ((np.arange(SIZE) - cy) / s) ** 2),
                    np.exp(-0.5 * ((np.arange(SIZE) - cx) / s) ** 2)).astype(np.float32)


def _fill(img: np.ndarray, mask: np.ndarray, colour) -> None:
    """Paint ``colour`` on ``img`` where ``mask`` (bool) is set, in place."""
    cv2.copyTo(np.full_like(img, 0) + np.asarray(colour, img.dtype), mask.view(np.uint8), img)


def _ramp(c00, c01, c10, c11) -> np.ndarray:
    """A smooth map through the given corner values (top-left, top-right, bottom-left, bottom-right)."""
    return cv2.resize(np.array([[c00, c01], [c10, c11]], np.float32), (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)


def _pt(x, y):
    return int(round(x)), int(round(y))


@dataclass
class Cues:
    """Age-dependent appearance of one person, drawn around a noisy apparent age."""
    child: float     # 1 for babies .. 0 from age 16: rounder head, bigger eyes, features lower
    t: float         # generic ageing: 0 at 20, 1 at 60 (jowls, thin lips, droop, eye bags, spots)
    grey: float      # hair greying, 0..1
    wrinkle: float   # forehead / crow's feet / fold lines, 0..1.5
    glow: float      # young-skin cheek highlight, 1..0
    recede: float    # hairline recession (men), 0..1


def draw_cues(age: int, male: bool, rng: np.random.Generator) -> Cues:
    def clip(v, hi=1.0):
        return float(np.clip(v, 0.0, hi))

    app = age + rng.normal(0, 0.5 + 0.05 * age)                       # apparent age
    return Cues(child=clip((16 - age) / 14), t=clip((app - 20) / 40, 1.4),
                grey=clip((app - rng.normal(21, 4)) / 34),             # person-specific onsets ...
                wrinkle=clip((app - rng.normal(17, 3)) / 36, 1.5) * rng.uniform(0.8, 1.2),
                glow=1 - clip((app - 16) / 36),
                recede=clip((app - rng.normal(25, 5)) / 35) * rng.uniform(0.4, 1.1) if male else 0.0)


def _col(v) -> tuple[float, ...]:
    return tuple(float(x) for x in v)


@dataclass
class Head:
    """Where the head is and its colours (BGR)."""
    cx: float             # centre column and row
    cy: float
    hw: float             # half width and half height
    hh: float
    yaw: float            # sideways shift of the features (pose)
    skin: np.ndarray
    hair: np.ndarray      # natural hair colour (the beard greys from it)
    hair_col: np.ndarray  # scalp hair colour, greyed with age


@dataclass
class Landmarks:
    """The face mask and the positions the skin layer, beard and glasses are drawn around."""
    face: np.ndarray      # bool (SIZE, SIZE): face and jaw
    jaw_w: float          # jaw width relative to the head
    ey: float             # eye row and eye scale (children's eyes are bigger)
    es: float
    ny: float             # nose tip row
    my: float             # mouth row, half width and lip thickness
    mw: float
    lip: float


def render_face(age: int, gender: int, race: int, rng: np.random.Generator) -> np.ndarray:
    """One 200 x 200 BGR uint8 face of the given age, gender (0 male) and race (0..4).

    Drawn back to front in named steps; the order of the steps is also the order of the random draws."""
    male = gender == 0
    q = draw_cues(age, male, rng)
    img = _background(rng)
    head = _head(q, male, race, rng)
    face, jaw_w = _draw_head(img, head, q, male, rng)
    _draw_hair_cap(img, head, q, rng)
    lm = _draw_features(img, head, q, male, race, face, jaw_w, rng)
    f = _skin_layer(img, head, q, lm, rng)
    if male and q.child == 0 and rng.random() < 0.35:
        _draw_beard(f, head, q, lm, rng)
    if q.child == 0 and rng.random() < 0.05 + 0.3 * q.t:
        _draw_glasses(f, head, lm, rng)
    return _nuisance(f, rng)


def _background(rng) -> np.ndarray:
    """A random colour under a smooth brightness ramp."""
    u = rng.uniform
    img = np.clip(rng.uniform(25, 235, 3).astype(np.float32) * _ramp(*u(0.7, 1.3, 4))[..., None], 0, 255)
    return img.astype(np.uint8)


def _head(q: Cues, male: bool, race: int, rng) -> Head:
    """Head position, size and pose; skin colour (darker with age) and hair colour (greying)."""
    u, c, t = rng.uniform, q.child, q.t
    cx, cy = 100 + u(-6, 6), 104 + u(-6, 6)
    hw = u(50, 58) + 2 * male - 3 * c                                 # half width and height of the head
    hh = hw * (1.24 - 0.17 * c + u(-0.04, 0.04))
    yaw = u(-1, 1) * hw * 0.12                                        # features shift sideways
    skin = np.clip((SKIN[race] * u(0.88, 1.1) + rng.normal(0, 6, 3)) * (1 - 0.2 * t), 0, 255)
    hair = HAIR[rng.choice(5, p=HAIR_P.get(race, HAIR_P_OTHER))] * u(0.85, 1.15)
    hair_col = np.clip((1 - q.grey) * hair + q.grey * (GREY + rng.normal(0, 8, 3)), 0, 255)
    return Head(cx, cy, hw, hh, yaw, skin, hair, hair_col)


def _draw_head(img: np.ndarray, h: Head, q: Cues, male: bool, rng) -> tuple[np.ndarray, float]:
    """Long hair behind the head (mostly women, less with age), clothes, neck, ears, face and jaw (wider with
    age); returns the face mask and the jaw width."""
    u, cx, cy, hw, hh = rng.uniform, h.cx, h.cy, h.hw, h.hh
    if rng.random() < (0.05 if male else 0.9 - 0.5 * q.t):
        cv2.ellipse(img, _pt(cx, cy - 0.05 * hh), _pt(hw * u(1.25, 1.45), hh * 1.1), 0, 0, 360, _col(h.hair_col), -1)
        cv2.rectangle(img, _pt(cx - hw * 1.3, cy), _pt(cx + hw * 1.3, cy + u(0.5, 1.1) * hh), _col(h.hair_col), -1)
    cv2.ellipse(img, _pt(cx, SIZE + 25), _pt(u(95, 130), u(50, 70)), 0, 0, 360, _col(u(20, 235, 3)), -1)
    cv2.rectangle(img, _pt(cx - 0.42 * hw, cy + 0.5 * hh), _pt(cx + 0.42 * hw, SIZE), _col(h.skin * 0.82), -1)
    for s in (-1, 1):
        cv2.ellipse(img, _pt(cx + s * hw * 0.97, cy), (9, 17), 0, 0, 360, _col(h.skin * 0.93), -1, cv2.LINE_AA)
    jaw_w = 0.8 + 0.13 * q.t + rng.normal(0, 0.03)
    face = _ellipse_mask(cx, cy, hw, hh) | _ellipse_mask(cx, cy + 0.3 * hh, hw * jaw_w, hh * 0.72)
    _fill(img, face, _col(h.skin))
    return face, jaw_w


def _draw_hair_cap(img: np.ndarray, h: Head, q: Cues, rng) -> None:
    """Hair cap above a hairline that recedes (men) with M-shaped temples; bald crown; a few shaved heads."""
    cx, cy, hw, hh = h.cx, h.cy, h.hw, h.hh
    cap = _ellipse_mask(cx, cy - 0.1 * hh, hw * 1.07, hh * 1.0)
    dx = (np.arange(SIZE) - cx) / hw
    line = cy - hh * (0.5 + 0.45 * q.recede - 0.12 * dx ** 2
                      + 0.35 * q.recede * np.exp(-(((np.abs(dx) - 0.45) / 0.2) ** 2)))
    cap &= _Y < line[None, :]
    if q.recede > 0.55:
        cap &= np.abs(_X - cx) > hw * (1.6 * (q.recede - 0.55) + 0.55)
    if rng.random() < 0.04:
        cap[:] = False
    _fill(img, cap, _col(h.hair_col))


def _draw_features(img: np.ndarray, h: Head, q: Cues, male: bool, race: int, face: np.ndarray, jaw_w: float,
                   rng) -> Landmarks:
    """Brows, eyes (lids droop with age), nose, mouth (thinner lips with age); returns where they are."""
    u, c, t = rng.uniform, q.child, q.t
    cx, cy, hw, hh, yaw, skin = h.cx, h.cy, h.hw, h.hh, h.yaw, h.skin
    ey, es = cy - hh * (0.12 - 0.12 * c), 1 + 0.3 * c
    iris = IRIS[rng.integers(0, 2) if race else rng.integers(0, 4)]
    for s in (-1, 1):
        ex = cx + yaw + s * hw * 0.38
        cv2.ellipse(img, _pt(ex, ey - 13 * es), _pt(hw * 0.2, 3.5 + 1.5 * male), s * 6, 180, 360,
                    _col(h.hair_col * 0.7), 4, cv2.LINE_AA)
        cv2.ellipse(img, _pt(ex, ey), _pt(hw * 0.15 * es, 6 * es), 0, 0, 360, (235, 235, 235), -1, cv2.LINE_AA)
        cv2.circle(img, _pt(ex + yaw * 0.2, ey), int(4.5 * es), _col(iris), -1, cv2.LINE_AA)
        cv2.circle(img, _pt(ex + yaw * 0.2, ey), int(2 * es), (15, 15, 15), -1, cv2.LINE_AA)
        lid = _ellipse_mask(ex, ey - 6 * es * (1.45 - 0.4 * t), hw * 0.17 * es, 6 * es)
        _fill(img, lid & face, _col(skin * 0.92))
    ny = cy + hh * (0.22 + 0.04 * t - 0.05 * c)
    cv2.line(img, _pt(cx + yaw * 1.3, ey + 6), _pt(cx + yaw * 1.5 + 4, ny), _col(skin * 0.78), 2, cv2.LINE_AA)
    for s in (-1, 1):
        cv2.ellipse(img, _pt(cx + yaw * 1.5 + s * 7, ny + 2), (4, 3), 0, 0, 360, _col(skin * 0.55), -1, cv2.LINE_AA)
    my = cy + hh * (0.45 - 0.05 * c)
    mw, lip = hw * (0.3 + 0.03 * t), max(7 * (1 - 0.45 * t) * u(0.8, 1.2), 2)
    lip_col = np.clip(skin * np.array([0.75, 0.68, 1.05 - 0.15 * t]), 0, 255)
    cv2.ellipse(img, _pt(cx + yaw, my), _pt(mw, lip), 0, 0, 360, _col(lip_col), -1, cv2.LINE_AA)
    cv2.line(img, _pt(cx + yaw - mw, my + 2 * t), _pt(cx + yaw + mw, my + 2 * t), _col(skin * 0.45), 2, cv2.LINE_AA)
    return Landmarks(face, jaw_w, ey, es, ny, my, mw, lip)


def _skin_layer(img: np.ndarray, h: Head, q: Cues, lm: Landmarks, rng) -> np.ndarray:
    """float32 image with the skin's age cues over the face: darkening (wrinkles, eye bags, folds, age spots),
    young cheek glow, blotches."""
    shade = _shade(h, q, lm, rng)
    fm = cv2.GaussianBlur(lm.face.astype(np.float32), (0, 0), 2)
    blotch = cv2.resize(rng.standard_normal((10, 10)).astype(np.float32), (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
    glow = sum(_gauss(h.cx + h.yaw + s * h.hw * 0.45, h.cy + h.hh * 0.18, h.hw * 0.25) for s in (-1, 1))
    cues = 0.45 * q.glow * glow + (0.02 + 0.1 * q.t) * blotch - 0.55 * shade
    return img.astype(np.float32) * (1 + fm * cues)[..., None]


def _shade(h: Head, q: Cues, lm: Landmarks, rng) -> np.ndarray:
    """The darkening layer (0..1): forehead lines, eye bags, crow's feet, nasolabial and marionette folds, age
    spots, slightly blurred."""
    u, t, w = rng.uniform, q.t, q.wrinkle
    cx, cy, hw, hh, yaw = h.cx, h.cy, h.hw, h.hh, h.yaw
    ey, es, ny, my, mw = lm.ey, lm.es, lm.ny, lm.my, lm.mw
    shade = np.zeros((SIZE, SIZE), np.float32)
    for k in range(4):                                                  # forehead lines
        if w > 0.15 * k:
            x = np.linspace(0, 1, 8)
            pts = np.stack([cx + yaw + hw * (x - 0.5) * 0.9,
                            cy - hh * (0.3 + 0.07 * k) + 3 * np.sin(np.pi * x) * (-1) ** k], 1)
            cv2.polylines(shade, [pts.round().astype(np.int32)], False, min(0.3 + 0.5 * w, 0.95), 4)
    for s in (-1, 1):
        ex = cx + yaw + s * hw * 0.38
        cv2.ellipse(shade, _pt(ex, ey + 7 * es), _pt(hw * 0.13, 5), 0, 10, 170, min(0.8 * t, 0.9), 3)  # bags
        if w > 0.25:                                                    # crow's feet
            for d in (-0.6, 0, 0.6):
                a = _pt(ex + s * hw * 0.19, ey)
                cv2.line(shade, a, _pt(a[0] + s * 10, a[1] + 10 * d), min(0.6 * w, 0.8), 1)
        cv2.line(shade, _pt(cx + yaw + s * 10, ny), _pt(cx + yaw + s * (mw + 6), my + 6),  # nasolabial fold
                 min(0.15 + 0.6 * w, 0.9), 3)
        cv2.line(shade, _pt(cx + yaw + s * mw, my + 2), _pt(cx + yaw + s * (mw + 2), my + 12 * t),  # marionette
                 min(0.6 * t, 0.7), 2)
    for _ in range(rng.poisson(14 * max(t - 0.55, 0))):                # age spots
        cv2.circle(shade, _pt(cx + u(-0.8, 0.8) * hw, cy + u(-0.6, 0.5) * hh), int(u(1, 3)), u(0.2, 0.45), -1)
    return cv2.GaussianBlur(shade, (0, 0), 0.8)


def _draw_beard(f: np.ndarray, h: Head, q: Cues, lm: Landmarks, rng) -> None:
    """Beard and moustache, greying faster than the scalp, blended into ``f`` (in place)."""
    beard = _ellipse_mask(h.cx + h.yaw, h.cy + 0.32 * h.hh, h.hw * lm.jaw_w, h.hh * 0.7) & lm.face & (_Y > lm.ny - 2)
    beard &= ~_ellipse_mask(h.cx + h.yaw, lm.my, lm.mw + 2, lm.lip + 1) | (_Y < lm.my - lm.lip + 2)
    a = cv2.GaussianBlur(beard.astype(np.float32), (0, 0), 2) * rng.uniform(0.5, 0.95)
    g = min(q.grey * 1.3, 1)
    f += a[..., None] * (np.clip((1 - g) * h.hair + g * GREY, 0, 255) - f)


def _draw_glasses(f: np.ndarray, h: Head, lm: Landmarks, rng) -> None:
    """Glasses of a random dark frame colour: two rims and a bridge, drawn on ``f`` (in place)."""
    frame = _col(rng.uniform(0, 80, 3))
    for s in (-1, 1):
        cv2.circle(f, _pt(h.cx + h.yaw + s * h.hw * 0.38, lm.ey), int(h.hw * 0.22), frame, 3)
    cv2.line(f, _pt(h.cx + h.yaw - h.hw * 0.16, lm.ey), _pt(h.cx + h.yaw + h.hw * 0.16, lm.ey), frame, 3)


def _nuisance(f: np.ndarray, rng) -> np.ndarray:
    """Pose (rotation, zoom, shift), lighting, colour cast, blur and sensor noise; the uint8 image."""
    u = rng.uniform
    m = cv2.getRotationMatrix2D((100, 100), u(-12, 12), u(0.92, 1.08))
    m[:, 2] += u(-7, 7, 2)
    f = cv2.warpAffine(f, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    th, k = u(0, 2 * np.pi), u(0, 0.35)
    light = u(0.8, 1.15) * _ramp(*[1 + k * (x * np.cos(th) + y * np.sin(th)) for y in (-1, 1) for x in (-1, 1)])
    f *= light[..., None] * u(0.94, 1.06, 3).astype(np.float32)
    f = cv2.GaussianBlur(f, (0, 0), u(0.1, 1.0) if rng.random() < 0.85 else u(1.0, 2.5))
    oy, ox = rng.integers(0, _NOISE.shape[0] - SIZE, 2)
    f += u(1, 6) * _NOISE[oy:oy + SIZE, ox:ox + SIZE]
    return np.clip(f, 0, 255).astype(np.uint8)


def encode(img: np.ndarray, rng: np.random.Generator) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(75, 96))])
    if not ok:  # pragma: no cover - OpenCV failure
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def _face_bytes(job: tuple[int, int, int, int, int]) -> bytes:
    """JPEG bytes of face ``i``: (seed, i, age, gender, race), drawn from its own generator."""
    seed, i, age, gender, race = job
    rng = np.random.default_rng([seed, 3, i])
    return encode(render_face(age, gender, race, rng), rng)


def face_table(n_faces: int, seed: int) -> tuple[list[tuple[str, int, int, int]], list[str]]:
    """(file name, age, gender, race) of the ``n_faces`` readable faces (the first five carry the
    release's malformed names) and four spare time stamps for the defective files."""
    rng = np.random.default_rng([seed, 1])
    ages, genders, races = sample_people(n_faces, rng)
    stamps = time_stamps(n_faces + 4, rng)
    rows = [(f"{a}_{g}_{r}_{s}{SUFFIX}", a, g, r)
            for a, g, r, s in zip(ages.tolist(), genders.tolist(), races.tolist(), stamps)]
    for i, (name, (a, g, r)) in enumerate(MALFORMED.items()):
        rows[i] = (name, a, g, r if r is not None else int(rng.choice(len(RACE_P), p=RACE_P)))
    return rows, stamps[n_faces:]


def _faces(jobs: list) -> Iterator[bytes]:
    """JPEG bytes of each job, in order; in worker processes from PARALLEL_FROM faces on. Workers are
    spawned, not forked: a fork after OpenCV has started its threads can hang."""
    workers = threads.workers(8)
    if len(jobs) < PARALLEL_FROM or workers == 1:
        yield from map(_face_bytes, jobs)
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=cv2.setNumThreads, initargs=(1,)) as pool:
        yield from pool.map(_face_bytes, jobs, chunksize=32)


def synthesize(out: str | os.PathLike, n_faces: int, seed: int, progress: bool = True) -> dict:
    """Write ``n_faces`` faces plus the defective and non-image files into ``out``, a folder or a .zip of it
    (built in a temporary folder, then swapped in: :func:`stages.data.source.new_copy`)."""
    from stages.data.source import new_copy

    if n_faces < len(MALFORMED):
        raise ValueError(f"n_faces = {n_faces}: need at least {len(MALFORMED)} (the malformed names)")
    rows, spare = face_table(n_faces, seed)
    truncated, garbage, small, no_age = (f"{a}_{g}_{r}_{s}{SUFFIX}" for (a, g, r), s in
                                         zip([(30, 0, 0), (45, 1, 2), (33, 1, 1), (40, 0, 0)], spare))
    jobs = [(seed, i, a, g, r) for i, (_, a, g, r) in enumerate(rows)]
    with new_copy(out) as tmp:
        for (name, *_), data in zip(rows, tqdm(_faces(jobs), total=n_faces, desc="synthesize_utk",
                                               disable=not progress, mininterval=5)):
            (tmp / name).write_bytes(data)
        rng = np.random.default_rng([seed, 4])
        data = encode(render_face(30, 0, 0, rng), rng)
        (tmp / truncated).write_bytes(data[: len(data) * 3 // 5])                      # cut mid-scan
        (tmp / garbage).write_bytes(rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
        tiny = cv2.resize(render_face(33, 1, 1, rng), (32, 32), interpolation=cv2.INTER_AREA)
        (tmp / small).write_bytes(encode(tiny, rng))
        (tmp / ("x" + no_age[2:])).write_bytes(encode(render_face(40, 0, 0, rng), rng))  # age field "x"
        (tmp / "readme.txt").write_text("Synthetic UTKFace-format faces (stages.data.synth_utk).\n")
        (tmp / f"._{rows[-1][0]}").write_bytes(b"\x00\x05\x16\x07" + bytes(60))       # macOS AppleDouble file
    log.info("wrote %d faces (+4 defective images, 2 non-image files) to %s", n_faces, out)
    return {"faces": n_faces, "malformed_names": len(MALFORMED), "defective": 4, "non_image": 2}
