"""The import floors of docs/reference/architecture.md, read from the source with `ast`: no import
points up a floor, no two modules import each other (directly or round a longer circle), and no
function-local import hides either — a function may import only a heavy or optional library
(DEFERRED), so that `import judge...` stays cheap and a missing extra fails where it is used.

The checker runs on the real package and on small packages made here that break each rule, so a
rule that could never fail would show."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# (folder, the dotted name it installs as): the repo keeps train/ at the top, installed it is
# judge.train (pyproject.toml's package-dir)
PACKAGES = ((ROOT / "judge", "judge"), (ROOT / "train", "judge.train"))

# Top to bottom; an import may point to its own floor or below. The longest prefix decides.
FLOORS: dict[str, int] = {
    "judge.cli": 7, "judge.__main__": 7,
    "judge.api": 6,
    # train runs judged evaluations through the compare stages, so it stands beside them
    # trackers log what a finished run, leaderboard or sweep folder holds
    "judge.pipeline": 5, "judge.sweep": 5, "judge.train": 5, "judge.trackers": 5,
    "judge.engines": 4, "judge.templates": 4, "judge.stats": 4, "judge.report": 4,
    "judge.card": 4, "judge.benchmarks": 4, "judge.promptsets": 4, "judge.models": 4,
    "judge.runs": 3,
    "judge.records": 1, "judge.files": 1, "judge.errors": 1, "judge.escape": 1,
    "judge.sandbox": 1, "judge.patterns": 1, "judge.resources": 1, "judge.frames": 1,
    "judge": 1,
}

# The only libraries a function may import, each for a reason: heavy to import (seconds or
# hundreds of MB: a CLI call that never uses it should not pay), or an optional extra (a missing
# one fails where it is used, with the extra's name).
DEFERRED: dict[str, str] = {
    "torch": "heavy", "vllm": "heavy, optional extra", "transformers": "heavy",
    "trl": "optional extra (train)", "peft": "optional extra (train)",
    "accelerate": "optional extra (train)", "lm_eval": "heavy, optional extra (bench)",
    "matplotlib": "heavy, optional extra (bench)", "ray": "optional", "httpx": "optional (openai)",
    "huggingface_hub": "heavy (pulls requests, tqdm, the hub client)", "datasets": "heavy",
    "pyarrow": "heavy", "playwright": "optional (dev)", "flow_judge": "optional",
    "jinja2": "only the pages and templates render with it",
    "markupsafe": "jinja2's, with it", "gguf": "heavy (the bundled model's conversion)",
    "tqdm": "only a progress bar needs it",
    "pandas": "optional extra (pandas): only .to_pandas() needs it",
    "wandb": "optional extra (trackers)", "mlflow": "optional extra (trackers)",
    "tensorboard": "optional extra (trackers)",
    "PIL": "optional (matplotlib's): a tracker's images",
}

# Function-local imports of judge modules that are allowed, each with why: the two commands
# whose modules import transformers and torch at their top (judge.train's callbacks subclass
# transformers' TrainerCallback) import them when run, so no other command pays seconds for them.
ALLOWED_LOCAL: dict[tuple[str, str], str] = {
    ("judge.cli.train", "judge.train.run"): "imports transformers and torch",
    ("judge.cli.sweep", "judge.sweep.run"): "imports judge.train, so transformers and torch",
    # the package's front door re-exports the Python API when first asked for (PEP 562's module
    # __getattr__), so `import judge` stays light; nothing below the API calls it, so these are
    # no arrows up at import time and close no circle
    ("judge", "judge.api"): "judge.compare & co., loaded on first use",
}


def module_names(packages) -> dict[str, Path]:
    names = {}
    for folder, dotted in packages:
        for path in sorted(folder.rglob("*.py")):
            parts = [*dotted.split("."), *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names[".".join(parts)] = path
    return names


def floor_of(module: str, floors: dict[str, int]) -> int | None:
    """Its floor: the longest key of `floors` it is or lies in (the top package's own key is for
    its __init__ alone, so a new package is on no floor until it is placed)."""
    parts = module.split(".")
    if len(parts) == 1:
        return floors.get(module)
    for n in range(len(parts), 1, -1):
        if ".".join(parts[:n]) in floors:
            return floors[".".join(parts[:n])]
    return None


class Import:
    def __init__(self, target: str, line: int, local: bool) -> None:
        self.target, self.line, self.local = target, line, local


def imports_of(module: str, path: Path, known: dict[str, Path]) -> list[Import]:
    """Every import of `module`: the module it names (for `from A import b`, A.b when that is a
    module), its line, and whether a function body holds it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                found.extend(Import(a.name, child.lineno, local) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*up, base] if base else up)
                for alias in child.names:
                    sub = f"{base}.{alias.name}"
                    found.append(Import(sub if sub in known else base, child.lineno, local))
            visit(child, inner)

    visit(tree, False)
    unique = {(imp.target, imp.line, imp.local): imp for imp in found}  # `from a import b, c`
    return list(unique.values())


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def check(packages, floors: dict[str, int], deferred=DEFERRED, allowed=ALLOWED_LOCAL,
          own: str = "judge") -> list[str]:
    """Every breach of the floors in `packages`, one line each."""
    known = module_names(packages)
    problems: list[str] = []
    edges: dict[str, set[str]] = {}
    for module, path in known.items():
        where = floor_of(module, floors)
        if where is None:
            problems.append(f"{module}: on no floor (add its package to FLOORS and the map)")
            continue
        for imp in imports_of(module, path, known):
            top = imp.target.split(".")[0]
            ours = top == own
            at = f"{module}:{imp.line} imports {imp.target}"
            if (module, imp.target) in allowed:
                continue
            if imp.local and ours:
                problems.append(f"{at} inside a function: import it at the top")
            elif imp.local and not ours and top not in deferred:
                problems.append(f"{at} inside a function: only heavy or optional libraries "
                                "(DEFERRED) are imported there")
            if not ours or imp.target not in known:
                continue
            target_floor = floor_of(imp.target, floors)
            if target_floor is not None and target_floor > where:
                problems.append(f"{at}: an arrow up, floor {where} to {target_floor}")
            if imp.target != module:
                edges.setdefault(module, set()).add(imp.target)
    problems += [f"import cycle: {' -> '.join(c)}" for c in cycles(edges)]
    return problems


