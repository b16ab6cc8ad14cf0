"""Sprites of the synthetic LTD objects: canonical (alpha, brightness offset) maps, resized to each box.

Soft-edged warm blobs: a person (walking, standing or seated on a bike), a vehicle seen from the side, a
bicycle and a motorcycle; the ``_hot`` variants of the motor vehicles carry a warm engine.
"""
from __future__ import annotations

import cv2
import numpy as np

Sprite = tuple[np.ndarray, np.ndarray]   # (alpha, brightness offset), float32


def _finish(alpha, delta, sigma=1.2) -> Sprite:
    """Soften a drawn sprite: blurred alpha (clipped to [0, 1]) and a wider-blurred brightness offset."""
    a = np.clip(cv2.GaussianBlur(alpha, (0, 0), sigma), 0, 1)
    return a, cv2.GaussianBlur(delta, (0, 0), sigma * 1.5)


def make_sprites() -> dict[str, Sprite]:
    """Canonical (alpha, brightness offset) sprites, resized to each box: soft-edged warm blobs."""
    s = {}
    for name, feet in (("human_walk", (4, 16)), ("human_stand", (7, 13)), ("rider", None)):
        s[name] = _person(feet)
    for name, hot in (("vehicle", False), ("vehicle_hot", True)):
        s[name] = _vehicle(hot)
    s["bicycle"] = _bicycle()
    for name, hot in (("motorcycle", False), ("motorcycle_hot", True)):
        s[name] = _motorcycle(hot)
    return s


def _person(feet: tuple[int, int] | None) -> Sprite:
    """A person, 60 x 20: legs ending at the columns ``feet``, or seated (a rider) when None; warmest head."""
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
    return _finish(a, d)


def _vehicle(hot: bool) -> Sprite:
    """A car from the side, 40 x 100: cold glass, warm tyres, and a warm engine when ``hot``."""
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
    return _finish(a, d, 1.0)


def _bicycle() -> Sprite:
    """A bicycle, 24 x 36: two wheels and the frame, at the ground level's brightness plus its warmth."""
    a, d = np.zeros((24, 36), np.float32), np.zeros((24, 36), np.float32)
    for cx in (8, 28):
        cv2.circle(a, (cx, 16), 6, 1.0, 4)
    frame = (((8, 16), (17, 8)), ((17, 8), (28, 16)), ((17, 8), (15, 17)), ((27, 6), (31, 4)), ((15, 6), (19, 6)))
    for p0, p1 in frame:
        cv2.line(a, p0, p1, 1.0, 3)
    return _finish(a, d)


def _motorcycle(hot: bool) -> Sprite:
    """A motorcycle, 26 x 40: two wheels and the body, with a warm engine when ``hot``."""
    a, d = np.zeros((26, 40), np.float32), np.zeros((26, 40), np.float32)
    for cx in (8, 32):
        cv2.circle(a, (cx, 18), 7, 1.0, -1)
    cv2.ellipse(a, (20, 12), (13, 6), 0, 0, 360, 1.0, -1)
    if hot:
        cv2.ellipse(d, (19, 16), (6, 4), 0, 0, 360, 55.0, -1)
    return _finish(a, d)
