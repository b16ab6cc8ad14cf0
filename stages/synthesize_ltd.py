"""Stage synthesize_ltd: write the synthetic LTD-format dataset (frames/ and annotations/) to data.ltd.synth.out.

    python -m stages.synthesize_ltd

Reads only ``data.ltd.synth`` (it has its own ``seed``). The output folder is removed first, the data are
written to ``<out>.tmp`` and renamed into place at the end.
"""
from __future__ import annotations

import time

from stages.core import config, progress
from stages.core.config import Float, Int, ParamError, Str
from stages.data.synth_ltd import SynthConfig, parse_day, summary_line, write_dataset
from stages.core.stage import Stage

SECTION = "data.ltd.synth"
SCHEMA = {
    "out": Str(),
    "seed": Int(min=0),
    "start_date": Str(),
    "end_date": Str(),
    "dates": Int(min=1),
    "clips_per_date": Int(min=1, max=96),
    "frames_per_clip": Int(min=1, max=10000),    # NNNN has 4 digits
    "mean_objects": Float(min=0, max=50),
}


def load_config(params: dict | None = None) -> SynthConfig:
    """Read and validate ``data.ltd.synth``; dates must be YYYYMMDD and hold ``dates`` distinct days."""
    cfg = config.load(SECTION, SCHEMA, params)
    days = {}
    for key in ("start_date", "end_date"):
        try:
            days[key] = parse_day(cfg[key])
        except ValueError:
            raise ParamError(f"{SECTION}.{key} = {cfg[key]!r}: expected a date YYYYMMDD") from None
    span = (days["end_date"] - days["start_date"]).days
    if span < 0:
        raise ParamError(f"{SECTION}.end_date = {cfg['end_date']!r}: must not be before start_date")
    if cfg["dates"] > span + 1:
        raise ParamError(f"{SECTION}.dates = {cfg['dates']}: must be <= {span + 1} (days from start_date to end_date)")
    return SynthConfig(**cfg)


def main(argv=None) -> None:
    st = Stage("synthesize_ltd", __doc__, argv)
    log = st.log
    cfg = load_config(st.params)
    start = time.perf_counter()
    stats = write_dataset(cfg, progress.enabled())
    log.info("%s: %s (%.1f s)", cfg.out, summary_line(stats), time.perf_counter() - start)


if __name__ == "__main__":
    main()
