"""Rendering of one synthetic LTD frame: the clip's lit background, the object sprites far to near, the
foreground, and sensor noise."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from stages.data.synth_ltd.geometry import H, W
from stages.data.synth_ltd.motion import Obj
from stages.data.synth_ltd.scene import Scene
from stages.data.synth_ltd.schedule import Clip
from stages.data.synth_ltd.sprites import Sprite
from stages.data.synth_ltd.thermal import AMBIENT_RANGE, GROUND_T, HUMAN_AMB, WEATHER_SD, ambient

NOISE_SD = 3.0                     # per-pixel sensor noise
FRAME_OFFSET_SD = 1.0              # per-frame global offset (flat-field drift)
COLUMN_SD = 1.2                    # per-clip fixed column pattern


@dataclass
class ClipLight:
    """What every frame of a clip shares: the ambient, the ground level and the lit scene."""
    a: float              # ambient of the clip (season, hour, weather)
    ground: float         # promenade brightness at that ambient
    bg: np.ndarray        # background with foreground and the clip's column pattern
    keep: np.ndarray      # foreground keep factor (1 - opacity)
    fg: np.ndarray        # foreground term


def clip_light(scene: Scene, clip: Clip, rng: np.random.Generator) -> ClipLight:
    """The lighting of ``clip``: its ambient with the weather's jitter, then its fixed column pattern."""
    a = ambient(clip.day, clip.minute) + rng.normal(0, WEATHER_SD)
    ground = GROUND_T + AMBIENT_RANGE * a
    bg, keep, fg = scene.background(a)
    bg = bg + rng.normal(0, COLUMN_SD, (1, W)).astype(np.float32)
    return ClipLight(a, ground, bg, keep, fg)


def paste(img: np.ndarray, sprite: Sprite, box, temp: float, flip: bool) -> None:
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


def sprite_name(o: Obj, t: int) -> str:
    """The sprite of ``o`` at frame ``t``: walkers alternate the walking and the standing pose every frame."""
    if o.sprite == "human":
        return "human_walk" if o.vel.any() and (t + o.flip) % 2 else "human_stand"
    return o.sprite


def temperature(o: Obj, light: ClipLight) -> float:
    """Brightness of ``o``: people their body level (a little warmer in warm weather), the rest above the ground."""
    return o.warmth + HUMAN_AMB * light.a if o.cls == "human" else light.ground + o.warmth


def render_frame(light: ClipLight, here: list[Obj], t: int, sprites: dict[str, Sprite],
                 rng: np.random.Generator) -> np.ndarray:
    """uint8 (H, W) frame ``t``: the objects ``here`` (far to near) on the background, the foreground over them,
    then sensor noise and the frame's global offset."""
    img = light.bg.copy()
    for o in here:
        paste(img, sprites[sprite_name(o, t)], o.boxes[t], temperature(o, light), o.flip)
    img = img * light.keep + light.fg
    img += rng.standard_normal((H, W), dtype=np.float32) * NOISE_SD + rng.normal(0, FRAME_OFFSET_SD)
    return np.rint(np.clip(img, 0, 255)).astype(np.uint8)
