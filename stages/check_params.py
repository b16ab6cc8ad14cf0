"""Stage check_params: every setting of params.yaml validated before any stage reads data or trains.

    python -m stages.check_params

The first stage of every ``dvc repro`` (the generators and exporters depend on its output), so a typo in a plugin
list or in any plugin's section stops the pipeline in about a second instead of after hours of training on the
stages that do not read it. It checks the plugin lists (known names, none repeated: stages.core.registry), every
task's section, every dataset's section (through the reader of its ``format``: stages.data.readers), every task's
training recipe, the unlearn recipes and every method's section for every task that runs it, every explainer's
section for every task that runs it, each task's explanation subset size, the attribution settings and the
evaluation settings, the same functions the stages call. It writes
``data/params_checked.txt``, whose content never changes: a rerun after a param change leaves every other stage as
it was, and each stage still validates its own settings when it runs.

It also writes the resolved settings that a stage reads but cannot name as one DVC param key, under
``data/settings/`` (one JSON file each; the stages depend on their file, so a change reruns exactly the stages whose
resolved value changed):

- ``tasks/<task>.json`` and ``datasets/<dataset>.json``: the task's runs (``repeats``: one number, or per task with a
  default) and those of the dataset's shared Original;
- ``lists/<task>.json``: the names of the task's methods and explainers (``unlearn.methods`` and ``explainers``, or
  the agents' lists), which the evaluation and report stages, the same for every task, read;
- ``methods/<task>/<method>.json``: the method's settings for the task, its ``unlearn.methods.<name>`` section merged
  with the keys it reads directly under ``unlearn`` (``unlearn.sigma``: Confuse), and its own epochs.
"""
from __future__ import annotations

from stages import evaluate, methods, synthesize_ltd, tasks, xai  # stages own some schemas
from stages.core import config, io
from stages.core.config import ParamError
from stages.core.stage import Stage
from stages.data import digits, readers, synth_utk
from stages.metrics import verdict
from stages.models import recipes
from stages.xai import attribution_vectors

OUT = "data/params_checked.txt"
SETTINGS = "data/settings"


def check(params: dict) -> dict[str, int]:
    """Validate every section a stage reads; return how many entries of each kind were checked."""
    datasets(params)
    synthesize_ltd.load_config(params)  # the embedded generators' and exporter's subsections (their own stages)
    config.load("data.utk.synth", synth_utk.SCHEMA, params)
    config.validate(config.get(params, "data.digits.export"), digits.EXPORT_SCHEMA, "data.digits.export")
    evaluate.settings(params)
    names = tasks.all_names(params)
    verdict.settings(params, [tasks.task_class(n).VERDICT_AXES for n in names])
    methods.recipes(params, names)
    counts = {"tasks": 0, "method settings": 0, "explainer settings": 0}
    for name in names:
        task = tasks.get(name, params)
        recipes.load_recipe(params, task.recipe_key)
        attribution_vectors.settings(params, name)
        xai.n_images(params, name)
        for m in methods.names(params, task.METHODS):
            methods.settings(params, m, name)
            counts["method settings"] += 1
        for e in xai.names(params, task.EXPLAINERS):
            xai.settings(params, e)
            counts["explainer settings"] += 1
        counts["tasks"] += 1
    return counts


def datasets(params: dict) -> list[str]:
    """Every section of ``data``, validated by the reader of its format (stages.data.readers)."""
    data = config.get(params, "data")
    if not isinstance(data, dict) or not data:
        raise ParamError("data: expected a mapping dataset name -> its section (with its format)")
    for name in data:
        readers.get(params, name).load(params)
    return list(data)


def resolved(params: dict) -> dict[str, dict]:
    """The files of ``data/settings`` (relative path -> content): see the module docstring."""
    out = {}
    for name in tasks.all_names(params):
        task = tasks.get(name, params)
        out[f"tasks/{name}.json"] = {"repeats": task.repeats}
        listed = methods.names(params, task.METHODS)
        out[f"lists/{name}.json"] = {"methods": listed, "explainers": xai.names(params, task.EXPLAINERS)}
        for m in listed:
            own, epochs = methods.settings(params, m, name)
            out[f"methods/{name}/{m}.json"] = {"settings": own, "epochs": epochs}
    for dataset in config.get(params, "data"):
        try:
            owner = tasks.for_dataset(dataset, params)
        except config.ParamError:  # no task reads it: its train stage has nothing to train for
            out[f"datasets/{dataset}.json"] = {"repeats": None}
        else:
            out[f"datasets/{dataset}.json"] = {"repeats": owner.repeats}
    return out


def main(argv=None):
    st = Stage("check_params", __doc__, argv)
    counts = check(st.params)
    for rel, content in resolved(st.params).items():
        io.write_json(f"{SETTINGS}/{rel}", content)
    io.write_text(OUT, "params.yaml checked: every plugin list and section a stage reads\n")
    st.log.info("params.yaml valid: %s", ", ".join(f"{v} {k}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
