"""Training recipes: the schema of each model family's recipe (``train.<dataset>``, ``agents.train``) and the
validated recipe a stage trains with."""
from __future__ import annotations

from stages.core import config
from stages.core.config import Bool, Choice, Float, Int, Str
from stages.models import resnet

AUGMENT = {"hflip": Float(min=0, max=1), "rotation": Float(min=0, max=180), "brightness": Float(min=0, max=1),
           "contrast": Float(min=0, max=1), "invert": Float(min=0, max=1)}
RESNET = {  # train.<dataset>: the recipe of the dataset's Original and of every Retrain on it
    "arch": Choice(*resnet.ARCHS), "stem": Choice(*resnet.STEMS), "width": Int(min=4),
    "weights": Str(allow_empty=True), "epochs": Int(min=1),
    "batch_size": Int(min=1), "optimizer": Choice("sgd", "adam"), "lr": Float(min=0, min_open=True),
    "momentum": Float(min=0, max=1), "weight_decay": Float(min=0), "schedule": Choice("constant", "cosine"),
    "loss": Choice("mse", "mae", "cross_entropy"),  # regression: mse | mae; classification: cross_entropy
    "head": Choice("linear", "sigmoid"), "patience": Int(min=0), "ensemble": Int(min=1), "amp": Bool(),
    "augment": AUGMENT,
}
# agents.train: seed 003's multi-agent classifier (stages/models/agents.py), trained with MA-REINFORCE
AGENTS = {
    "family": Choice("agents"), "canvas": Int(min=4), "agents": Int(min=1), "steps": Int(min=1),
    "window": Int(min=1), "hidden": Int(min=4), "start": Choice("fixed", "random"), "epochs": Int(min=1),
    "batch_size": Int(min=1),
    "optimizer": Choice("sgd", "adam"), "lr": Float(min=0, min_open=True), "momentum": Float(min=0, max=1),
    "weight_decay": Float(min=0), "schedule": Choice("constant", "cosine"), "loss": Choice("cross_entropy"),
    "patience": Int(min=0), "ensemble": Int(min=1), "amp": Bool(), "augment": AUGMENT,
}
FAMILIES = {"resnet": RESNET, "agents": AGENTS}   # recipe schema by the recipe's ``family`` (default resnet)
SHARED = ("loss", "augment", "amp")  # recipe keys the unlearning fine-tunes share with training


def load_recipe(params: dict, key: str) -> dict:
    """Validated recipe ``key`` (``train.<dataset>``, or a task's own such as ``agents.train``) and ``train.gpus``."""
    train = config.get(params, "train")
    schema = {"gpus": Int(min=1), **{k: config.Section() for k in train if k != "gpus"}}
    gpus = config.validate(train, schema, "train")["gpus"]
    raw = config.get(params, key)
    family = raw.get("family", "resnet") if isinstance(raw, dict) else "resnet"
    if family not in FAMILIES:
        raise config.ParamError(f"{key}.family = {family!r}: unknown model family (known: {', '.join(FAMILIES)})")
    return {**config.load(key, FAMILIES[family], params), "gpus": gpus}
