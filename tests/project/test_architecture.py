"""The layering the code keeps: app modules import each other at the top (a function-local
import of an app hides a cycle), and their top-level imports form no cycle."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("annotations", "anomalies", "classifiers", "core", "explorer", "generative", "jobs", "taxonomy", "zooniverse")


def app_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = module if is_package else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        base = base.rpartition(".")[0]
    prefix = f"{base}.{node.module}" if node.level and node.module else (base if node.level else node.module)
    return [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]


def function_local_app_imports() -> list[str]:
    found = []
    for module, path in app_modules().items():
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) or function.name == "ready":
                continue  # AppConfig.ready() is where wiring happens, after every app is loaded
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    names = imported(node, module, path.name == "__init__.py")
                    if any(name.split(".")[0] in APPS for name in names):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return sorted(set(found))


def import_cycles() -> list[list[str]]:
    modules = app_modules()
    graph = {}
    for module, path in modules.items():
        targets = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                targets.update(n for n in imported(node, module, path.name == "__init__.py") if n in modules)
        graph[module] = targets - {module}
    cycles, state = [], {}

    def visit(module, stack):
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                visit(target, stack + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


def test_no_function_local_imports_of_the_apps():
    assert function_local_app_imports() == []


def test_the_app_modules_import_each_other_without_cycles():
    assert import_cycles() == []


# The import-linter contracts in pyproject.toml: kept by the tree, broken by a planted violation.
PACKAGES = (
    "core",
    "jobs",
    "annotations",
    "anomalies",
    "classifiers",
    "generative",
    "taxonomy",
    "zooniverse",
    "explorer",
    "mlcore",
)


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(lint), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_of_the_tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_dependency_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    "module, source, contract",
    [
        ("mlcore/planted.py", "import django\n", "mlcore is a plain library"),
        ("classifiers/planted.py", "from zooniverse import models\n", "Layers"),
        ("jobs/planted.py", "from annotations import models\n", "Layers"),
        ("generative/planted.py", "from annotations.api import views\n", "annotation API"),
        ("taxonomy/api/planted.py", "from classifiers.api import views\n", "another app's API"),
    ],
)
def test_a_planted_violation_breaks_its_contract(tmp_path, module, source, contract):
    tree = copy_of_the_tree(tmp_path)
    (tree / module).write_text(source)
    result = lint_imports(tree)
    assert result.returncode != 0
    assert contract in result.stdout.split("Broken contracts")[-1], result.stdout
