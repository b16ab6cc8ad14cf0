"""Every shell command that README.md and docs/*.md show works.

The commands are the lines of the ```bash code blocks (comments dropped, `\\` continuations joined, `&&`, `;` and `|`
split, redirections dropped). Each is checked in a safe form that trains nothing and writes nothing into the
repository, failing with the command's text and the reason:

- ``dvc ...``: parsed by DVC's own command-line parser (an unknown subcommand or flag fails). For ``dvc repro``,
  ``dvc exp run`` and ``dvc stage list`` DVC then plans the run in a scratch copy of the pipeline's YAML files, as
  ``dvc repro --dry`` does before it prints anything: every target resolved with its upstream stages (no target: the
  whole pipeline's graph), after the command's ``-S`` overrides were applied by DVC's own code
  (``dvc.utils.hydra.apply_overrides``, what ``dvc exp run -S`` calls) and the result validated by
  ``stages.check_params``. A stage name, a pipeline path, a key or a value that does not exist fails. The other
  subcommands (push, pull, plots, metrics, queue, ...) are parsed only.
- ``python -m stages.X ...`` and ``python bench/X.py ...``: the script's own argparse parser reads the arguments (the
  script runs up to its ``parse_args`` and stops there); a script without argparse must compile.
- ``python3 -m venv DIR``: the module exists; ``pip install -r FILE -e DIR``: the files exist; ``pytest PATHS``: the
  paths exist; ``bash FILE``: ``bash -n`` accepts it; ``git SUB``: git knows the subcommand; ``. .venv/bin/activate``,
  ``tee``, ``cd`` and environment assignments (``CUDA_VISIBLE_DEVICES=0 dvc ...``) need nothing more.

A command of any other program fails until a check is added for it. The DVC plans are grouped by their overrides (one
scratch project and one DVC index per group), which keeps the whole file to a few tens of seconds.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import re
import runpy
import shlex
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"bash", "sh", "shell", "console"}
OPERATORS = {"&&", "||", ";", "|"}
REDIRECT = re.compile(r"(?<!\S)\d*(?:>>|>&|>|<)\s*\S+")
ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


# ---------------------------------------------------------------------------------------------------- extraction
def shell_blocks(path: Path) -> list[tuple[int, str]]:
    """(first line number, text) of every shell code block of a markdown file."""
    out, lang, start, buf = [], None, 0, []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        fence = re.match(r"^\s*```\s*(\S*)\s*$", line)
        if fence and lang is None:
            lang, start, buf = fence.group(1).lower(), n + 1, []
        elif fence:
            if lang in SHELL:
                out.append((start, "\n".join(buf)))
            lang = None
        elif lang is not None:
            buf.append(line)
    return out


def split_commands(text: str) -> list[str]:
    """The simple commands of a block of shell text, each as one string."""
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        lex = shlex.shlex(REDIRECT.sub("", line), posix=True, punctuation_chars=";&|")
        lex.whitespace_split = True
        words = []
        for tok in list(lex) + [";"]:
            if tok in OPERATORS:
                if words:
                    out.append(shlex.join(words))
                words = []
            else:
                words.append(tok)
    return out


def collect() -> list[tuple[str, str]]:
    cmds = []
    for path in DOCS:
        for start, text in shell_blocks(path):
            cmds += [(f"{path.relative_to(ROOT)}:{start}", c) for c in split_commands(text)]
    return cmds


COMMANDS = collect()


# ---------------------------------------------------------------------------------------------------- checks
class _Parsed(Exception):
    """Raised by the patched ArgumentParser.parse_args once a script's arguments parsed."""


@contextlib.contextmanager
def _stop_after_parse(argv: list[str]):
    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        original(self, args, namespace)
        raise _Parsed

    old_argv = sys.argv
    sys.argv = argv
    argparse.ArgumentParser.parse_args = parse_then_stop
    try:
        yield
    finally:
        argparse.ArgumentParser.parse_args = original
        sys.argv = old_argv