def test_judge_keeps_its_floors():
    problems = check(PACKAGES, FLOORS)
    assert problems == [], "\n".join(problems)


def test_the_cli_loads_no_heavy_library():
    """What the allow-list is for: `judge --help` and `judge report` import no training stack."""
    code = ("import sys, judge.cli.main, judge.api; "
            "print(sorted(m for m in ('torch', 'transformers', 'trl', 'vllm', 'datasets') "
            "if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env=os.environ | {"HF_HUB_OFFLINE": "1"})
    assert found.stdout.strip() == "[]"


def test_every_floor_prefix_is_a_real_package():
    known = module_names(PACKAGES)
    assert all(any(m == p or m.startswith(p + ".") for m in known) for p in FLOORS)


def make_package(tmp_path: Path, modules: dict[str, str]) -> tuple[tuple[Path, str], ...]:
    root = tmp_path / "pkg"
    for name, text in {"__init__": "", **modules}.items():
        path = root / f"{name.replace('.', '/')}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(text)
    return ((root, "pkg"),)


SMALL_FLOORS = {"pkg": 1, "pkg.low": 1, "pkg.high": 2, "pkg.mid": 1}


def test_an_arrow_up_fails(tmp_path):
    packages = make_package(tmp_path, {"low": "from pkg.high import thing\n",
                                       "high": "thing = 1\n", "mid": ""})
    problems = check(packages, SMALL_FLOORS, own="pkg")
    assert problems == ["pkg.low:1 imports pkg.high: an arrow up, floor 1 to 2"]


def test_a_cycle_on_one_floor_fails_also_round_three_modules(tmp_path):
    packages = make_package(tmp_path, {"low": "import pkg.mid\n", "mid": "from pkg import sub\n",
                                       "sub": "from . import low\n", "high": ""})
    problems = check(packages, SMALL_FLOORS | {"pkg.sub": 1}, own="pkg")
    assert problems == ["import cycle: pkg.low -> pkg.mid -> pkg.sub"]


def test_a_function_local_import_fails_unless_it_defers_a_heavy_library(tmp_path):
    text = ("import json\n\ndef f():\n    from pkg.low import x\n    import torch\n"
            "    import csv\n    return x, torch, csv, json\n")
    packages = make_package(tmp_path, {"high": text, "low": "x = 1\n", "mid": ""})
    problems = check(packages, SMALL_FLOORS, own="pkg")
    assert problems == [
        "pkg.high:4 imports pkg.low inside a function: import it at the top",
        "pkg.high:6 imports csv inside a function: only heavy or optional libraries (DEFERRED) "
        "are imported there",
    ]
    assert check(packages, SMALL_FLOORS, allowed={("pkg.high", "pkg.low"): "why"},
                 own="pkg")[:1] == [problems[1]]


def test_a_module_on_no_floor_fails(tmp_path):
    packages = make_package(tmp_path, {"low": "", "high": "", "mid": "", "new.thing": ""})
    assert check(packages, SMALL_FLOORS, own="pkg") == [
        "pkg.new: on no floor (add its package to FLOORS and the map)",
        "pkg.new.thing: on no floor (add its package to FLOORS and the map)"]


@pytest.mark.parametrize("name", sorted(DEFERRED))
def test_deferred_names_are_libraries_not_stdlib(name):
    assert name not in sys.stdlib_module_names
