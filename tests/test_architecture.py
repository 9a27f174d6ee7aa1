"""The shape of the house: no import circles in advopt/ (package ``__init__`` files included),
every module importable first in a fresh interpreter, no module over 400 lines, and one
tuning loop (no dispatch on an optimiser's name in the tuner)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400


def _modules(package: str) -> dict[str, Path]:
    modules = {}
    for path in (ROOT / package).rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    return modules


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules of the package that ``path`` imports, at its top or inside a function
    (``from a import b`` counts as importing a.b when b is a module, else a)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                found.add(target if target in modules else node.module)
    found = {name for name in found if name in modules}
    # Importing a.b.c runs the packages a and a.b first; those edges close circles too (a
    # module's own packages excepted: Python is already inside them).
    own = _parents(_name_of(path, modules))
    for name in list(found):
        found |= {parent for parent in _parents(name) if parent in modules and parent not in own}
    return found


def _parents(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def _name_of(path: Path, modules: dict[str, Path]) -> str:
    return next(name for name, where in modules.items() if where == path)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_circles():
    modules = _modules("advopt")
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    assert _cycles(graph) == []


FIRST_IMPORTS = """
import importlib, sys
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.split(".")[0] in ("advopt", "simulators")]:
        del sys.modules[loaded]  # each module imported as if it were the first
    try:
        importlib.import_module(name)
    except Exception as error:
        failed.append(f"{name}: {type(error).__name__}: {error}")
print("\\n".join(failed))
"""


def test_every_module_imports_first():
    names = sorted(name for package in ("advopt", "simulators") for name in _modules(package)
                   if not name.endswith("__main__"))
    out = subprocess.run([sys.executable, "-c", FIRST_IMPORTS, *names], capture_output=True, text=True, cwd=ROOT,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "", out.stdout


def test_no_private_name_is_imported_from_another_module():
    """A name shared between modules is public there; ``_name`` stays inside its module."""
    found = []
    for package in ("advopt", "simulators"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] in (
                        "advopt", "simulators"):
                    found += [f"{path.relative_to(ROOT)}: {node.module}.{alias.name}" for alias in node.names
                              if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert found == []


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_is_over_400_lines():
    sizes = {str(path.relative_to(ROOT)): len(path.read_text().splitlines())
             for package in ("advopt", "simulators") for path in (ROOT / package).rglob("*.py")}
    assert {path: n for path, n in sizes.items() if n >= MAX_LINES} == {}


def _code_words(path: Path) -> set[str]:
    """The names and string constants of a module's code (its docstrings left out)."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    words = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            words.add(node.value)
        elif isinstance(node, ast.Name):
            words.add(node.id)
        elif isinstance(node, ast.Attribute):
            words.add(node.attr)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            words |= {alias.name for alias in node.names} | {getattr(node, "module", None) or ""}
    return words


def test_the_loop_the_simulations_and_the_tuner_know_no_method():
    """One method protocol: the loop, the batch simulator and the tuner never name a method,
    its class or its module (the registry builds them by name)."""
    methods = {"pooled", "variational", "bayes", "random", "PooledOptimizer", "Variational", "PerPoint",
               "BayesOptimizer", "RandomSearch", "advopt.pooled.estimator", "advopt.avo.method", "advopt.methods.per_point"}
    for module in ("tuner.py", "loop.py", "simulation_batches.py"):
        assert _code_words(ROOT / "advopt" / module) & methods == set(), module


def test_the_method_word_check_sees_names_and_strings_not_docstrings(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('"""pooled in a docstring"""\nfrom advopt.methods.per_point import PerPoint\nx = PerPoint if y == "bayes" else z.random\n')
    words = _code_words(sample)
    assert {"PerPoint", "bayes", "random", "advopt.methods.per_point"} <= words and "pooled in a docstring" not in words
