"""Stage ``synthesize_utk``: write the embedded UTKFace-format faces (``data.utk.synth`` of params.yaml)."""
from __future__ import annotations

import time

from stages.core import progress
from stages.core.stage import Stage
from stages.data import synth_utk


def main(argv=None) -> None:
    st = Stage("synthesize_utk", __doc__, argv)
    log = st.log
    cfg = st.section("data.utk.synth", synth_utk.SCHEMA)
    t0 = time.perf_counter()
    synth_utk.synthesize(cfg["out"], cfg["n_faces"], cfg["seed"], progress.enabled())
    log.info("done in %.1f s", time.perf_counter() - t0)


if __name__ == "__main__":
    main()
