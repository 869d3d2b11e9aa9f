"""Helpers of the editing tests: pick a user and a tab, find cells, and read the files as a v1-only reader
would (plain ``json`` on the v1 keys, nothing of the store)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex

from memgui.app import MainWindow
from memgui.models.facts_model import COL_CATEGORY, COL_TEXT
from memgui.store import JsonMemoryStore, build_config


def select(window: MainWindow, qtbot: Any, user_id: str, tab: str | None = None) -> None:
    """Make ``user_id`` current and wait until its panes are loaded."""
    window.users_pane.select_user(user_id)
    qtbot.waitUntil(lambda: window.is_loaded() and window.conversation_model.user_id == user_id
                    and window.window_actions.editor.user_id == user_id, timeout=10_000)
    if tab:
        assert window.show_tab(tab)


def fact_index(window: MainWindow, text: str, column: int = COL_TEXT) -> QModelIndex:
    """The factsView (proxy) index of the fact ``text`` in ``column``."""
    proxy = window.facts_pane.proxy
    for row in range(proxy.rowCount()):
        if proxy.index(row, COL_TEXT).data() == text:
            return proxy.index(row, column)
    raise AssertionError(f"no fact {text!r} shown")


def shown_facts(window: MainWindow) -> list[tuple[str, str]]:
    proxy = window.facts_pane.proxy
    return [(proxy.index(r, COL_CATEGORY).data(), proxy.index(r, COL_TEXT).data()) for r in range(proxy.rowCount())]


def v1_doc(root: Path, user_id: str, name: str) -> Any:
    """A user's v1 file read with plain json, as the older implementation reads it."""
    return json.loads((root / user_id / name).read_text("utf-8"))


def v1_categories(root: Path, user_id: str) -> dict[str, list[str]]:
    categories = v1_doc(root, user_id, "user_facts.json")["categories"]
    assert isinstance(categories, dict) and all(isinstance(v, list) for v in categories.values())
    return categories


def as_sets(categories: dict[str, list[str]]) -> dict[str, list[str]]:
    """Categories with their facts sorted: what an undo that re-adds at the end restores."""
    return {k: sorted(v) for k, v in categories.items()}


def reopened(root: Path) -> JsonMemoryStore:
    """Another store object over the same folder (a fresh process's view)."""
    return JsonMemoryStore(build_config({"DATA_DIR": root, "DEFAULT_TIMEZONE": "UTC"}, environ={}))


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under ``root`` (lock files aside, which writers touch by design) and a hash of its bytes."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.endswith(".lock"):
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out