def check_python(args: list[str]) -> str | None:
    """``python -m module ...`` or ``python script.py ...``: parse the arguments with the script's own parser."""
    if args[:1] == ["-m"]:
        module, rest = args[1], args[2:]
        if not module.startswith("stages."):  # e.g. venv: the module exists
            return None if importlib.util.find_spec(module) else f"no module {module}"
        if importlib.util.find_spec(module) is None:
            return f"no module {module} (no file {module.replace('.', '/')}.py)"
        def run():  # as `python -m`: a fresh __main__ (runpy warns when a test imported the module already)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                runpy.run_module(module, run_name="__main__", alter_sys=True)
        source = Path(importlib.util.find_spec(module).origin).read_text()
        argv0 = module
    else:
        script = ROOT / args[0]
        if not script.is_file():
            return f"no file {args[0]}"
        source, rest, argv0 = script.read_text(), args[1:], str(script)
        run = lambda: runpy.run_path(str(script), run_name="__main__")  # noqa: E731
    if "argparse" not in source:
        compile(source, argv0, "exec")
        return None
    err = io.StringIO()
    try:
        with _stop_after_parse([argv0, *rest]), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(err):
            run()
    except _Parsed:
        return None
    except SystemExit as e:
        return None if e.code in (0, None) else f"exit {e.code}: {err.getvalue().strip()[-400:]}"
    except Exception as e:  # noqa: BLE001 - report whatever stopped the script before its arguments parsed
        return f"{type(e).__name__}: {e}"
    return "the script never parsed its arguments"


def parse_dvc(argv: list[str]):
    """DVC's own parser: (namespace, None) or (None, why not)."""
    from dvc.cli import DvcParserError, parse_args

    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            return parse_args(argv), None
    except (DvcParserError, SystemExit):
        return None, f"dvc does not accept these arguments {err.getvalue().strip()[-300:]}"


def scratch_project(base: Path, overrides: tuple[str, ...]) -> tuple[Path | None, str | None]:
    """A scratch DVC project holding the pipeline's YAML files, params.yaml with ``overrides`` applied and validated."""
    from dvc.utils.hydra import apply_overrides

    from stages import check_params
    from stages.core import config

    base.mkdir(parents=True)
    (base / ".dvc").mkdir()
    (base / ".dvc" / "config").write_text("[core]\n    no_scm = true\n    analytics = false\n"
                                          "    check_update = false\n")
    for f in [ROOT / "params.yaml", ROOT / "dvc.yaml", *(ROOT / "pipelines").glob("*/dvc.yaml")]:
        dst = base / f.relative_to(ROOT)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, dst)
    try:
        if overrides:
            apply_overrides(str(base / "params.yaml"), list(overrides))
        check_params.check(config.read_params(str(base / "params.yaml")))
    except Exception as e:  # noqa: BLE001 - DVC's and our validation errors alike
        cause = f" ({e.__cause__})" if e.__cause__ else ""
        return None, f"-S {' -S '.join(overrides)}: {type(e).__name__}: {e}{cause}"
    return base, None


def plan(repo, targets: list[str]) -> str | None:
    """What ``dvc repro [targets]`` plans before it runs anything: every target resolved with its upstream stages
    (``repo.stage.collect(target, with_deps=True)``), or, without targets, the whole pipeline's graph."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            if not targets:
                repo.index.check_graph()
            for t in targets:
                repo.stage.collect(t, with_deps=True)
    except Exception as e:  # noqa: BLE001 - DVC's errors: unknown stage, bad pipeline path, interpolation, ...
        return f"{type(e).__name__}: {e}"
    return None


def check_dvc_runs(cmds: list[tuple[str, list[str]]], tmp: Path) -> dict[str, str | None]:
    """Result per command of its dvc repro / exp run / stage list, grouped by the overrides they apply: one scratch
    project and one DVC index per group."""
    from dvc.repo import Repo

    groups: dict[tuple, list] = {}
    for cmd, argv in cmds:
        args, _ = parse_dvc(argv)
        if args is not None:
            groups.setdefault(tuple(getattr(args, "set_param", None) or ()), []).append((cmd, args))
    results = {}
    for k, (overrides, members) in enumerate(groups.items()):
        project, err = scratch_project(tmp / f"g{k}", overrides)
        if err:
            results.update({cmd: err for cmd, _ in members})
            continue
        # in the project, as on the command line: DVC reads a target's path relative to the working directory
        with contextlib.chdir(project), Repo(".") as repo:
            for cmd, a in members:
                results[cmd] = plan(repo, list(a.targets or []))
    return results


def needs_dry_run(argv: list[str]) -> bool:
    return argv[:1] == ["repro"] or argv[:2] == ["exp", "run"] or argv[:2] == ["stage", "list"]


def words(cmd: str) -> list[str]:
    w = shlex.split(cmd)
    while w and ENV.match(w[0]):
        w = w[1:]
    return w


def check(cmd: str, dry: dict) -> str | None:
    w = words(cmd)
    prog, args = w[0], w[1:]
    if prog == "dvc":
        parsed, err = parse_dvc(args)
        if err:
            return err
        return dry.get(cmd) if needs_dry_run(args) else None
    if prog in ("python", "python3"):
        return check_python(args)
    if prog == "pip":
        if args[:1] != ["install"]:
            return f"no check for pip {args[:1]}"
        paths = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-r", "-e")]
        missing = [p for p in paths if not (ROOT / p).exists()]
        return f"missing {missing}" if missing else None
    if prog == "pytest":
        missing = [a for a in args if not a.startswith("-") and not (ROOT / a.split("::")[0]).exists()]
        return f"missing {missing}" if missing else None
    if prog == "bash":
        f = ROOT / args[0]
        if not f.is_file():
            return f"no file {args[0]}"
        r = subprocess.run(["bash", "-n", str(f)], capture_output=True, text=True)
        return None if r.returncode == 0 else r.stderr
    if prog == "git":
        r = subprocess.run(["git", args[0], "-h"], capture_output=True, text=True, cwd=ROOT)
        return None if f"usage: git {args[0]}" in r.stdout + r.stderr else f"git has no subcommand {args[0]}"
    if prog in (".", "source"):  # activating a virtual environment made by the command before
        return None if len(args) == 1 and args[0].endswith("bin/activate") else "only a venv's bin/activate"
    if prog == "cd":
        return None if len(args) == 1 else "cd takes one folder"
    if prog == "tee":
        return None if shutil.which("tee") else "no tee"
    return f"no check for program {prog!r}: add one to tests/test_readme_commands.py"


@pytest.fixture(scope="module")
def dry(tmp_path_factory):
    runs = [(c, words(c)[1:]) for _, c in COMMANDS if words(c)[0] == "dvc" and needs_dry_run(words(c)[1:])]
    return check_dvc_runs(runs, tmp_path_factory.mktemp("dvc"))


# ---------------------------------------------------------------------------------------------------- tests
def test_the_docs_show_commands():
    """Every shell block yields commands, and the quick start's are among them (the extraction works)."""
    for path in DOCS:
        for start, text in shell_blocks(path):
            assert split_commands(text), f"{path.name}:{start}: a shell block without a command"
    cmds = [c for _, c in COMMANDS]
    assert {"dvc repro", "pytest", "dvc repro report@digits_class"} <= set(cmds)
    assert split_commands("A=1 dvc repro x \\\n  y 2>&1 | tee log  # note\ncd a && pytest") == [
        "A=1 dvc repro x y", "tee log", "cd a", "pytest"]


@pytest.mark.parametrize("where, cmd", COMMANDS, ids=[c for _, c in COMMANDS])
def test_command_works(where, cmd, dry):
    err = check(cmd, dry)
    assert err is None, f"{where}: `{cmd}` does not work: {err}"


@pytest.mark.parametrize("cmd, why", [
    ("dvc repro report@no_such_task", "not found"),                       # a task params.yaml does not hold
    ("dvc repro synthesize_ltd", "not found"),                            # a sub-pipeline's stage needs its file
    ("dvc exp run -S unlearn.methods.random_labels.epochs.utk=2", "Could not override"),  # a key params.yaml lacks
    ("dvc exp run -S unlearn.methods.prune.amount=2", "amount"),          # a value the stage would refuse
    ("dvc push --no-such-flag", "does not accept"),
    ("python -m stages.sweep no_such_sweep", "exit 2"),
    ("python -m stages.no_such_stage", "no module"),
])
def test_the_checks_catch_broken_commands(cmd, why, tmp_path):
    w = words(cmd)
    dry = check_dvc_runs([(cmd, w[1:])], tmp_path) if w[0] == "dvc" and needs_dry_run(w[1:]) else {}
    err = check(cmd, dry)
    assert err is not None and why in err, err
