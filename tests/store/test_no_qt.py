"""memgui.store never imports Qt: the assistant runs it on servers without a display or PySide6.

A fresh interpreter with PySide6 made unimportable (a ``sys.meta_path`` finder that raises ImportError)
imports every module of the package and uses the store; and no module's source imports a Qt binding.
"""

from __future__ import annotations

import ast
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import memgui.store

QT_MODULES = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "PySide2", "qtpy", "pyqtgraph")
PACKAGE_DIR = Path(memgui.store.__file__).parent

BLOCKER = """
import importlib.abc, sys

class NoQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"PySide6", "shiboken6"}:
            raise ImportError(f"{name} is blocked for this test")
        return None

sys.meta_path.insert(0, NoQt())
for name in list(sys.modules):
    if name.split(".")[0] in {"PySide6", "shiboken6"}:
        del sys.modules[name]
"""

CHECK = BLOCKER + """
try:
    import PySide6  # noqa
except ImportError:
    pass
else:
    raise SystemExit("the blocker did not block PySide6")

import importlib, pkgutil, tempfile
import memgui.store
from memgui.store import initialize, get_memory_store

names = [m.name for m in pkgutil.walk_packages(memgui.store.__path__, "memgui.store.")]
for name in names:
    if name.rsplit(".", 1)[-1] != "__main__":
        importlib.import_module(name)

with tempfile.TemporaryDirectory() as folder:
    initialize({"DATA_DIR": folder, "DEFAULT_TIMEZONE": "UTC"})
    memory = get_memory_store()
    memory.get_or_create_user("user123", "JohnDoe")
    memory.add_message("user123", "user", "Hello, Elysia!")
    memory.add_user_fact("user123", "Lives in New York", "location")
    assert memory.get_message_history("user123")[0]["content"] == "Hello, Elysia!"
    assert memory.get_user_facts("user123") == {"location": ["Lives in New York"]}
    assert memory.update_streak("user123")["current_streak"] == 1
    memory.close()

loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"PySide6", "shiboken6", "PyQt5", "PyQt6"})
assert not loaded, loaded
print("imported", len(names), "modules without Qt")
"""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_store_works_with_pyside6_unimportable() -> None:
    result = _run(CHECK)
    assert result.returncode == 0, result.stderr
    assert "without Qt" in result.stdout


def test_the_blocker_really_blocks() -> None:
    """The check above proves something only if a Qt import fails under the blocker."""
    result = _run(BLOCKER + "\nfrom PySide6 import QtCore\n")
    assert result.returncode != 0
    assert "blocked for this test" in result.stderr


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            names.add(str(node.args[0].value))
    return names


def test_no_module_of_the_store_imports_qt() -> None:
    sources = sorted(PACKAGE_DIR.rglob("*.py"))
    assert len(sources) >= 10, "the package was not found"
    offenders = {}
    for path in sources:
        qt = {name for name in _imported_modules(path) if name.split(".")[0] in QT_MODULES}
        if qt:
            offenders[str(path.relative_to(PACKAGE_DIR))] = sorted(qt)
    assert offenders == {}


def test_every_module_is_found_by_the_walk() -> None:
    walked = {m.name.rsplit(".", 1)[-1] for m in pkgutil.walk_packages(memgui.store.__path__)}
    on_disk = {p.stem for p in PACKAGE_DIR.glob("*.py") if p.stem != "__init__"}
    assert on_disk <= walked
