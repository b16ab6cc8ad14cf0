"""Reading and validating ``params.yaml``.

Every stage declares the schema of the section(s) it reads and calls :func:`load` at start.
An unknown key, a wrong type or an out-of-range value raises :class:`ParamError` whose message
names the full dotted key, e.g. ``unlearn.prune_amount = 1.2: must be < 1``.

Schemas are plain nested dicts whose leaves are small spec objects::

    SCHEMA = {"epochs": Int(min=1), "lr": Float(min=0, min_open=True), "optimizer": Choice("sgd", "adam")}
    cfg = load("train.ltd", SCHEMA)
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import yaml

PARAMS_FILE = os.environ.get("UNLEARN_PARAMS", "params.yaml")


class ParamError(ValueError):
    """A setting in params.yaml is missing, unknown, of the wrong type or out of range."""


@dataclass
class Spec:
    optional: bool = field(default=False, kw_only=True)
    default: Any = field(default=None, kw_only=True)

    def check(self, key: str, value: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class Num(Spec):
    min: float | None = None
    max: float | None = None
    min_open: bool = False  # exclusive lower bound
    max_open: bool = False  # exclusive upper bound
    kind: type = float

    def check(self, key, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamError(f"{key} = {value!r}: expected a number")
        if self.kind is int and not isinstance(value, int):
            raise ParamError(f"{key} = {value!r}: expected an integer")
        if self.min is not None and (value < self.min or (self.min_open and value == self.min)):
            raise ParamError(f"{key} = {value!r}: must be {'>' if self.min_open else '>='} {self.min}")
        if self.max is not None and (value > self.max or (self.max_open and value == self.max)):
            raise ParamError(f"{key} = {value!r}: must be {'<' if self.max_open else '<='} {self.max}")
        return self.kind(value)


def Int(min=None, max=None, **kw) -> Num:
    return Num(min=min, max=max, kind=int, **kw)


def Float(min=None, max=None, **kw) -> Num:
    return Num(min=min, max=max, kind=float, **kw)


@dataclass
class Bool(Spec):
    def check(self, key, value):
        if not isinstance(value, bool):
            raise ParamError(f"{key} = {value!r}: expected true or false")
        return value


@dataclass
class Str(Spec):
    allow_empty: bool = False

    def check(self, key, value):
        if not isinstance(value, str):
            raise ParamError(f"{key} = {value!r}: expected a string")
        if not value and not self.allow_empty:
            raise ParamError(f"{key}: must not be empty")
        return value


class Choice(Spec):
    def __init__(self, *choices, **kw):
        super().__init__(**kw)
        self.choices = choices

    def check(self, key, value):
        if value not in self.choices:
            raise ParamError(f"{key} = {value!r}: must be one of {', '.join(map(repr, self.choices))}")
        return value


class List(Spec):
    """A list whose items all follow ``item``; ``length`` fixes its size, ``min_len`` bounds it."""

    def __init__(self, item: Spec | dict, length: int | None = None, min_len: int = 0, **kw):
        super().__init__(**kw)
        self.item, self.length, self.min_len = item, length, min_len

    def check(self, key, value):
        if not isinstance(value, list):
            raise ParamError(f"{key} = {value!r}: expected a list")
        if self.length is not None and len(value) != self.length:
            raise ParamError(f"{key}: expected {self.length} items, got {len(value)}")
        if len(value) < self.min_len:
            raise ParamError(f"{key}: expected at least {self.min_len} items, got {len(value)}")
        return [_check(f"{key}[{i}]", self.item, v) for i, v in enumerate(value)]


def _check(key: str, spec, value):
    if isinstance(spec, dict):
        return validate(value, spec, key)
    return spec.check(key, value)


def validate(section: Any, schema: dict, prefix: str) -> dict:
    """Validate ``section`` (a dict from params.yaml) against ``schema``; return the checked dict."""
    if not isinstance(section, dict):
        raise ParamError(f"{prefix}: expected a mapping of settings, got {section!r}")
    unknown = sorted(set(section) - set(schema))
    if unknown:
        raise ParamError(f"{prefix}.{unknown[0]}: unknown key (known: {', '.join(sorted(schema))})")
    out = {}
    for name, spec in schema.items():
        key = f"{prefix}.{name}" if prefix else name
        if name not in section:
            if isinstance(spec, Spec) and spec.optional:
                out[name] = spec.default
                continue
            raise ParamError(f"{key}: missing")
        out[name] = _check(key, spec, section[name])
    return out


# The sections of params.yaml. Any other top-level key (a typo such as ``unlearnn``) stops every stage.
TOP_LEVEL = ("seed", "device", "repeats", "tasks", "tracks", "data", "train", "attributions", "unlearn", "explainers",
             "explain", "agents", "evaluate", "verdict")


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping is an error (plain YAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ParamError(f"{self.name}:{key_node.start_mark.line + 1}: key {key!r} given twice in one mapping")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_params(path: str | None = None) -> dict:
    with open(path or PARAMS_FILE) as f:
        params = yaml.load(f, Loader=_UniqueKeyLoader) or {}
    if not isinstance(params, dict):
        raise ParamError(f"{path or PARAMS_FILE}: expected a mapping of sections")
    unknown = sorted(set(params) - set(TOP_LEVEL))
    if unknown:
        raise ParamError(f"{unknown[0]}: unknown section of params.yaml (known: {', '.join(TOP_LEVEL)})")
    return params


def get(params: dict, dotted: str):
    node = params
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ParamError(f"{dotted}: missing from params.yaml")
        node = node[part]
    return node


def load(dotted: str, schema: dict, params: dict | None = None) -> dict:
    """Read section ``dotted`` of params.yaml and validate it against ``schema``."""
    params = read_params() if params is None else params
    return validate(get(params, dotted), schema, dotted)


GLOBAL_SCHEMA = {"seed": Int(min=0), "device": Choice("auto", "cpu", "cuda")}


def load_global(params: dict | None = None) -> dict:
    """The top-level ``seed`` and ``device`` settings (``repeats``, per task: ``stages.tasks.repeats``)."""
    params = read_params() if params is None else params
    return {k: _check(k, s, get(params, k)) for k, s in GLOBAL_SCHEMA.items()}


@dataclass
class Section(Spec):
    """A sub-section validated by the stage that owns it (accepted as is here)."""

    def check(self, key, value):
        if not isinstance(value, dict):
            raise ParamError(f"{key}: expected a mapping of settings")
        return value


def ratios(key: str, value: dict) -> dict:
    """Check that split ratios are positive and sum to 1."""
    if abs(sum(value.values()) - 1) > 1e-6:
        raise ParamError(f"{key}: ratios must sum to 1, got {sum(value.values())}")
    return value
