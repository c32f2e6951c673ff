"""The code's own bar, checked with the tests: ruff and mypy --strict clean, and the rooms of the
package import only downward (import-linter's layers contract in pyproject.toml)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean() -> None:
    result = run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_rooms_import_only_downward() -> None:
    # Through this interpreter (lint-imports may not be on PATH): the package has no __main__.
    code = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"
    result = subprocess.run([sys.executable, "-c", code, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_no_module_at_the_top_of_the_package() -> None:
    top = sorted(p.name for p in (ROOT / "hotstack").glob("*.py"))
    assert top == ["__init__.py", "__main__.py"]


# Where a hotstack import may sit inside a function: the click layer loads one command's
# module when that command runs, so `--help` does not import every room.
LAZY_IMPORTS_ALLOWED = {"hotstack/cli/main.py"}


def test_no_function_level_imports_of_hotstack() -> None:
    found = []
    for path in sorted((ROOT / "hotstack").rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text())
        typing_only = {id(n) for block in ast.walk(tree) if _is_type_checking(block) for n in ast.walk(block)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.ImportFrom) and node.col_offset > 0 and id(node) not in typing_only
                    and (node.module or "").startswith("hotstack") and rel not in LAZY_IMPORTS_ALLOWED):
                found.append(f"{rel}:{node.lineno} from {node.module}")
    assert not found, "function-level imports (move them to the top; a cycle means a layer is wrong):\n" + \
        "\n".join(found)


def _is_type_checking(node: ast.AST) -> bool:
    """`if TYPE_CHECKING:` blocks import for the type checker only."""
    return isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def test_test_modules_have_unique_basenames() -> None:
    """pytest imports test modules by basename (rootdir conftest, no packages): two alike in
    different folders stop the whole run at collection."""
    names = [p.name for p in Path(__file__).resolve().parent.parent.rglob("test_*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []
