"""The skeleton every stage follows: parse args, read params.yaml, check the plugin lists, set up logging, validate
own sections, all before any data is read.

    st = Stage("unlearn", __doc__, argv, task=dict(required=True), method=dict(required=True))
    cfg = st.section("unlearn", SCHEMA)       # validated; a bad key stops the stage naming it
    task = tasks.get(st.args.task, st.params)  # the task plugin (stages/tasks/<name>.py)
    ... library calls; outputs written through stages.paths and stages.io (atomic)
"""
from __future__ import annotations

import argparse

from stages.core import config, registry, threads
from stages.core.io import setup_logging
from stages.core.device import pick_device


class Stage:
    def __init__(self, name: str, doc: str | None, argv=None, root: bool = False, **arguments):
        p = argparse.ArgumentParser(prog=f"python -m stages.{name}", description=doc,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        for flag, kw in arguments.items():
            p.add_argument(f"--{flag.replace('_', '-')}", **kw)
        if root:
            p.add_argument("--root", default=".", help="project root holding data/, models/ and reports/")
        self.args = p.parse_args(argv)
        self.root = getattr(self.args, "root", ".")
        self.log = setup_logging(name)
        threads.apply(self.log)  # the stage's share of the cores, for torch and the BLAS / OpenMP pools alike
        self.params = config.read_params()
        self.glob = config.load_global(self.params)
        registry.check_lists(self.params)  # an unknown or repeated task, method or explainer stops every stage

    def section(self, dotted: str, schema: dict) -> dict:
        return config.load(dotted, schema, self.params)

    def device(self):
        return pick_device(self.glob["device"])
