"""MainWindow over a generated store: panes by objectName, selection drives them, filter and sort,
damage shown, plain text, timestamps in the user's zone, empty state, remembered settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QSettings, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QPlainTextEdit, QTableView, QTreeView, QWidget

from memgui.app import MainWindow
from memgui.models.roles import ROW_ROLE
from memgui.models.users_model import COL_ID, COL_MESSAGES
from memgui.store import JsonMemoryStore, build_config
from memgui.store.timeutil import parse_timestamp, parse_zone
from memgui.views.dialogs import Dialogs

PANES = ("usersView", "conversationView", "factsView", "memoriesView", "globalContextView", "profileView")
MakeWindow = Callable[..., MainWindow]


def _pane(window: MainWindow, name: str) -> QAbstractItemView:
    view = window.findChild(QAbstractItemView, name)
    assert view is not None, name
    return view


def _select(window: MainWindow, qtbot: object, user_id: str) -> None:
    window.users_pane.select_user(user_id)
    qtbot.waitUntil(lambda: window.is_loaded() and window.conversation_model.user_id == user_id,  # type: ignore
                    timeout=10_000)


def test_panes_exist_and_follow_the_current_user(make_window: MakeWindow, demo: JsonMemoryStore,
                                                 qtbot: object) -> None:
    window = make_window(demo)
    for name in PANES:
        _pane(window, name)
    assert window.findChild(QWidget, "metricsView") is not None
    users = _pane(window, "usersView")
    assert users.model().rowCount() == 12
    _select(window, qtbot, "bruno")
    conversation = _pane(window, "conversationView")
    history = demo.get_message_history("bruno", include_archived=True)
    assert conversation.model().rowCount() == len(history)
    last = conversation.model().index(len(history) - 1, 0)
    assert last.data() == history[-1]["content"]
    facts = _pane(window, "factsView")
    assert facts.model().rowCount() == sum(len(v) for v in demo.get_user_facts("bruno").values())
    fact_texts = {facts.model().index(r, 1).data() for r in range(facts.model().rowCount())}
    assert fact_texts == {t for v in demo.get_user_facts("bruno").values() for t in v}
    profile = _pane(window, "profileView")
    assert any(profile.model().index(r, 1).data() == demo.get_user_profile("bruno")["name"]
               for r in range(profile.model().rowCount()))
    memories = _pane(window, "memoriesView")
    assert memories.model().rowCount() == sum(len(v) for v in demo.get_permanent_memories("bruno").values())
    assert _pane(window, "globalContextView").model().rowCount() == len(demo.get_all_global_context())
    # the arrow keys move through users, and the panes follow
    users.setFocus()
    before = window.conversation_model.user_id
    qtbot.keyClick(users, Qt.Key.Key_Down)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: window.conversation_model.user_id != before and window.is_loaded(),  # type: ignore
                    timeout=10_000)
    assert window.users_pane.current_user() == window.conversation_model.user_id


def test_newest_message_in_view_and_plain_text(make_window: MakeWindow, demo: JsonMemoryStore,
                                               qtbot: object) -> None:
    demo.add_message("bruno", "user", "<img src=x> <b>bold?</b>")
    window = make_window(demo, select="bruno")
    view = _pane(window, "conversationView")
    assert isinstance(view, QTableView)
    rows = view.model().rowCount()
    qtbot.waitUntil(lambda: view.rowAt(view.viewport().height() - 5) == rows - 1, timeout=5000)  # type: ignore
    view.selectionModel().setCurrentIndex(view.model().index(rows - 1, 0),
                                          QItemSelectionModel.SelectionFlag.ClearAndSelect)
    reader = window.findChild(QPlainTextEdit, "messageText")
    assert "<img src=x> <b>bold?</b>" in reader.toPlainText()
    assert view.model().index(rows - 1, 0).data() == "<img src=x> <b>bold?</b>"


def test_timestamps_in_the_users_zone(make_window: MakeWindow, demo: JsonMemoryStore, qtbot: object) -> None:
    window = make_window(demo, select="dmitri")
    model = window.conversation_model
    message = demo.get_message_history("dmitri", 1)[0]
    zone = parse_zone(demo.get_user_profile("dmitri")["timezone"])
    expected = parse_timestamp(message["timestamp"], demo.default_zone).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    row = model.index(model.rowCount() - 1, 0).data(ROW_ROLE)
    assert row.time == expected
    assert window.users_model.summary("dmitri").zone == demo.get_user_profile("dmitri")["timezone"]


def test_filter_sort_and_status_bar(make_window: MakeWindow, demo: JsonMemoryStore, qtbot: object) -> None:
    window = make_window(demo)
    pane = window.users_pane
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)  # type: ignore[attr-defined]
    assert pane.filter_edit.hasFocus() or window.focusWidget() is pane.filter_edit
    name = window.users_model.summary("fatima").name
    qtbot.keyClicks(pane.filter_edit, name.split()[0].lower())  # type: ignore[attr-defined]
    shown = [pane.proxy.index(r, COL_ID).data() for r in range(pane.proxy.rowCount())]
    assert "fatima" in shown and len(shown) < 12
    assert "shown" in window.status_label.text()
    pane.filter_edit.setText("user_0001")
    assert {pane.proxy.index(r, COL_ID).data() for r in range(pane.proxy.rowCount())} == {"user_00010", "user_00011"}
    pane.filter_edit.clear()
    pane.view.sortByColumn(COL_MESSAGES, Qt.SortOrder.DescendingOrder)
    counts = [pane.proxy.index(r, COL_MESSAGES).data(ROW_ROLE).messages for r in range(pane.proxy.rowCount())]
    assert counts == sorted(counts, reverse=True)
    assert window.status_label.text().startswith("12 users")


def test_damaged_user_is_marked_and_the_rest_works(make_window: MakeWindow, demo: JsonMemoryStore,
                                                   qtbot: object) -> None:
    window = make_window(demo, select="mallory", tab="facts")
    row = window.users_model.row_of("mallory")
    index = window.users_model.index(row, COL_ID)
    assert not index.data(Qt.ItemDataRole.DecorationRole).isNull()
    assert "user_facts.json" in index.data(Qt.ItemDataRole.ToolTipRole)
    assert "1 damaged" in window.status_label.text()
    assert window.facts_pane.banner.isVisible() and "user_facts.json" in window.facts_pane.banner.text()
    assert window.header.banner.isVisible()
    assert window.tabs.currentWidget() is window.facts_pane
    assert window.conversation_model.rowCount() > 0  # the conversation of the damaged user still reads
    assert window.profile_model.rowCount() > 0
    _select(window, qtbot, "bruno")
    assert not window.facts_pane.banner.isVisible() and window.facts_model.rowCount() > 0


def test_find_in_conversation_selects_the_match(make_window: MakeWindow, demo: JsonMemoryStore,
                                                qtbot: object) -> None:
    demo.add_message("gustav", "user", "a needle in the haystack")
    window = make_window(demo, select="gustav")
    pane = window.conversation_pane
    pane.find_edit.setText("NEEDLE")
    with qtbot.waitSignal(window.conversation_model.found, timeout=5000):  # type: ignore[attr-defined]
        pane.find_previous()
    current = pane.view.currentIndex()
    assert current.data() == "a needle in the haystack"
    assert "needle" in window.findChild(QPlainTextEdit, "messageText").toPlainText()


def test_empty_folder_shows_the_empty_state(make_window: MakeWindow, tmp_path: Path) -> None:
    store = JsonMemoryStore(build_config({"DATA_DIR": tmp_path / "nothing"}, environ={}))
    window = make_window(store)
    assert window.stack.currentWidget() is window.empty_state
    assert "nothing" in window.empty_state.detail.text()
    assert not (tmp_path / "nothing").exists()  # looking changes nothing


def test_read_only_is_visible(make_window: MakeWindow, demo: JsonMemoryStore) -> None:
    window = make_window(demo, read_only=True)
    badge = window.findChild(QLabel, "readOnlyBadge")
    assert badge is not None and "Read-only" in badge.text()
    assert "[read-only]" in window.windowTitle()


def test_open_folder_and_settings_are_remembered(make_window: MakeWindow, demo: JsonMemoryStore, tmp_path: Path,
                                                 settings: QSettings, qtbot: object) -> None:
    other = JsonMemoryStore(build_config({"DATA_DIR": tmp_path / "other", "DEFAULT_TIMEZONE": "UTC"}, environ={}))
    other.add_message("zed", "user", "hi")
    other.close()
    window = make_window(demo)
    window.resize(790, 560)
    window.open_folder(tmp_path / "other")
    qtbot.waitUntil(lambda: window.is_loaded() and window.users_model.user_ids() == ["zed"], timeout=10_000)  # type: ignore
    assert window.state.last_folder() == str(tmp_path / "other")
    assert window.state.recent_folders()[0] == str(tmp_path / "other")
    size = window.size()  # the offscreen screen is small: Qt may have fitted the window to it
    window.close()
    again = MainWindow(demo, settings=settings)
    qtbot.addWidget(again)  # type: ignore[attr-defined]
    assert again.size() == size and size.height() == 560


def test_tree_panes_are_trees(make_window: MakeWindow, demo: JsonMemoryStore) -> None:
    window = make_window(demo, tab="global")
    tree = _pane(window, "globalContextView")
    assert isinstance(tree, QTreeView) and window.tabs.currentWidget() is window.global_pane
    model = tree.model()
    keys = [model.index(r, 0).data() for r in range(model.rowCount())]
    assistant = model.index(keys.index("assistant"), 0)
    assert model.rowCount(assistant) == 3 and tree.isExpanded(assistant)


def test_a_store_that_cannot_be_opened_is_a_warning_and_the_window_keeps_its_store(
        make_window: MakeWindow, demo: JsonMemoryStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    window = make_window(demo)
    warnings: list[tuple[str, str]] = []
    monkeypatch.setattr(Dialogs, "warn", classmethod(lambda cls, _parent, title, text: warnings.append((title, text))))
    monkeypatch.setattr(Dialogs, "ask_text", classmethod(lambda cls, *a: "postgresql://nobody@/nowhere?connect_timeout=2"
                                                          "&host=" + str(tmp_path / "no-server")))
    window.choose_database()  # File > Open database, to a server that is not there
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("not a store")
    window.open_location(not_a_folder)
    assert len(warnings) == 2 and all(title == "Cannot open this store" for title, _ in warnings)
    assert "a-file" in warnings[1][1]
    assert window.store is demo and window.is_loaded()
