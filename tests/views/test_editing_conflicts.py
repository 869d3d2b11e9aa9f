"""The stale-read path: another store object (another process's view) changes what the window shows; the
window's edit then overwrites nothing, the banner says what changed, and Reload and Reapply both work.
Undo is checked the same way."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from edit_helpers import fact_index, reopened, select, v1_categories, v1_doc
from PySide6.QtCore import QModelIndex

from memgui.app import MainWindow
from memgui.models.json_tree_model import COL_VALUE, JsonTreeModel
from memgui.models.memories_model import COL_CONTENT
from memgui.store import JsonMemoryStore

MakeWindow = Callable[..., MainWindow]
UID = "bruno"


@pytest.fixture
def window(make_window: MakeWindow, demo: JsonMemoryStore, qtbot: Any) -> MainWindow:
    demo.add_user_fact(UID, "Plays the cello", "hobbies")
    demo.store_permanent_memory(UID, "First met on a rainy Tuesday", "milestones")
    w = make_window(demo, select=UID, tab="facts")
    select(w, qtbot, UID, "facts")
    return w


@pytest.fixture
def other(demo: JsonMemoryStore) -> Iterator[JsonMemoryStore]:
    """The same folder opened by someone else."""
    store = reopened(Path(demo.root))
    yield store
    store.close()


def _top(model: JsonTreeModel, key: str, column: int = COL_VALUE) -> QModelIndex:
    for row in range(model.rowCount()):
        if model.index(row, 0).data() == key:
            return model.index(row, column)
    raise AssertionError(key)


def test_fact_changed_elsewhere_is_not_overwritten_then_reload(window: MainWindow, demo: JsonMemoryStore,
                                                               other: JsonMemoryStore) -> None:
    root = Path(demo.root)
    index = fact_index(window, "Plays the cello")
    other.update_user_fact(UID, "hobbies", "Plays the cello", "Plays the cello and the piano", by="assistant")
    assert not index.model().setData(index, "Plays the viola")
    assert "Plays the cello and the piano" in v1_categories(root, UID)["hobbies"]
    assert "Plays the viola" not in v1_categories(root, UID)["hobbies"]
    banner = window.edit_banner
    assert banner.isVisible() and banner.kind == "conflict"
    assert "changed meanwhile to “Plays the cello and the piano”" in banner.text.text()
    assert banner.reload_button.isVisible() and banner.reapply_button.isVisible()
    assert not window.window_actions.undo_action.isEnabled()  # nothing was done, nothing to undo
    banner.reload_button.click()
    assert not banner.isVisible()
    assert fact_index(window, "Plays the cello and the piano").isValid()
    assert "Plays the cello and the piano" in v1_categories(root, UID)["hobbies"]


def test_fact_conflict_reapply_writes_the_change_on_top(window: MainWindow, demo: JsonMemoryStore,
                                                        other: JsonMemoryStore) -> None:
    root = Path(demo.root)
    index = fact_index(window, "Plays the cello")
    other.update_user_fact(UID, "hobbies", "Plays the cello", "Plays the cello badly", new_category="music",
                           by="assistant")
    assert not index.model().setData(index, "Plays the viola")
    assert "moved meanwhile" not in window.edit_banner.text.text()  # text and category changed
    assert "“Plays the cello badly” in “music”" in window.edit_banner.text.text()
    window.edit_banner.reapply_button.click()
    assert not window.edit_banner.isVisible()
    categories = v1_categories(root, UID)
    assert "Plays the viola" in categories["hobbies"] and "music" not in categories
    assert fact_index(window, "Plays the viola").isValid()
    # removed meanwhile: reapplying an edit adds the fact as edited
    index = fact_index(window, "Plays the viola")
    other.remove_user_fact(UID, "hobbies", "Plays the viola")
    assert not index.model().setData(index, "Plays the viola well")
    assert "removed meanwhile" in window.edit_banner.text.text()
    window.edit_banner.reapply_button.click()
    assert "Plays the viola well" in v1_categories(root, UID)["hobbies"]


def test_undo_is_checked_too(window: MainWindow, demo: JsonMemoryStore, other: JsonMemoryStore) -> None:
    root = Path(demo.root)
    actions = window.window_actions
    index = fact_index(window, "Plays the cello")
    assert index.model().setData(index, "Plays the harp")
    other.update_user_fact(UID, "hobbies", "Plays the harp", "Plays the harp at weddings", by="assistant")
    actions.undo_action.trigger()
    assert "Plays the harp at weddings" in v1_categories(root, UID)["hobbies"]  # not overwritten
    assert "changed meanwhile to “Plays the harp at weddings”" in window.edit_banner.text.text()
    assert actions.undo_action.isEnabled() and actions.undo_action.text() == "&Undo Change fact “Plays the cello”"
    assert not actions.redo_action.isEnabled()  # the stack did not move
    window.edit_banner.reapply_button.click()  # undo on top of the other change
    categories = v1_categories(root, UID)
    assert "Plays the cello" in categories["hobbies"] and "Plays the harp at weddings" not in categories["hobbies"]
    assert actions.undo_action.text().startswith("&Undo Undo: Change fact")
    actions.undo_action.trigger()  # and that can be undone in turn
    assert "Plays the harp at weddings" in v1_categories(root, UID)["hobbies"]


def test_profile_conflict_reload_and_reapply(window: MainWindow, demo: JsonMemoryStore,
                                             other: JsonMemoryStore) -> None:
    root = Path(demo.root)
    window.show_tab("profile")
    model = window.profile_model
    index = _top(model, "bio")
    other.set_profile_field(UID, "bio", "Written by the assistant")
    assert not model.setData(index, "Written by the admin")
    assert v1_doc(root, UID, "user_profile.json")["bio"] == "Written by the assistant"
    assert "profile field “bio” was changed meanwhile to “Written by the assistant”" in window.edit_banner.text.text()
    window.edit_banner.reload_button.click()
    assert _top(model, "bio").data() == "Written by the assistant"
    other.set_profile_field(UID, "bio", "Changed again")
    assert not model.setData(_top(model, "bio"), "Written by the admin")
    window.edit_banner.reapply_button.click()
    assert v1_doc(root, UID, "user_profile.json")["bio"] == "Written by the admin"
    assert _top(model, "bio").data() == "Written by the admin"


def test_global_context_and_memory_conflicts(window: MainWindow, demo: JsonMemoryStore,
                                             other: JsonMemoryStore) -> None:
    root = Path(demo.root)
    model = window.global_model
    other.delete_global_context("maintenance_window")
    assert not model.setData(_top(model, "maintenance_window"), "Mondays")
    assert "removed meanwhile" in window.edit_banner.text.text()
    assert "maintenance_window" not in json.loads((root / "global_context.json").read_text("utf-8"))
    window.edit_banner.reapply_button.click()
    assert demo.get_global_context("maintenance_window") == "Mondays"

    memories = window.memories_model
    row = next(r for r in range(memories.rowCount()) if memories.index(r, 0).data() == "milestones")
    other.update_permanent_memory(UID, 0, "milestones", {"content": "First met on a sunny Tuesday"})
    assert not memories.setData(memories.index(row, COL_CONTENT), "First met on a Wednesday")
    stored = v1_doc(root, UID, "permanent_memories.json")["memories"]["milestones"]
    assert [m["content"] for m in stored] == ["First met on a sunny Tuesday"]
    assert "changed meanwhile to “First met on a sunny Tuesday”" in window.edit_banner.text.text()
    window.edit_banner.reload_button.click()
    assert memories.index(row, COL_CONTENT).data() == "First met on a sunny Tuesday"
    assert memories.setData(memories.index(row, COL_CONTENT), "First met on a Wednesday")
    stored = v1_doc(root, UID, "permanent_memories.json")["memories"]["milestones"]
    assert [m["content"] for m in stored] == ["First met on a Wednesday"]


def test_a_change_by_another_process(window: MainWindow, demo: JsonMemoryStore) -> None:
    """The same, with the change made by a separate Python process through the store."""
    root = Path(demo.root)
    index = fact_index(window, "Plays the cello")
    script = ("import sys; from memgui.store import JsonMemoryStore, build_config; "
              "s = JsonMemoryStore(build_config({'DATA_DIR': sys.argv[1]}, environ={})); "
              "s.update_user_fact('bruno', 'hobbies', 'Plays the cello', 'Plays the cello at night', by='assistant'); "
              "s.close()")
    subprocess.run([sys.executable, "-c", script, str(root)], check=True, timeout=60)
    assert not index.model().setData(index, "Plays the drums")
    assert "Plays the cello at night" in v1_categories(root, UID)["hobbies"]
    assert "Plays the drums" not in v1_categories(root, UID)["hobbies"]
    assert "“Plays the cello at night”" in window.edit_banner.text.text()
    window.edit_banner.reapply_button.click()
    assert "Plays the drums" in v1_categories(root, UID)["hobbies"]
    assert "Plays the cello at night" not in v1_categories(root, UID)["hobbies"]
