"""Finding a plugin by name: module ``stages/<package>/<name>.py`` and its class (shared by tasks, methods and
explainers)."""
from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

from stages.core import config
from stages.core.config import ParamError


def mapping_names(params: dict, section: str, what: str) -> list[str]:
    """The keys of a non-empty mapping section of params.yaml (a plugin list whose entries carry settings)."""
    entries = config.get(params, section)
    if not isinstance(entries, dict) or not entries:
        raise ParamError(f"{section}: expected a mapping {what}")
    return list(entries)


def find(package: str, name: str, attr: str, key: str, what: str):
    """Class ``attr`` of module ``stages.<package>.<name>``; a missing module or class is a ParamError naming
    ``key`` (the params.yaml entry that asked for it)."""
    module_name = f"stages.{package}.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name != module_name:
            raise
        raise ParamError(f"{key}: unknown {what} (no module stages/{package}/{name}.py)") from e
    if not hasattr(module, attr):
        raise ParamError(f"{key}: stages/{package}/{name}.py defines no {attr} class")
    return getattr(module, attr)


# The plugin lists of params.yaml: dotted key -> (package, class each module defines, what an entry is). A mapping
# list holds name -> settings, a plain list holds names. agents.methods picks methods of unlearn.methods.
LISTS = {
    "tasks": ("tasks", "Task", "task"),
    "classification.tasks": ("tasks", "Task", "task"),
    "agents.tasks": ("tasks", "Task", "task"),
    "unlearn.methods": ("methods", "Method", "unlearning method"),
    "agents.methods": ("methods", "Method", "unlearning method"),
    "explainers": ("xai", "Explainer", "explainer"),
    "agents.explainers": ("xai", "Explainer", "explainer"),
}
PACKAGES = Path(__file__).resolve().parents[1]  # stages/


def available(package: str, attr: str) -> list[str]:
    """The plugins of ``stages/<package>``: modules defining ``class <attr>(...)``, found by reading the files (no
    import, so checking a list costs no module loading and adds no code dependency), and the modules already loaded
    under the package that define that class (a plugin made at run time)."""
    pattern = re.compile(rf"^class {attr}\(", re.M)
    files = {p.stem for p in (PACKAGES / package).glob("*.py") if pattern.search(p.read_text())}
    prefix = f"stages.{package}."
    loaded = {n[len(prefix):] for n, m in list(sys.modules.items())
              if n.startswith(prefix) and n != f"{prefix}base" and isinstance(getattr(m, attr, None), type)}
    return sorted(files | loaded)


def check_names(names, package: str, attr: str, key: str, what: str) -> list[str]:
    """``names`` as a list: strings, no repeats, each a plugin of ``stages/<package>``; otherwise a ParamError naming
    ``key``, the entry and the known plugins."""
    if not isinstance(names, (list, dict)) or not names:
        raise ParamError(f"{key}: expected a non-empty {'mapping' if isinstance(names, dict) else 'list'} of "
                         f"{what} names")
    names = list(names)
    known = available(package, attr)
    seen = set()
    for i, n in enumerate(names):
        if not isinstance(n, str) or not n:
            raise ParamError(f"{key}[{i}] = {n!r}: expected a {what} name")
        if n in seen:
            raise ParamError(f"{key}: {n!r} appears twice (each {what} once)")
        seen.add(n)
        if n not in known:
            raise ParamError(f"{key}: unknown {what} {n!r} (known: {', '.join(known)})")
    return names


def check_lists(params: dict) -> None:
    """Every plugin list of params.yaml that is present: names known, none repeated (the settings of each plugin are
    checked by the stages that use it and by stage check_params)."""
    for key, (package, attr, what) in LISTS.items():
        node = params
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            check_names(node, package, attr, key, what)
