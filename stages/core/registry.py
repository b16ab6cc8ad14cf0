"""Finding a plugin by name: module ``stages/<package>/<name>.py`` and its class (shared by tasks, methods,
explainers, metric families and the dataset readers).

A plugin module defines exactly one class that subclasses its package's base class (:data:`BASES`), under a name of
its own, like pytorch-grad-cam's ``class GradCAM(BaseCAM)``: ``class GradientAscent(base.Method)`` in
``stages/methods/ga.py``. The plugin's name in params.yaml is the module's name (``ga``), never the class's, so a
class can be renamed without touching params.yaml, the pipeline or any seed (seeds derive from the names of
params.yaml)."""
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


# The plugin packages: package under stages -> (module holding the base class, the base class). A plugin is a module
# of the package defining exactly one class that subclasses the base, directly or through other classes (e.g.
# ``class LTDCounting(base.RegressionTask)``); the module's name is the plugin's name in params.yaml.
BASES = {
    "tasks": ("base", "Task"),
    "methods": ("base", "Method"),
    "xai": ("base", "Explainer"),
    "metrics.families": ("__init__", "Family"),
    "data.readers": ("base", "Reader"),   # one per on-disk format, picked by data.<dataset>.format
}
PACKAGES = Path(__file__).resolve().parents[1]  # stages/


def _base_module(package: str) -> str:
    module, _ = BASES[package]
    return f"stages.{package}" if module == "__init__" else f"stages.{package}.{module}"


def _own_subclasses(module, base: type) -> list[type]:
    """The classes defined in ``module`` (not imported into it) that subclass ``base``, in definition order."""
    found = []
    for value in vars(module).values():
        if (isinstance(value, type) and issubclass(value, base) and value is not base
                and value.__module__ == module.__name__ and value not in found):
            found.append(value)
    return found


def plugin_class(module, base: type) -> type:
    """The one class defined in ``module`` that subclasses ``base``; zero or several are a ParamError naming the
    module. Only the module's own classes count, so that a plugin may import another plugin's class to build on it
    (``class AgentsLSTM(agents_gru.AgentsGRU)``)."""
    found = _own_subclasses(module, base)
    if len(found) != 1:
        what = "no class" if not found else f"{len(found)} classes ({', '.join(c.__name__ for c in found)})"
        raise ParamError(f"module {module.__name__} defines {what} subclassing {base.__module__}.{base.__name__} "
                         f"(a plugin module defines exactly one)")
    return found[0]


def find(package: str, name: str, key: str, what: str):
    """The plugin class of module ``stages.<package>.<name>`` (:func:`plugin_class`); a missing module, or a module
    without exactly one plugin class, is a ParamError naming ``key`` (the params.yaml entry that asked for it)."""
    module_name = f"stages.{package}.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name != module_name:
            raise
        raise ParamError(f"{key}: unknown {what} (no module stages/{package.replace('.', '/')}/{name}.py)") from e
    base = getattr(importlib.import_module(_base_module(package)), BASES[package][1])
    try:
        return plugin_class(module, base)
    except ParamError as e:
        raise ParamError(f"{key}: {e}") from None


# The plugin lists of params.yaml: dotted key -> (package, what an entry is). A mapping list holds name -> settings, a
# plain list holds names. agents.methods picks methods of unlearn.methods.
LISTS = {
    "tasks": ("tasks", "task"),
    "unlearn.methods": ("methods", "unlearning method"),
    "agents.methods": ("methods", "unlearning method"),
    "explainers": ("xai", "explainer"),
    "agents.explainers": ("xai", "explainer"),
}

# The module statements that say what a class subclasses, at the start of a line (top level): class headers and
# imports. A regular expression reads them from every plugin file in a fraction of the time a full parse (ast) takes,
# which every stage would pay at its start (each checks the plugin lists).
_STATEMENTS = re.compile(r"^(?:class (?P<cls>\w+)(?:\((?P<bases>[^)]*)\))?:"
                         r"|from (?P<source>\.*[\w.]*) import (?P<names>\([^)]*\)|[^\n]*)"
                         r"|import (?P<modules>[^\n]*))", re.M)
_READ: dict[Path, tuple[tuple[int, int], list[tuple[str, list[str]]]]] = {}


