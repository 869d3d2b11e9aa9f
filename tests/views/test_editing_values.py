"""Editing the profile, the global context and permanent memories: in place (text stays text, other values
are JSON and checked before anything is written), through the JSON dialog, adding and deleting; each on
disk for a v1-only reader, after reopening, and undone."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from edit_helpers import reopened, select, tree_digest, v1_doc
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtWidgets import QDialog

from memgui.app import MainWindow
from memgui.models.json_tree_model import COL_VALUE, JsonTreeModel
from memgui.models.memories_model import COL_CONTENT, MemoriesModel
from memgui.store import JsonMemoryStore
from memgui.views.dialogs import NO_VALUE, Dialogs, JsonValueDialog
from memgui.views.json_pane import JsonPane

MakeWindow = Callable[..., MainWindow]
UID = "bruno"


@pytest.fixture
def window(make_window: MakeWindow, demo: JsonMemoryStore, qtbot: Any) -> MainWindow:
    demo.store_permanent_memory(UID, "Prefers short answers", "style")
    demo.store_permanent_memory(UID, {"likes": ["tea", "rain"]}, "style")
    w = make_window(demo, select=UID)
    select(w, qtbot, UID, "profile")
    return w


def _child(model: JsonTreeModel, path: list[str], column: int = COL_VALUE) -> QModelIndex:
    parent = QModelIndex()
    for depth, key in enumerate(path):
        row = next(r for r in range(model.rowCount(parent)) if model.index(r, 0, parent).data() == key)
        if depth == len(path) - 1:
            return model.index(row, column, parent)
        parent = model.index(row, 0, parent)
    raise AssertionError(path)


def _profile(demo: JsonMemoryStore) -> dict[str, Any]:
    doc = v1_doc(Path(demo.root), UID, "user_profile.json")
    assert isinstance(doc, dict)
    return doc


def _global(demo: JsonMemoryStore) -> dict[str, Any]:
    doc = json.loads((Path(demo.root) / "global_context.json").read_text("utf-8"))
    return {k: v["value"] for k, v in doc.items()}


def _undo(window: MainWindow) -> None:
    assert window.window_actions.undo_action.isEnabled()
    window.window_actions.undo_action.trigger()


def test_profile_values_in_place(window: MainWindow, demo: JsonMemoryStore) -> None:
    model = window.profile_model
    before = _profile(demo)
    assert model.setData(_child(model, ["bio"]), "Talks about jazz. {not json} <b>")  # text stays text
    assert _profile(demo)["bio"] == "Talks about jazz. {not json} <b>"
    theme = _child(model, ["preferences", "theme"])
    assert model.setData(theme, "solarized")
    email = _child(model, ["preferences", "notifications", "email"])
    assert model.setData(email, "null")  # not text: JSON
    after = _profile(demo)
    assert after["preferences"]["theme"] == "solarized" and after["preferences"]["notifications"]["email"] is None
    assert after["preferences"]["notifications"]["push"] is True  # siblings kept
    again = reopened(Path(demo.root))
    assert again.get_user_profile(UID)["preferences"]["theme"] == "solarized"
    again.close()
    assert not _child(model, ["preferences"]).flags() & Qt.ItemFlag.ItemIsEditable  # containers: the dialog
    for _ in range(3):
        _undo(window)
    assert _profile(demo) == before


def test_invalid_json_is_refused_and_nothing_is_written(window: MainWindow, demo: JsonMemoryStore) -> None:
    root = Path(demo.root)
    digest = tree_digest(root)
    model = window.profile_model
    email = _child(model, ["preferences", "notifications", "email"])
    assert not model.setData(email, "yes please")
    text = window.edit_banner.text.text()
    assert "not valid JSON" in text and "quotes" in text and window.edit_banner.kind == "refusal"
    assert not window.global_model.setData(_child(window.global_model, ["known_users"]), "12 users")
    assert tree_digest(root) == digest
    # the dialog refuses too, and says why, without closing
    dialog = JsonValueDialog("Edit", "k", NO_VALUE, key_editable=True, taken=["bio"], parent=window)
    dialog.text_edit.setPlainText("{'single': 'quotes'}")
    dialog.try_accept()
    assert dialog.result() != QDialog.DialogCode.Accepted and "not valid JSON" in dialog.error.text()
    dialog.key_edit.setText("bio")
    dialog.text_edit.setPlainText('"ok"')
    dialog.try_accept()
    assert "exists already" in dialog.error.text()
    dialog.key_edit.setText("mood")
    dialog.try_accept()
    assert dialog.result() == QDialog.DialogCode.Accepted and dialog.value == "ok"
    dialog.deleteLater()


def test_add_edit_as_json_and_delete_keys(window: MainWindow, demo: JsonMemoryStore,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    before = _global(demo)
    window.show_tab("global")
    pane = window.global_pane
    assert isinstance(pane, JsonPane)
    answers: list[tuple[str, Any] | None] = [("release_notes", {"2.5": ["streak reminders", "faster"]})]
    monkeypatch.setattr(Dialogs, "edit_json", classmethod(lambda cls, *a, **k: answers.pop(0)))
    pane.add_button.click()
    assert _global(demo)["release_notes"] == {"2.5": ["streak reminders", "faster"]}
    assert window.window_actions.undo_action.text() == "&Undo Add global context key “release_notes”"
    # edit a nested value as JSON
    index = _child(window.global_model, ["assistant", "model"], 0)
    pane.tree.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                               | QItemSelectionModel.SelectionFlag.Rows)
    answers.append(("assistant.model", {"family": "companion", "temperature": 0.2}))
    window.window_actions.json_action.trigger()
    assert _global(demo)["assistant"]["model"] == {"family": "companion", "temperature": 0.2}
    assert _global(demo)["assistant"]["name"] == "Elysia"
    # delete a top-level key
    index = _child(window.global_model, ["greetings"], 0)
    pane.tree.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                               | QItemSelectionModel.SelectionFlag.Rows)
    pane.delete_button.click()
    assert "greetings" not in _global(demo)
    again = reopened(Path(demo.root))
    assert again.get_global_context("greetings") is None and again.get_global_context("release_notes")
    again.close()
    for _ in range(3):
        _undo(window)
    assert _global(demo) == before


def test_profile_field_added_and_deleted(window: MainWindow, demo: JsonMemoryStore,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    before = _profile(demo)
    monkeypatch.setattr(Dialogs, "edit_json", classmethod(lambda cls, *a, **k: ("pronouns", "they/them")))
    window.profile_pane.add_button.click()
    assert _profile(demo)["pronouns"] == "they/them"
    index = _child(window.profile_model, ["bio"], 0)
    window.profile_pane.tree.selectionModel().setCurrentIndex(
        index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    window.window_actions.delete_action.trigger()
    assert "bio" not in _profile(demo)
    _undo(window)
    _undo(window)
    assert _profile(demo) == before


def _memory_row(model: MemoriesModel, content: str) -> int:
    return next(r for r in range(model.rowCount()) if model.index(r, COL_CONTENT).data() == content)


def test_memories_edit_add_delete(window: MainWindow, demo: JsonMemoryStore) -> None:
    root = Path(demo.root)
    window.show_tab("memories")
    model, pane = window.memories_model, window.memories_pane

    def stored() -> dict[str, list[Any]]:
        doc = v1_doc(root, UID, "permanent_memories.json")["memories"]
        return {k: [m["content"] for m in v] for k, v in doc.items()}

    before = stored()
    row = _memory_row(model, "Prefers short answers")
    assert model.setData(model.index(row, COL_CONTENT), "Prefers short, warm answers")
    assert stored()["style"][0] == "Prefers short, warm answers"
    row = _memory_row(model, json.dumps({"likes": ["tea", "rain"]}))
    assert not model.setData(model.index(row, COL_CONTENT), "{likes: tea}")  # JSON content stays JSON
    assert "not valid JSON" in window.edit_banner.text.text()
    assert model.setData(model.index(row, COL_CONTENT), '{"likes": ["tea"]}')
    assert stored()["style"][1] == {"likes": ["tea"]}
    pane.type_input.setCurrentText("milestones")
    pane.text_input.setText("Finished the thesis")
    pane.add_button.click()
    assert stored()["milestones"][-1] == "Finished the thesis"
    created = v1_doc(root, UID, "permanent_memories.json")["memories"]["style"][0]["created_at"]
    pane.table.selectionModel().setCurrentIndex(
        model.index(_memory_row(model, "Prefers short, warm answers"), COL_CONTENT),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    pane.delete_button.click()
    assert "Prefers short, warm answers" not in stored()["style"]
    again = reopened(root)
    assert again.get_permanent_memories(UID, "milestones")[-1]["content"] == "Finished the thesis"
    again.close()
    _undo(window)  # the deleted memory comes back (at the end of its type), with its creation time
    back = v1_doc(root, UID, "permanent_memories.json")["memories"]["style"]
    assert back[-1]["content"] == "Prefers short, warm answers" and back[-1]["created_at"] == created
    for _ in range(3):
        _undo(window)
    assert {k: sorted(map(json.dumps, v)) for k, v in stored().items()} == \
           {k: sorted(map(json.dumps, v)) for k, v in before.items()}
