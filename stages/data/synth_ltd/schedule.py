"""The generator's settings and its recording schedule: which days and clips (with their start times) exist."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

CRLF_P = 0.3                       # share of days whose annotation files use CRLF line ends (as part of the real data)


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