def _classes(path: Path, package: str) -> list[tuple[str, list[str]]]:
    """The top-level classes of a module file, each as (its dotted name, the dotted names of its bases), the names
    resolved through the module's imports (``base.Method`` after ``from stages.methods import base`` is
    ``stages.methods.base.Method``). Read once per file version."""
    stat = path.stat()
    version = (stat.st_mtime_ns, stat.st_size)
    if path in _READ and _READ[path][0] == version:
        return _READ[path][1]
    pkg = f"stages.{package}"
    here = pkg if path.stem == "__init__" else f"{pkg}.{path.stem}"
    names: dict[str, str] = {}  # a name bound in the module -> what it is, dotted
    found = []
    for m in _STATEMENTS.finditer(path.read_text()):
        if m["cls"]:
            names[m["cls"]] = f"{here}.{m['cls']}"
            found.append((m["cls"], [b.strip() for b in (m["bases"] or "").split(",") if b.strip() and "=" not in b]))
        elif m["source"] is not None:
            source = m["source"]
            level = len(source) - len(source.lstrip("."))
            if level:
                parts = pkg.split(".")
                source = ".".join(parts[:len(parts) - level + 1] + ([source[level:]] if source[level:] else []))
            for item in re.sub(r"#[^\n]*", "", m["names"]).strip("()").split(","):
                name, _, alias = item.strip().partition(" as ")
                if name:
                    names[alias.strip() or name] = f"{source}.{name}"
        else:
            for item in re.sub(r"#.*", "", m["modules"]).split(","):
                name, _, alias = item.strip().partition(" as ")
                if name:
                    names[alias.strip() or name.split(".")[0]] = name if alias else name.split(".")[0]
    out = []
    for cls, bases in found:
        resolved = []
        for b in bases:
            first, _, rest = b.partition(".")
            resolved.append(".".join(filter(None, [names.get(first, first), rest])))
        out.append((f"{here}.{cls}", resolved))
    _READ[path] = (version, out)
    return out


def available(package: str) -> list[str]:
    """The plugins of ``stages/<package>``: the modules defining one class that subclasses the package's base
    (:data:`BASES`), found by reading the files (no import, so checking a list costs no module loading and adds no
    code dependency; a module defining several is a ParamError naming it), and the modules already loaded under the
    package with one such class (a plugin made at run time)."""
    folder = PACKAGES / Path(*package.split("."))
    base_module, base_name = BASES[package]
    base = f"{_base_module(package)}.{base_name}"
    classes = {q: bases for p in sorted(folder.glob("*.py")) for q, bases in _classes(p, package)}

    def subclasses(q: str, seen=()) -> bool:
        return q == base or any(b not in seen and subclasses(b, (*seen, q)) for b in classes.get(q, ()))

    files = set()
    for p in folder.glob("*.py"):
        if p.stem in ("__init__", base_module):
            continue
        own = [q for q, _ in _classes(p, package) if q != base and subclasses(q)]
        if len(own) > 1:
            raise ParamError(f"stages/{package.replace('.', '/')}/{p.name} defines {len(own)} classes "
                             f"({', '.join(q.rsplit('.', 1)[1] for q in own)}) subclassing {base} (a plugin module "
                             f"defines exactly one)")
        if own:
            files.add(p.stem)
    prefix = f"stages.{package}."
    loaded = set()
    base_mod = sys.modules.get(_base_module(package))  # no plugin of the package is loaded until its base is
    if base_mod is not None:
        base_cls = getattr(base_mod, base_name)
        loaded = {n[len(prefix):] for n, m in list(sys.modules.items())
                  if n.startswith(prefix) and n != base_mod.__name__ and "." not in n[len(prefix):]
                  and _own_subclasses(m, base_cls)}
    return sorted(files | loaded)


def check_names(names, package: str, key: str, what: str) -> list[str]:
    """``names`` as a list: strings, no repeats, each a plugin of ``stages/<package>``; otherwise a ParamError naming
    ``key``, the entry and the known plugins."""
    if not isinstance(names, (list, dict)) or not names:
        raise ParamError(f"{key}: expected a non-empty {'mapping' if isinstance(names, dict) else 'list'} of "
                         f"{what} names")
    names = list(names)
    known = available(package)
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
    for key, (package, what) in LISTS.items():
        node = params
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            check_names(node, package, key, what)
