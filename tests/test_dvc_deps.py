"""dvc.yaml declares every code file a stage can run: the AST import closure of its ``python -m stages.X``
module inside the ``stages`` package (module-level and function-level imports, and the plugin modules it
loads by name) must be covered by the stage's ``deps`` (the file itself or a folder holding it). A file holding
nothing but a docstring (a package marker such as ``stages/__init__.py``) cannot change a result and is not
required: every dependency costs each no-op ``dvc repro`` about 0.8 ms, and ``stages/__init__.py`` alone was 92 of
them. It is required again as soon as it holds a statement."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from dvc.repo import Repo

from tests.conftest import ROOT

PKG = ROOT / "stages"


def module_file(name: str) -> Path | None:
    rel = Path(*name.split("."))
    for cand in (ROOT / rel.with_suffix(".py"), ROOT / rel / "__init__.py"):
        if cand.exists():
            return cand
    return None


def imports_of(path: Path) -> set[str]:
    """Modules of the ``stages`` package imported anywhere in ``path`` (``from a import b`` also yields ``a.b``)."""
    tree = ast.parse(path.read_text())
    here = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    pkg = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    pkg = pkg.removesuffix(".__init__")
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = pkg.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in out if m == "stages" or m.startswith("stages.")}


def has_code(path: Path) -> bool:
    """Whether the file holds anything but a docstring (comments and blank lines are not statements)."""
    body = ast.parse(path.read_text()).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return bool(body)


def with_parents(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def closure(module: str, plugins: set[str]) -> set[Path]:
    todo, seen, files = [module, *plugins], set(), set()
    while todo:
        name = todo.pop()
        for m in with_parents(name):
            if m in seen:
                continue
            seen.add(m)
            f = module_file(m)
            if f is not None:
                files.add(f)
                todo += sorted(imports_of(f))
    return files


def plugin_modules(cmd: str, params: dict) -> set[str]:
    """Modules a stage loads by name from its arguments (a task, a method, an explainer) and what they name."""
    from stages import tasks

    args = dict(re.findall(r"--(\w+) (\S+)", cmd))
    out = set()
    if "task" in args:
        out.add(f"stages.tasks.{args['task']}")
        t = tasks.task_class(args["task"])
        if t.EVALUATION and re.search(r"stages\.(evaluate)\b", cmd):
            out.add(f"stages.metrics.families.{t.EVALUATION}")
    if "dataset" in args and re.search(r"stages\.train\b", cmd):  # the Original is defined by the dataset's first task
        out |= {f"stages.tasks.{tasks.for_dataset(args['dataset'], params).name}"}
    if "method" in args:
        out.add(f"stages.methods.{args['method']}")
    if re.search(r"stages\.task_models\b", cmd):  # every method of the task's list
        from stages import methods

        out |= {f"stages.methods.{m}" for m in methods.names(params, tasks.task_class(args["task"]).METHODS)}
    if "explainer" in args:
        out.add(f"stages.xai.{args['explainer']}")
    if re.search(r"stages\.(explain_report|report)\b", cmd):  # every explainer's class (its metric names)
        from stages.core import config

        section = tasks.task_class(args["task"]).EXPLAINERS if "task" in args else "explainers"
        out |= {f"stages.xai.{n}" for n in config.get(params, section)}
    if re.search(r"stages\.agents_table\b", cmd):  # the agents tasks it reads
        out |= {f"stages.tasks.{n}" for n in params["tracks"]["agents"]}
    return out


def stages_of_repo():
    repo = Repo(str(ROOT))
    try:
        return [(s.name, s.cmd, [str(Path(d.def_path)) for d in s.deps if not hasattr(d, "params") or
                 d.__class__.__name__ != "ParamsDependency"]) for s in repo.index.stages]
    finally:
        repo.close()


STAGES = stages_of_repo()


@pytest.mark.parametrize("name,cmd,deps", STAGES, ids=[s[0] for s in STAGES])
def test_every_imported_file_is_a_dep(name, cmd, deps):
    import yaml

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    m = re.search(r"python -m (stages\.\w+)", cmd)
    assert m, f"{name}: command {cmd!r} does not run a stages module"
    files = closure(m.group(1), plugin_modules(cmd, params))
    covered = [ROOT / d for d in deps]
    missing = sorted(str(f.relative_to(ROOT)) for f in files
                     if has_code(f) and not any(f == c or c in f.parents for c in covered))
    assert not missing, f"{name}: imports {missing} but does not declare them in deps"


def test_the_image_folder_stages_declare_every_import(tmp_path):
    """The stages that profiles/images.yaml adds (an image folder, its dataset and its task; none by default), checked
    as above in a scratch project with the profile applied."""
    import contextlib

    from stages.core import config
    from tests.test_profile import applied_project

    project = applied_project(tmp_path, "images")
    params = config.read_params(str(project / "params.yaml"))
    with contextlib.chdir(project):
        repo = Repo(".")
        try:
            stages = [(s.name, s.cmd, [str(Path(d.def_path)) for d in s.deps if d.__class__.__name__ !=
                       "ParamsDependency"]) for s in repo.index.stages if "images" in s.name]
        finally:
            repo.close()
    assert len(stages) == 9
    for name, cmd, deps in stages:
        files = closure(re.search(r"python -m (stages\.\w+)", cmd).group(1), plugin_modules(cmd, params))
        missing = sorted(str(f.relative_to(ROOT)) for f in files
                         if has_code(f) and not any(f == ROOT / d or ROOT / d in f.parents for d in deps))
        assert not missing, f"{name}: imports {missing} but does not declare them in deps"


def test_the_closure_follows_imports():
    """The closure itself: stages.unlearn reaches the methods base through stages.methods.base."""
    files = {str(f.relative_to(ROOT)) for f in closure("stages.unlearn", {"stages.methods.confuse"})}
    assert {"stages/unlearn.py", "stages/methods/base.py", "stages/methods/confuse.py", "stages/models/fitting.py",
            "stages/core/config.py", "stages/__init__.py"} <= files


@pytest.mark.parametrize("text,code", [
    ('"""A package marker."""\n', False),
    ("", False),
    ("# a comment only\n\n", False),
    ('"""Doc."""\nimport os\n', True),
    ('"""Doc."""\nX = 1\n', True),
    ("pass\n", True),
    ('X = 1\n"""not a module docstring"""\n', True),
    ('"""Doc."""\n"""a second string is a statement"""\n', True),
])
def test_only_a_docstring_is_exempt(tmp_path, text, code):
    f = tmp_path / "m.py"
    f.write_text(text)
    assert has_code(f) is code


def test_the_exempt_files_are_the_docstring_only_ones():
    """Which files of the package the rule lets a stage leave out: only markers, never a module with code."""
    exempt = sorted(str(p.relative_to(ROOT)) for p in PKG.rglob("*.py") if not has_code(p))
    assert "stages/__init__.py" in exempt
    assert "stages/tasks/__init__.py" not in exempt  # holds get(): required
    for rel in exempt:
        assert ast.parse((ROOT / rel).read_text()).body[0].value.value.strip()  # a docstring, not an empty file
