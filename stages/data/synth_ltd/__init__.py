"""Embedded generator of a synthetic stand-in for LTD (thermal harbour-front clips) in the exact LTD layout.

A fixed thermal camera looks along a harbour promenade (:mod:`.geometry`): water on the left of the quay edge,
an arcaded building on the right and one closing the far end, a foreground mast with cables that hides what
passes behind it, and fixed warm spots (lamps, bollards, a heated ticket machine, lit windows) that are never
annotated (:mod:`.scene`). Brightness is a temperature proxy that follows the season and, less, the time of day
(:mod:`.thermal`).

Objects (people, vehicles, bicycles, motorcycles: :mod:`.sprites`, :mod:`.motion`) are born by a renewal process
per behaviour (walkers, standing people, parked/driving vehicles, ridden/parked bikes: :mod:`.behaviours`,
:mod:`.births`), with rates calibrated so that the mean annotated count per frame is ``mean_objects`` with
fixed class shares (:mod:`.calibration`). What the mast, the frame edges and nearer objects hide decides what is
annotated and with which flag (:mod:`.occlusion`); :mod:`.render` draws the frames and :mod:`.writer` writes
the clips of the schedule (:mod:`.schedule`).

Everything is drawn from numpy Generators seeded by ``seed``: the same settings give byte-identical files.
This package re-exports the names the stage (:mod:`stages.synthesize_ltd`), the benchmark and the tests use.
"""
from stages.data.synth_ltd.births import simulate_clip
from stages.data.synth_ltd.calibration import calibrate_rates
from stages.data.synth_ltd.geometry import H, W
from stages.data.synth_ltd.motion import MIN_PX
from stages.data.synth_ltd.occlusion import annotate_clip, intrinsic_visible, visible_share
from stages.data.synth_ltd.scene import build_scene
from stages.data.synth_ltd.schedule import SynthConfig, parse_day, recording_days
from stages.data.synth_ltd.thermal import (AMBIENT_RANGE, DIURNAL_AMP, GROUND_T, HUMAN_AMB, HUMAN_T, HUMAN_T_SD,
                                           SEASON_AMP, ambient)
from stages.data.synth_ltd.writer import generate, summary_line, write_dataset

__all__ = ["AMBIENT_RANGE", "DIURNAL_AMP", "GROUND_T", "H", "HUMAN_AMB", "HUMAN_T", "HUMAN_T_SD", "MIN_PX",
           "SEASON_AMP", "SynthConfig", "W", "ambient", "annotate_clip", "build_scene", "calibrate_rates", "generate",
           "intrinsic_visible", "parse_day", "recording_days", "simulate_clip", "summary_line", "visible_share",
           "write_dataset"]
