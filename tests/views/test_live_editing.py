"""An editor open on a record that another process changes: the editor stays, the banner asks (Reload or
Reapply), nothing is overwritten silently; a JSON dialog open meanwhile writes nothing either."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from edit_helpers import fact_index
from live_helpers import WAIT_MS, Writer, open_store, top_index, value
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QLineEdit
from pytestqt.qtbot import QtBot

from memgui.app import MainWindow
from memgui.models.memories_model import COL_CONTENT
from memgui.views.dialogs import Dialogs


@pytest.fixture
def window(live_window: MainWindow) -> MainWindow:
    return live_window


# -- an editor open on what changes ----------------------------------------------------------------------------
EDITS: dict[str, tuple[dict[str, Any], str, str]] = {  # tab: (the other process writes, new value, old value)
    "facts": ({"op": "update_fact", "category": "general", "text": "likes tea", "new": "likes green tea"},
              "likes green tea", "likes tea"),
    "memories": ({"op": "update_memory", "type": "milestones", "index": 0, "content": "met on a Wednesday"},
                 "met on a Wednesday", "met on a Tuesday"),
    "profile": ({"op": "set_profile", "key": "city", "value": "Paris"}, "Paris", "Lyon"),
    "global": ({"op": "set_global", "key": "motd", "value": "changed"}, "changed", "hello"),
}


def open_editor(window: MainWindow, tab: str) -> tuple[QAbstractItemView, QPersistentModelIndex, QLineEdit]:
    """Open an in-place editor on the record ``EDITS[tab]`` changes, with the admin's text typed in it."""
    assert window.show_tab(tab)
    if tab == "facts":
        view: QAbstractItemView = window.facts_pane.table
        index = fact_index(window, "likes tea")
    elif tab == "memories":
        view = window.memories_pane.table
        row = next(i for i, r in enumerate(window.memories_model.rows) if r.content == "met on a Tuesday")
        index = window.memories_model.index(row, COL_CONTENT)
    elif tab == "profile":
        view, index = window.profile_pane.tree, top_index(window.profile_model, "city")
    else:
        view, index = window.global_pane.tree, top_index(window.global_model, "motd")
    view.setCurrentIndex(index)
    view.edit(index)
    editor = view.indexWidget(index)
    assert isinstance(editor, QLineEdit)
    editor.setText("typed by the admin")
    return view, QPersistentModelIndex(index), editor


def stored(root: Path, tab: str) -> Any:
    """The value the record of ``EDITS[tab]`` has on disk, read by a store of its own."""
    store = open_store(root)
    try:
        if tab == "facts":
            return store.get_user_facts("alice")["general"]
        if tab == "memories":
            return store.get_permanent_memories("alice")["milestones"][0]["content"]
        if tab == "profile":
            return store.get_user_profile("alice")["city"]
        return store.get_global_context("motd")
    finally:
        store.close()


def change_while_editing(window: MainWindow, writer: Writer, qtbot: QtBot, tab: str
                         ) -> tuple[QAbstractItemView, QPersistentModelIndex, QLineEdit]:
    view, index, editor = open_editor(window, tab)
    command, _new, old = EDITS[tab]
    writer.call(**command, user="alice")
    banner = window.edit_banner
    qtbot.waitUntil(lambda: banner.isVisible() and banner.kind == "conflict", timeout=WAIT_MS)
    assert "while you were editing it" in banner.text.text()
    assert view.state() == QAbstractItemView.State.EditingState and view.indexWidget(QModelIndex(index)) is editor
    assert editor.text() == "typed by the admin"
    assert index.data() == old  # the record stays as it was shown under the editor
    return view, index, editor


@pytest.mark.parametrize("tab", list(EDITS))
def test_a_record_changed_on_disk_under_an_open_editor_gets_the_banner_then_reload(
        window: MainWindow, writer: Writer, qtbot: QtBot, data_dir: Path, tab: str) -> None:
    view, index, _editor = change_while_editing(window, writer, qtbot, tab)
    new = EDITS[tab][1]
    window.edit_banner.reload_button.click()
    qtbot.waitUntil(lambda: view.state() != QAbstractItemView.State.EditingState and index.data() == new,
                    timeout=WAIT_MS)
    assert not window.edit_banner.isVisible()
    on_disk = stored(data_dir, tab)
    assert (new in on_disk) if tab == "facts" else on_disk == new


@pytest.mark.parametrize("tab", ["facts", "global"])
def test_reapply_saves_the_open_edit_on_top_of_the_change(window: MainWindow, writer: Writer, qtbot: QtBot,
                                                          data_dir: Path, tab: str) -> None:
    view, index, _editor = change_while_editing(window, writer, qtbot, tab)
    window.edit_banner.reapply_button.click()
    assert view.state() != QAbstractItemView.State.EditingState
    assert not window.edit_banner.isVisible()
    on_disk = stored(data_dir, tab)
    if tab == "facts":
        assert "typed by the admin" in on_disk and "likes green tea" not in on_disk
    else:
        assert on_disk == "typed by the admin"
    qtbot.waitUntil(lambda: index.data() == "typed by the admin", timeout=WAIT_MS)


def test_committing_the_held_edit_overwrites_nothing(window: MainWindow, writer: Writer, qtbot: QtBot,
                                                     data_dir: Path) -> None:
    view, index, editor = change_while_editing(window, writer, qtbot, "facts")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits on the next event loop turn
    qtbot.waitUntil(lambda: view.state() != QAbstractItemView.State.EditingState, timeout=WAIT_MS)
    banner = window.edit_banner
    assert banner.isVisible() and "Not saved" in banner.text.text()
    assert "changed meanwhile to “likes green tea”" in banner.text.text()
    assert stored(data_dir, "facts") == ["likes green tea"]
    qtbot.waitUntil(lambda: index.data() == "likes green tea", timeout=WAIT_MS)  # released: read again


def test_a_value_changed_on_disk_while_its_json_dialog_is_open_is_not_overwritten(
        window: MainWindow, writer: Writer, qtbot: QtBot, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def dialog(cls: type, *_args: Any, **_kwargs: Any) -> tuple[str, Any]:
        """The admin types while the other process writes; the window follows meanwhile (as under exec)."""
        writer.call("set_global", key="motd", value="changed")
        qtbot.waitUntil(lambda: value(window.global_model, "motd") == "changed", timeout=WAIT_MS)
        return "motd", "typed by the admin"

    monkeypatch.setattr(Dialogs, "edit_json", classmethod(dialog))
    window.show_tab("global")
    window.global_pane.tree.setCurrentIndex(top_index(window.global_model, "motd"))
    window.global_pane.edit_selected()
    assert stored(data_dir, "global") == "changed"
    assert window.edit_banner.kind == "conflict" and "changed meanwhile" in window.edit_banner.text.text()




def test_the_question_goes_away_with_the_user(window: MainWindow, writer: Writer, qtbot: QtBot) -> None:
    view, _index, _editor = change_while_editing(window, writer, qtbot, "facts")
    assert window.users_pane.select_user("bob")
    qtbot.waitUntil(lambda: window.conversation_model.user_id == "bob" and window.is_loaded(), timeout=WAIT_MS)
    assert not window.edit_banner.isVisible()
    assert view.state() != QAbstractItemView.State.EditingState
    assert window.users_pane.select_user("alice")
    qtbot.waitUntil(lambda: "likes green tea" in [r.text for r in window.facts_model.rows], timeout=WAIT_MS)
