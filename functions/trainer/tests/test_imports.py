"""The package's import graph: no cycles, and the algorithm library never imports the worker.

The graph is read from the source with ``ast`` (nothing is imported, so it needs no torch and sees every
import, including those inside functions, which a cycle through a lazy import still is). Edges:
``import a.b`` gives a.b; ``from a.b import c`` gives a.b.c when c is a module, else a.b; relative imports
are resolved against the importing module's package. The implicit import of a parent package (its
``__init__``) is not an edge, as Python runs it before the child without a cycle problem. Only edges inside
the package count.
"""
import ast
import os
from typing import Dict, List, Optional, Set

import pytest

PACKAGE = "ril_trainer"
WORKER = f"{PACKAGE}.worker"
# modules allowed to import the worker: the worker itself and the CLI that dispatches `worker`
WORKER_USERS = {f"{PACKAGE}.__main__"}
ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), PACKAGE)


def module_files(root: str, package: str) -> Dict[str, str]:
    """Dotted module name -> file, for every .py under the package directory `root`."""
    out = {}
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        rel = os.path.relpath(d, root)
        prefix = package if rel == "." else package + "." + rel.replace(os.sep, ".")
        for f in files:
            if f.endswith(".py"):
                out[prefix if f == "__init__.py" else f"{prefix}.{f[:-3]}"] = os.path.join(d, f)
    return out


def import_graph(root: str = ROOT, package: str = PACKAGE) -> Dict[str, Set[str]]:
    files = module_files(root, package)
    graph: Dict[str, Set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        is_pkg = path.endswith("__init__.py")
        here = mod if is_pkg else mod.rpartition(".")[0]  # the package relative imports start from
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):  # every node: top-level and function-level imports alike
            targets: List[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base_parts = here.split(".")
                    base_parts = base_parts[:len(base_parts) - (node.level - 1)]
                    base = ".".join(base_parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                # `from x import y`: the module x.y if there is one, else a name defined in x
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            graph[mod].update(t for t in targets if t in files and t != mod)
    return graph


def find_cycle(graph: Dict[str, Set[str]]) -> Optional[List[str]]:
    """One cycle as [a, b, ..., a], or None (depth-first search with an explicit colour per module)."""
    colour: Dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: List[str] = []

    def visit(m: str) -> Optional[List[str]]:
        colour[m] = 1
        path.append(m)
        for n in sorted(graph.get(m, ())):
            if colour.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in colour:
                found = visit(n)
                if found:
                    return found
        path.pop()
        colour[m] = 2
        return None

    for m in sorted(graph):
        if m not in colour:
            found = visit(m)
            if found:
                return found
    return None


def worker_imports(graph: Dict[str, Set[str]], package: str = PACKAGE) -> List[str]:
    """'a -> b' for every algorithm module a importing the worker subpackage b."""
    worker = f"{package}.worker"
    users = {f"{package}.__main__"}
    is_worker = lambda m: m == worker or m.startswith(worker + ".")  # noqa: E731
    return sorted(f"{m} -> {t}" for m, ts in graph.items() if not is_worker(m) and m not in users
                  for t in ts if is_worker(t))


# ---------------------------------------------------------------------------------------------
# The package
# ---------------------------------------------------------------------------------------------

def test_the_graph_sees_the_package():
    g = import_graph()
    # guards against a checker that silently finds nothing: known edges, top-level and lazy
    assert f"{PACKAGE}.train" in g[f"{PACKAGE}.__main__"]
    assert f"{PACKAGE}.distributed" in g[f"{PACKAGE}.sft"]
    assert f"{PACKAGE}.rl" in g[f"{PACKAGE}.train"]  # imported inside register_builtin()
    assert f"{PACKAGE}.evaluate" in g[f"{PACKAGE}.suite_eval"]  # `from .evaluate import` inside a method
    assert f"{PACKAGE}.answers" in g[f"{PACKAGE}.judges"] and f"{PACKAGE}.answers" in g[f"{PACKAGE}.evaluate"]


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_algorithm_modules_never_import_the_worker():
    assert worker_imports(import_graph()) == []


# ---------------------------------------------------------------------------------------------
# The checker, on a package written for the purpose (so a re-added cycle cannot pass unnoticed)
# ---------------------------------------------------------------------------------------------

def _write(root, files: Dict[str, str]) -> str:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return str(root)


@pytest.fixture
def pkg(tmp_path):
    return lambda files: import_graph(_write(tmp_path / "pkg", {"__init__.py": "", **files}), "pkg")


def test_checker_finds_a_cycle_through_a_function_level_import(pkg):
    g = pkg({"a.py": "from .b import f\n", "b.py": "def f():\n    from .a import x\n", "c.py": "import pkg.a\n"})
    assert find_cycle(g) == ["pkg.a", "pkg.b", "pkg.a"]


def test_checker_finds_a_cycle_through_from_package_import_module(pkg):
    g = pkg({"a.py": "from . import b\n", "sub/__init__.py": "", "sub/m.py": "from .. import a\n",
             "b.py": "from .sub import m\n"})
    assert find_cycle(g) == ["pkg.a", "pkg.b", "pkg.sub.m", "pkg.a"]


def test_checker_passes_an_acyclic_package(pkg):
    g = pkg({"a.py": "import os\nfrom .b import f\n", "b.py": "from . import c\n", "c.py": "import json\n"})
    assert find_cycle(g) is None and g["pkg.a"] == {"pkg.b"} and g["pkg.b"] == {"pkg.c"}


def test_checker_finds_an_algorithm_module_importing_the_worker(pkg):
    g = pkg({"worker/__init__.py": "from .loop import main\n", "worker/loop.py": "from ..rl import train\n",
             "rl.py": "def f():\n    from .worker.loop import main\n", "__main__.py": "from .worker import main\n"})
    assert worker_imports(g, "pkg") == ["pkg.rl -> pkg.worker.loop"]
