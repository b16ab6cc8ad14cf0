"""Sweeps: the papers' parameter sweeps as DVC experiments (the command: :mod:`stages.sweep`).

- :mod:`stages.sweeps.catalog`: the sweeps, what each sets and collects, the published numbers beside them;
- :mod:`stages.sweeps.dvc_cli`: the ``dvc`` and ``git`` commands run and their output parsed;
- :mod:`stages.sweeps.queue`: queueing the experiments, starting the queue workers, waiting for them;
- :mod:`stages.sweeps.collect`: the experiments' results gathered into tidy rows and written out;
- :mod:`stages.sweeps.reading`: the models' order per value and the paper's claim judged on the intervals;
- :mod:`stages.sweeps.render`: the rows as table.md, results.csv and figure.png.
"""
