"""Embedded generator of a synthetic stand-in for LTD (thermal harbour-front clips) in the exact LTD layout.

A fixed thermal camera looks along a harbour promenade (:mod:`.geometry`): water on the left of the quay edge,
an arcaded building on the right and one closing the far end, a foreground mast with cables that hides what
passes behind it, and fixed warm spots (lamps, bollards, a heated ticket machine, lit windows) that are never
annotated (:mod:`.scene`). Brightness is a temperature proxy that follows the season and, less, the time of day
(:mod:`.thermal`).

Objects (people, vehicles, bicycles, motorcycles: :mod:`.sprites`, :mod:`.motion`) are born by a renewal process
per behaviour (walkers, standing people, parked/driving vehicles, ridden/parked bikes: :mod:`.behaviours`,
:mod:`.births`), with rates calibrated so that the mean annotated count per frame is ``mean_objects`` with the
class shares of ``CLASS_SHARE`` (:mod:`.calibration`). What the mast, the frame edges and nearer objects hide
decides what is annotated and with which flag (:mod:`.occlusion`); :mod:`.render` draws the frames and
:mod:`.writer` writes the clips of the schedule (:mod:`.schedule`).

Everything is drawn from numpy Generators seeded by ``seed``: the same settings give byte-identical files.
This package re-exports the names the stage and the tests use.
"""
from stages.data.synth_ltd.behaviours import BEHAVIOURS, spawn
from stages.data.synth_ltd.births import birth_times, simulate_clip
from stages.data.synth_ltd.calibration import CLASS_SHARE, calibrate_rates
from stages.data.synth_ltd.geometry import H, W, project
from stages.data.synth_ltd.motion import MIN_PX, Obj
from stages.data.synth_ltd.occlusion import annotate_clip, intrinsic_visible, visible_share
from stages.data.synth_ltd.scene import Scene, build_scene
from stages.data.synth_ltd.schedule import Clip, SynthConfig, parse_day, recording_days, schedule
from stages.data.synth_ltd.sprites import make_sprites
from stages.data.synth_ltd.thermal import (AMBIENT_RANGE, DIURNAL_AMP, GROUND_T, HUMAN_AMB, HUMAN_T, HUMAN_T_SD,
                                           SEASON_AMP, ambient)
from stages.data.synth_ltd.writer import CLASSES, generate, summary_line, write_dataset

__all__ = ["AMBIENT_RANGE", "BEHAVIOURS", "CLASSES", "CLASS_SHARE", "Clip", "DIURNAL_AMP", "GROUND_T", "H",
           "HUMAN_AMB", "HUMAN_T", "HUMAN_T_SD", "MIN_PX", "Obj", "SEASON_AMP", "Scene", "SynthConfig", "W",
           "ambient", "annotate_clip", "birth_times", "build_scene", "calibrate_rates", "generate",
           "intrinsic_visible", "make_sprites", "parse_day", "project", "recording_days", "schedule",
           "simulate_clip", "spawn", "summary_line", "visible_share", "write_dataset"]
