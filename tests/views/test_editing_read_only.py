"""--read-only: every edit path is refused, visibly, and nothing under DATA_DIR changes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from edit_helpers import fact_index, select, tree_digest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QLineEdit

from memgui.app import MainWindow
from memgui.models.edits import FactAdd
from memgui.models.facts_model import COL_CATEGORY
from memgui.models.json_tree_model import COL_VALUE
from memgui.models.memories_model import COL_CONTENT
from memgui.store import JsonMemoryStore

MakeWindow = Callable[..., MainWindow]


def test_read_only_refuses_every_edit(make_window: MakeWindow, demo: JsonMemoryStore, qtbot: Any) -> None:
    root = Path(demo.root)
    window = make_window(demo, read_only=True, select="bruno", tab="facts")
    select(window, qtbot, "bruno", "facts")
    digest = tree_digest(root)
    badge = window.findChild(QLabel, "readOnlyBadge")
    assert badge is not None and badge.isVisible() and "Read-only" in badge.text()
    actions = window.window_actions
    for action in (actions.undo_action, actions.redo_action, actions.import_action, actions.forget_action,
                   actions.delete_action, actions.move_action, actions.json_action, actions.new_fact_action,
                   *actions.export_actions.values()):
        assert not action.isEnabled(), action.text()
    # models: nothing is editable and setData is refused
    facts = window.facts_pane.proxy
    text = facts.index(0, 1).data()
    index = fact_index(window, text)
    assert not index.flags() & Qt.ItemFlag.ItemIsEditable
    assert not facts.setData(index, "overwritten")
    assert not facts.setData(fact_index(window, text, COL_CATEGORY), "elsewhere")
    memories = window.memories_model
    if memories.rowCount():
        assert not memories.setData(memories.index(0, COL_CONTENT), "overwritten")
    profile = window.profile_model
    name_row = next(r for r in range(profile.rowCount()) if profile.index(r, 0).data() == "name")
    assert not profile.index(name_row, COL_VALUE).flags() & Qt.ItemFlag.ItemIsEditable
    assert not profile.setData(profile.index(name_row, COL_VALUE), "Someone else")
    assert not window.global_model.setData(window.global_model.index(0, COL_VALUE, QModelIndex()), "x")
    # views: editors do not open, edit bars are disabled and say why
    view = window.facts_pane.table
    assert view.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers
    assert not view.edit(index, QAbstractItemView.EditTrigger.AllEditTriggers, None)
    assert view.findChild(QLineEdit) is None
    for pane in (window.facts_pane, window.memories_pane, window.profile_pane, window.global_pane):
        assert pane.edit_bar is not None and not pane.edit_bar.isEnabled() and "Read-only" in pane.edit_bar.toolTip()
    assert not window.facts_pane.details.restore_button.isEnabled()
    # even a direct request to the controller is refused with a message
    assert not actions.editor.submit(FactAdd("bruno", "notes", "written anyway"))
    assert "read-only" in window.edit_banner.text.text()
    window.facts_pane.delete_selected()
    actions.editor.undo()
    assert tree_digest(root) == digest
