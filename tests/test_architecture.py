"""The shape of the code, checked from its source: no import circles anywhere in ``memgui``, and the layers
keep to their side (the store never imports Qt or the window; models hold no widgets; views do no file I/O
and never reach back into the window; a backend never imports another, and the business rules import none).

Every import statement counts, wherever it stands (module level, inside a function, under TYPE_CHECKING):
a circle hidden in a function is still a circle a reader has to untangle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "memgui"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(path: Path) -> set[str]:
    """Every name ``path`` imports, resolved to absolute dotted names (``from a import b`` gives ``a.b`` when
    ``a.b`` is a module of ours, else ``a``)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            subs = {f"{source}.{alias.name}" for alias in node.names}
            found |= subs if subs <= MODULES.keys() else {source} | (subs & MODULES.keys())
    return found


GRAPH = {name: {d for d in imported(path) if d in MODULES and d != name} for name, path in MODULES.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_circle_finder_finds_circles() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles_in_memgui() -> None:
    assert len(GRAPH) > 50  # the whole package was read
    assert circles(GRAPH) == []


def in_layer(prefix: str) -> dict[str, set[str]]:
    return {name: imported(MODULES[name]) for name in MODULES if name == prefix or name.startswith(prefix + ".")}


def offenders(layer: dict[str, set[str]], forbidden: re.Pattern[str]) -> dict[str, list[str]]:
    return {name: sorted(d for d in deps if forbidden.match(d)) for name, deps in layer.items()
            if any(forbidden.match(d) for d in deps)}


def test_the_store_imports_neither_qt_nor_the_window() -> None:
    assert offenders(in_layer("memgui.store"), re.compile(r"(PySide6|shiboken6|memgui\.(models|views|app))\b")) == {}


def test_models_hold_no_widgets() -> None:
    assert offenders(in_layer("memgui.models"), re.compile(r"(PySide6\.QtWidgets|memgui\.(views|app))\b")) == {}


def test_views_never_reach_back_into_the_window() -> None:
    assert offenders(in_layer("memgui.views"), re.compile(r"memgui\.app\b")) == {}


FILE_IO = re.compile(r"(^|[^.\w])open\(|json\.loads?\(|os\.replace|\.write_text\(|\.read_text\(|\.write_bytes\(|"
                     r"\.read_bytes\(|shutil\.")


@pytest.mark.parametrize("path", sorted((PACKAGE / "views").glob("*.py")), ids=lambda p: p.name)
def test_views_do_no_file_io(path: Path) -> None:
    code = [line for line in path.read_text("utf-8").splitlines() if not line.lstrip().startswith("#")]
    assert [line for line in code if FILE_IO.search(line)] == []


BACKENDS = "memgui.store.backends"
#: The rules and what they stand on: the interface, the seam, documents, ids, time, values, errors, config.
RULE_MODULES = [name for name in MODULES if name.startswith("memgui.store.rules.")] + [
    f"memgui.store.{m}" for m in ("interface", "backend", "documents", "ids", "timeutil", "values", "errors", "config")]


def backend_of(module: str) -> str | None:
    """``json`` for ``memgui.store.backends.json.core``; None outside the backends."""
    if not module.startswith(BACKENDS + "."):
        return None
    return module[len(BACKENDS) + 1:].split(".")[0]


def test_there_are_backends_and_rules() -> None:
    assert {backend_of(m) for m in MODULES} >= {"json", "memory", None}
    assert all(name in MODULES for name in RULE_MODULES) and len(RULE_MODULES) > 10


def test_backends_do_not_import_each_other() -> None:
    crossing = {name: sorted(d for d in imported(path) if backend_of(d) not in (None, backend_of(name)))
                for name, path in MODULES.items() if backend_of(name)}
    assert {name: deps for name, deps in crossing.items() if deps} == {}


def test_business_rules_import_no_backend() -> None:
    reaching = {name: sorted(d for d in imported(MODULES[name]) if d.startswith(BACKENDS)) for name in RULE_MODULES}
    assert {name: deps for name, deps in reaching.items() if deps} == {}
