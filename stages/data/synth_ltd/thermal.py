"""Brightness as a temperature proxy (8-bit levels): the ambient cycle and the warmth of people and vehicles.

Every scene pixel is ``base + gain * AMBIENT_RANGE * a`` where the ambient ``a`` follows the season (warm
summer -> brighter background, less contrast to people) and, less, the time of day. People are about body
temperature, vehicles and bikes a little warmer than the ground.
"""
from __future__ import annotations

import math
from datetime import date

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


def ambient(day: date, minute: int) -> float:
    """Ambient temperature proxy in about [-1, 1]: seasonal cycle plus a smaller day/night cycle."""
    doy = day.timetuple().tm_yday
    return (SEASON_AMP * math.cos(2 * math.pi * (doy - PEAK_DOY) / 365.25)
            + DIURNAL_AMP * math.cos(2 * math.pi * (minute / 60 - PEAK_HOUR) / 24))
