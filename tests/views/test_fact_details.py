"""The fact details panel: provenance of the selected fact, the jump to the message it came from (archive
included), the version history with the difference of each change, and "restore this version"."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from edit_helpers import fact_index, select, v1_categories

from memgui.app import MainWindow
from memgui.models.fact_history_model import word_diff
from memgui.models.roles import ROW_ROLE
from memgui.store import JsonMemoryStore, build_config

MakeWindow = Callable[..., MainWindow]


@pytest.fixture
def small(tmp_path: Path) -> Iterator[JsonMemoryStore]:
    """A user whose older messages are in the archive (MAX_MESSAGES 10), with facts from known messages."""
    store = JsonMemoryStore(build_config({"DATA_DIR": tmp_path / "small", "DEFAULT_TIMEZONE": "UTC",
                                          "MAX_MESSAGES": 10}, environ={}))
    start = datetime(2025, 3, 1, 9, tzinfo=timezone.utc)
    store.get_or_create_user("ana", "Ana")
    ids = [store.add_message("ana", "user" if i % 2 == 0 else "assistant", f"message number {i}",
                             timestamp=(start + timedelta(hours=i)).isoformat())["id"] for i in range(40)]
    store.add_user_fact("ana", "Grew up in Lisbon", "origin", by="assistant", source_message_id=ids[4])
    store.add_user_fact("ana", "Drinks green tea", "food", by="assistant", source_message_id=ids[38])
    store.ids = ids  # type: ignore[attr-defined]
    yield store
    store.close()


def _select_fact(window: MainWindow, qtbot: Any, text: str) -> None:
    assert window.facts_pane.select_fact(fact_index(window, text).data(ROW_ROLE).id)
    details = window.facts_pane.details
    qtbot.waitUntil(lambda: details.fact is not None and details.fact.text == text
                    and details.history.rowCount() > 0, timeout=10_000)


def test_provenance_and_jump_to_the_message(make_window: MakeWindow, small: JsonMemoryStore, qtbot: Any) -> None:
    window = make_window(small, select="ana", tab="facts")
    select(window, qtbot, "ana", "facts")
    details = window.facts_pane.details
    assert not details.body.isVisible()  # nothing selected: a note says what the panel is for
    _select_fact(window, qtbot, "Grew up in Lisbon")
    ids: list[str] = small.ids  # type: ignore[attr-defined]
    assert details.body.isVisible() and details.title.text() == "Grew up in Lisbon"
    assert details.category.text() == "origin"
    assert details.added.text().endswith(", by assistant")
    assert details.source.text() == f"message {ids[4]}"
    assert details.history.index(0, 2).data() == "added: [origin] Grew up in Lisbon"
    assert details.show_message_button.isEnabled()
    details.show_message_button.click()
    conversation = window.conversation_pane
    assert window.tabs.currentWidget() is conversation
    qtbot.waitUntil(lambda: conversation.view.currentIndex().isValid()
                    and conversation.view.currentIndex().row() == 4, timeout=10_000)  # row 4 is in the archive
    assert conversation.view.currentIndex().data(ROW_ROLE).id == ids[4]
    assert conversation.view.selectionModel().isRowSelected(4)
    assert "message number 4" in conversation.reader.toPlainText()
    # a recent message, and one that is gone
    window.show_tab("facts")
    _select_fact(window, qtbot, "Drinks green tea")
    details.show_message_button.click()
    qtbot.waitUntil(lambda: conversation.view.currentIndex().row() == 38, timeout=10_000)
    with qtbot.waitSignal(conversation.status, check_params_cb=lambda text: "no longer" in text, timeout=10_000):
        conversation.show_message("not-a-message-id")


def test_history_diff_and_restore(make_window: MakeWindow, small: JsonMemoryStore, qtbot: Any) -> None:
    root = Path(small.root)
    window = make_window(small, select="ana", tab="facts")
    select(window, qtbot, "ana", "facts")
    details = window.facts_pane.details
    index = fact_index(window, "Drinks green tea")
    assert index.model().setData(index, "Drinks jasmine tea daily")
    window.facts_pane.select_fact(fact_index(window, "Drinks jasmine tea daily").data(ROW_ROLE).id)
    qtbot.waitUntil(lambda: details.history.rowCount() == 2, timeout=10_000)
    assert [details.history.index(r, 2).data() for r in range(2)] == [
        "changed: [food] Drinks jasmine tea daily", "added: [food] Drinks green tea"]
    assert details.history.index(0, 1).data() == "admin"
    # the row shown is the facts model's, updated when the edited user is read again (not with the history)
    qtbot.waitUntil(lambda: details.changed.text().endswith(", by admin"), timeout=10_000)
    # the newest change is selected: its difference, word by word
    assert details.selected_version() is not None and details.selected_version().action == "update"
    text = details.diff_text()
    assert "Drinks" in text and "green" in text and "jasmine" in text and "daily" in text
    assert not details.restore_button.isEnabled()  # that version is what the fact is now
    details.select_version(1)
    assert details.restore_button.isEnabled()
    details.restore_button.click()
    assert v1_categories(root, "ana")["food"] == ["Drinks green tea"]
    qtbot.waitUntil(lambda: details.history.rowCount() == 3, timeout=10_000)
    # the same fact, still selected (its row comes with the user read again, apart from the history)
    qtbot.waitUntil(lambda: details.fact is not None and details.fact.text == "Drinks green tea", timeout=10_000)
    assert window.window_actions.undo_action.text().startswith("&Undo Restore fact “Drinks jasmine tea daily”")
    window.window_actions.undo_action.trigger()
    assert v1_categories(root, "ana")["food"] == ["Drinks jasmine tea daily"]


def test_word_diff() -> None:
    assert word_diff("Drinks green tea", "Drinks jasmine tea daily") == [
        ("=", "Drinks "), ("-", "green"), ("+", "jasmine"), ("=", " tea"), ("+", " daily")]
    assert word_diff("", "new") == [("+", "new")]
    assert word_diff("gone", "") == [("-", "gone")]
