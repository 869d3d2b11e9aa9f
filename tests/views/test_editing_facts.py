"""Editing facts in the window: in place (text, category through the combo delegate), add, delete, several at
once with a preview; validation; undo and redo through the store. Every edit is checked on disk with a
v1-only reader and again after reopening the store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from edit_helpers import as_sets, fact_index, reopened, select, shown_facts, tree_digest, v1_categories
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractItemDelegate, QAbstractItemView, QComboBox, QLineEdit

from memgui.app import MainWindow
from memgui.models.facts_model import COL_CATEGORY, COL_TEXT
from memgui.store import JsonMemoryStore
from memgui.views.dialogs import Dialogs, MoveDialog

MakeWindow = Callable[..., MainWindow]
UID = "bruno"


@pytest.fixture
def window(make_window: MakeWindow, demo: JsonMemoryStore, qtbot: Any) -> MainWindow:
    demo.add_user_fact(UID, "Plays the cello", "hobbies", by="assistant")
    demo.add_user_fact(UID, "Collects stamps", "hobbies", by="assistant")
    w = make_window(demo, select=UID, tab="facts")
    select(w, qtbot, UID, "facts")
    return w


def _root(demo: JsonMemoryStore) -> Path:
    return Path(demo.root)


def _undo(window: MainWindow) -> None:
    action = window.window_actions.undo_action
    assert action.isEnabled()
    action.trigger()


def _redo(window: MainWindow) -> None:
    action = window.window_actions.redo_action
    assert action.isEnabled()
    action.trigger()


def _select_rows(window: MainWindow, texts: Sequence[str]) -> None:
    view = window.facts_pane.table
    view.clearSelection()
    for text in texts:
        view.selectionModel().select(fact_index(window, text),
                                     QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)


def test_text_edited_in_place_is_written_at_once(window: MainWindow, demo: JsonMemoryStore) -> None:
    root = _root(demo)
    before = v1_categories(root, UID)
    index = fact_index(window, "Plays the cello")
    assert index.flags() & Qt.ItemFlag.ItemIsEditable
    assert window.facts_pane.table.editTriggers() != QAbstractItemView.EditTrigger.NoEditTriggers
    assert index.model().setData(index, "Plays the cello <3 & the viola")
    after = v1_categories(root, UID)
    assert after["hobbies"] == ["Plays the cello <3 & the viola", "Collects stamps"]  # same place, verbatim
    assert {k: v for k, v in after.items() if k != "hobbies"} == {k: v for k, v in before.items() if k != "hobbies"}
    again = reopened(root)
    assert again.get_user_facts(UID)["hobbies"][0] == "Plays the cello <3 & the viola"
    record = next(r for r in again.get_fact_records(UID) if r["text"].startswith("Plays the cello <3"))
    assert record["changed_by"] == "admin" and record["added_by"] == "assistant"  # provenance kept
    again.close()
    assert fact_index(window, "Plays the cello <3 & the viola").isValid()
    assert window.window_actions.undo_action.text() == "&Undo Change fact “Plays the cello”"
    _undo(window)
    assert v1_categories(root, UID) == before
    assert fact_index(window, "Plays the cello").isValid()
    _redo(window)
    assert v1_categories(root, UID)["hobbies"][0] == "Plays the cello <3 & the viola"


def test_editing_through_the_delegates(window: MainWindow, demo: JsonMemoryStore) -> None:
    """What a double click does: the text in a line edit, the category in a combo of the existing ones."""
    root = _root(demo)
    view = window.facts_pane.table
    index = fact_index(window, "Collects stamps")
    view.setCurrentIndex(index)
    assert view.edit(index, QAbstractItemView.EditTrigger.AllEditTriggers, None)
    editor = view.findChild(QLineEdit)
    assert editor is not None and editor.text() == "Collects stamps"
    editor.setText("Collects old stamps")
    view.commitData(editor)
    view.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)
    assert "Collects old stamps" in v1_categories(root, UID)["hobbies"]

    index = fact_index(window, "Collects old stamps", COL_CATEGORY)
    assert view.edit(index, QAbstractItemView.EditTrigger.AllEditTriggers, None)
    combo = view.findChild(QComboBox, "categoryEditor")
    assert combo is not None and combo.isEditable()
    offered = [combo.itemText(i) for i in range(combo.count())]
    assert "hobbies" in offered and set(offered) == {c for c, _ in shown_facts(window)}
    combo.setCurrentText("collections")  # a new category
    view.commitData(combo)
    view.closeEditor(combo, QAbstractItemDelegate.EndEditHint.NoHint)
    categories = v1_categories(root, UID)
    assert categories["collections"] == ["Collects old stamps"] and "Collects old stamps" not in categories["hobbies"]
    assert ("collections", "Collects old stamps") in shown_facts(window)
    assert window.window_actions.undo_action.text() == "&Undo Move fact “Collects old stamps” to “collections”"
    _undo(window)
    assert "collections" not in v1_categories(root, UID)
    assert "Collects old stamps" in v1_categories(root, UID)["hobbies"]


def test_add_delete_and_undo_redo_every_step(window: MainWindow, demo: JsonMemoryStore) -> None:
    root = _root(demo)
    pane = window.facts_pane
    states = [v1_categories(root, UID)]
    pane.category_input.setCurrentText("pets")
    pane.text_input.setText("Has a dog called Miso")
    pane.add_button.click()
    assert v1_categories(root, UID)["pets"] == ["Has a dog called Miso"]
    assert pane.text_input.text() == ""
    assert pane.details.fact is not None and pane.details.fact.text == "Has a dog called Miso"  # selected
    states.append(v1_categories(root, UID))
    _select_rows(window, ["Plays the cello"])
    pane.delete_button.click()
    assert "Plays the cello" not in v1_categories(root, UID)["hobbies"]
    states.append(v1_categories(root, UID))
    assert window.window_actions.undo_action.text() == "&Undo Delete fact “Plays the cello”"
    for state in reversed(states[:-1]):
        _undo(window)
        assert as_sets(v1_categories(root, UID)) == as_sets(state)
    assert not window.window_actions.undo_action.isEnabled()
    for state in states[1:]:
        _redo(window)
        assert as_sets(v1_categories(root, UID)) == as_sets(state)
    again = reopened(root)
    assert as_sets(again.get_user_facts(UID)) == as_sets(states[-1])
    again.close()
    # the removed fact came back with its id and history (undo restores the version, it does not re-add)
    _undo(window)
    record = next(r for r in demo.get_fact_records(UID) if r["text"] == "Plays the cello")
    actions = [v["action"] for v in demo.get_fact_versions(UID, record["id"])]
    assert actions == ["add", "remove", "restore", "remove", "restore"]


def test_several_deleted_after_a_preview_and_undone_as_one(window: MainWindow, demo: JsonMemoryStore,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    root = _root(demo)
    before = v1_categories(root, UID)
    asked: list[tuple[str, list[str]]] = []

    def answer(value: bool) -> Callable[..., bool]:
        def confirm(_parent: Any, _title: str, text: str, lines: Sequence[str], _ok: str) -> bool:
            asked.append((text, list(lines)))
            return value
        return confirm

    _select_rows(window, ["Plays the cello", "Collects stamps"])
    assert window.facts_pane.delete_button.text() == "Delete 2"
    monkeypatch.setattr(Dialogs, "confirm", classmethod(lambda cls, *a: answer(False)(*a)))
    window.facts_pane.delete_button.click()
    assert asked[-1][1] == ["[hobbies] Plays the cello", "[hobbies] Collects stamps"]
    assert v1_categories(root, UID) == before  # cancelled: nothing written
    monkeypatch.setattr(Dialogs, "confirm", classmethod(lambda cls, *a: answer(True)(*a)))
    window.window_actions.delete_action.trigger()  # Edit > Delete selected, on the Facts tab
    assert "hobbies" not in v1_categories(root, UID)
    assert window.window_actions.undo_action.text() == "&Undo Delete 2 facts"
    _undo(window)
    assert as_sets(v1_categories(root, UID)) == as_sets(before)


def test_move_several_with_a_preview(window: MainWindow, demo: JsonMemoryStore, monkeypatch: pytest.MonkeyPatch,
                                     qtbot: Any) -> None:
    root = _root(demo)
    demo.add_user_fact(UID, "Collects stamps", "leisure")
    window.window_actions.show_changed(UID)
    before = v1_categories(root, UID)
    _select_rows(window, ["Plays the cello", "Collects stamps"])
    previews: list[list[str]] = []

    def choose(_cls: Any, _parent: Any, categories: Sequence[str], preview: Any) -> str:
        assert "hobbies" in categories and "leisure" in categories
        count, lines = preview("leisure")
        previews.append(lines)
        assert count == 1
        return "leisure"

    monkeypatch.setattr(Dialogs, "choose_category", classmethod(choose))
    window.facts_pane.move_button.click()
    assert previews == [["[hobbies] Plays the cello   →   [leisure]",
                         "[hobbies] Collects stamps   (skipped: leisure has the same fact)"]]
    after = v1_categories(root, UID)
    assert after["leisure"] == ["Collects stamps", "Plays the cello"] and after["hobbies"] == ["Collects stamps"]
    _undo(window)
    assert as_sets(v1_categories(root, UID)) == as_sets(before)
    # the dialog itself: the preview follows the typed category, the button says how many move
    dialog = MoveDialog(["hobbies", "leisure"], window.facts_pane.move_preview, window)
    qtbot.addWidget(dialog)
    assert not dialog.ok.isEnabled()
    dialog.combo.setCurrentText("music")
    assert dialog.ok.isEnabled() and dialog.ok.text() == "Move 2 facts"
    assert sorted(dialog.list.item(i).text() for i in range(dialog.list.count())) == [
        "[hobbies] Collects stamps   →   [music]", "[hobbies] Plays the cello   →   [music]"]


@pytest.mark.parametrize(("column", "value", "message"), [
    (COL_TEXT, "   ", "can't be empty"),
    (COL_TEXT, "Collects stamps", "“Collects stamps” is already a fact in “hobbies”"),
    (COL_CATEGORY, "", "needs a category"),
])
def test_invalid_edits_are_refused_with_a_message(window: MainWindow, demo: JsonMemoryStore, column: int,
                                                  value: str, message: str) -> None:
    root = _root(demo)
    digest = tree_digest(root)
    index = fact_index(window, "Plays the cello", column)
    assert not index.model().setData(index, value)
    banner = window.edit_banner
    assert banner.isVisible() and message in banner.text.text() and banner.kind == "refusal"
    assert not banner.reload_button.isVisible()
    assert tree_digest(root) == digest
    assert not window.window_actions.undo_action.isEnabled()
    # the bar refuses the same way
    window.facts_pane.category_input.setCurrentText("hobbies")
    window.facts_pane.text_input.setText("Collects stamps")
    window.facts_pane.add_button.click()
    assert "already a fact" in banner.text.text()
    assert tree_digest(root) == digest
    # a good edit afterwards clears the message
    assert index.model().setData(fact_index(window, "Plays the cello"), "Plays the cello well")
    assert not banner.isVisible()


def test_edit_menu_and_shortcuts(window: MainWindow, demo: JsonMemoryStore, qtbot: Any) -> None:
    actions = window.window_actions
    assert actions.undo_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    assert actions.undo_action.shortcut().toString() == "Ctrl+Z"
    assert actions.redo_action.shortcut().toString() == "Ctrl+Shift+Z"
    assert actions.undo_action.text() == "&Undo" and not actions.undo_action.isEnabled()
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert actions.undo_action in edit_menu.actions() and actions.redo_action in edit_menu.actions()
    index = fact_index(window, "Collects stamps")
    assert index.model().setData(index, "Collects rare stamps")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.facts_pane.table.setFocus()
    qtbot.keyClick(window.facts_pane.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "Collects stamps" in v1_categories(_root(demo), UID)["hobbies"]
    assert actions.redo_action.text() == "&Redo Change fact “Collects stamps”"
    qtbot.keyClick(window.facts_pane.table, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert "Collects rare stamps" in v1_categories(_root(demo), UID)["hobbies"]


def test_undo_of_another_users_edit_names_them(window: MainWindow, demo: JsonMemoryStore, qtbot: Any) -> None:
    root = _root(demo)
    before = v1_categories(root, UID)
    index = fact_index(window, "Collects stamps")
    assert index.model().setData(index, "Collects coins")
    index = fact_index(window, "Collects coins")
    assert not index.model().setData(index, "")  # a refusal shown for bruno...
    assert window.edit_banner.isVisible()
    select(window, qtbot, "dmitri", "facts")
    assert not window.edit_banner.isVisible()  # ...goes away with him
    actions = window.window_actions
    assert actions.undo_action.text() == "&Undo Change fact “Collects stamps” (bruno)"
    _undo(window)
    assert v1_categories(root, UID) == before
    assert actions.redo_action.text() == "&Redo Change fact “Collects stamps” (bruno)"
