"""The open window follows another process writing the store (live refresh), with real writer processes.

Waiting is on what the window shows (``qtbot.waitUntil``), never on fixed sleeps. "Nothing more happened" is
checked with a sentinel: a global context write made after the change under test; once the window shows
it, every event the watcher saw before has been handled and its reads asked for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from edit_helpers import fact_index
from live_helpers import (
    WAIT_MS,
    InsertCounter,
    Writer,
    handful,
    last_message,
    message,
    no_resets,
    seed,
    settle,
    summary,
    value,
)
from PySide6.QtCore import QFileSystemWatcher, QTimer
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot

from memgui.app import MainWindow
from memgui.store import JsonMemoryStore
from memgui.views.overview_view import OverviewView

KEY = "live refresh test passphrase"


@pytest.fixture
def window(live_window: MainWindow) -> MainWindow:
    return live_window


# -- the window follows --------------------------------------------------------------------------------------
def test_changes_from_another_process_show_and_the_selection_stays(window: MainWindow, writer: Writer,
                                                                    qtbot: QtBot) -> None:
    window.show_tab("facts")
    cat = next(r for r in window.facts_model.rows if r.text == "has a cat")
    assert window.facts_pane.select_fact(cat.id)
    with no_resets(window, qtbot):
        writer.call("add_message", user="alice", content="live 1")
        qtbot.waitUntil(lambda: last_message(window) == "live 1" and summary(window, "alice").messages == 401,
                        timeout=WAIT_MS)
        writer.call("add_fact", user="alice", text="likes jazz", category="music")
        qtbot.waitUntil(lambda: "likes jazz" in [r.text for r in window.facts_model.rows]
                        and summary(window, "alice").facts == 3, timeout=WAIT_MS)
        writer.call("store_memory", user="alice", content="moved to Paris", type="milestones")
        writer.call("set_profile", user="alice", key="name", value="Alicia")
        qtbot.waitUntil(lambda: "moved to Paris" in [r.content for r in window.memories_model.rows]
                        and value(window.profile_model, "name") == "Alicia"
                        and summary(window, "alice").name == "Alicia"
                        and window.header.title.text() == "Alicia", timeout=WAIT_MS)
        writer.call("create_user", user="dave")
        writer.call("erase_user", user="bob")
        qtbot.waitUntil(lambda: sorted(window.users_model.user_ids()) == ["alice", "carol", "dave"], timeout=WAIT_MS)
        writer.call("set_global", key="motd", value="changed")
        writer.call("set_global", key="weather", value={"today": "rain"})
        qtbot.waitUntil(lambda: value(window.global_model, "motd") == "changed"
                        and value(window.global_model, "weather") == {"today": "rain"}, timeout=WAIT_MS)
    assert window.users_pane.current_user() == "alice"
    assert [window.users_pane.user_at(i) for i in window.users_pane.view.selectionModel().selectedRows()] == ["alice"]
    assert window.facts_pane.current_fact() == cat
    assert window.conversation_model.rowCount() == 401
    assert window.status_label.text().startswith("3 users")


def test_erasing_the_selected_user_moves_the_selection_to_a_neighbour(window: MainWindow, writer: Writer,
                                                                    qtbot: QtBot) -> None:
    assert window.users_pane.select_user("carol")
    qtbot.waitUntil(lambda: window.conversation_model.user_id == "carol" and window.is_loaded(), timeout=WAIT_MS)
    writer.call("erase_user", user="carol")
    qtbot.waitUntil(lambda: window.users_model.row_of("carol") < 0, timeout=WAIT_MS)
    current = window.users_pane.current_user()
    assert current in ("alice", "bob")
    qtbot.waitUntil(lambda: window.conversation_model.user_id == current and window.is_loaded(), timeout=WAIT_MS)
    assert window.users_pane.view.selectionModel().hasSelection()


def test_a_reader_scrolled_up_stays_exactly_where_they_are(window: MainWindow, writer: Writer, qtbot: QtBot) -> None:
    pane = window.conversation_pane
    view, bar = pane.view, pane.view.verticalScrollBar()
    pane.select_row(150)
    bar.setValue(bar.maximum() // 3)
    before, top_row = bar.value(), view.rowAt(0)
    assert 0 < before < bar.maximum() - 100
    with no_resets(window, qtbot):
        writer.call("add_messages", user="alice", count=5, prefix="live")
        qtbot.waitUntil(lambda: window.conversation_model.rowCount() == 405 and last_message(window) == "live 4",
                        timeout=WAIT_MS)
    assert bar.value() == before and view.rowAt(0) == top_row
    assert [i.row() for i in view.selectionModel().selectedRows()] == [150]
    assert pane.reader.toPlainText().endswith(message(window, 150) or "?")


def test_a_reader_at_the_bottom_follows_new_messages(window: MainWindow, writer: Writer, qtbot: QtBot) -> None:
    view, bar = window.conversation_pane.view, window.conversation_pane.view.verticalScrollBar()
    view.scrollToBottom()
    assert bar.value() == bar.maximum() > 0
    for i in range(3):
        writer.call("add_message", user="alice", content=f"follow {i}")
        rows = 401 + i
        qtbot.waitUntil(lambda rows=rows: window.conversation_model.rowCount() == rows  # type: ignore[misc]
                        and bar.value() == bar.maximum()
                        and view.rowAt(view.viewport().height() - 1) == rows - 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: last_message(window) == "follow 2", timeout=WAIT_MS)


def test_fifty_atomic_replaces_in_a_row_are_all_seen(window: MainWindow, writer: Writer, qtbot: QtBot) -> None:
    with no_resets(window, qtbot):
        for i in range(50):  # each replaces user_facts.json (and the global context file) by rename
            writer.call("add_fact", user="alice", text=f"fact {i}")
            writer.call("set_global", key="counter", value=i)
        qtbot.waitUntil(lambda: len(window.facts_model.rows) == 52 and summary(window, "alice").facts == 52
                        and value(window.global_model, "counter") == 49, timeout=WAIT_MS)
    assert {f"fact {i}" for i in range(50)} <= {r.text for r in window.facts_model.rows}


def test_a_burst_of_a_hundred_writes_ends_in_the_final_state_after_a_handful_of_reloads(
        window: MainWindow, writer: Writer, qtbot: QtBot) -> None:
    settle(qtbot, window, writer, 1)
    before = Counter(window.live.reloads)
    inserts = InsertCounter(window)
    window.conversation_model.rowsInserted.connect(inserts.count)
    with no_resets(window, qtbot):
        writer.send("burst", user="alice", count=100, seconds=0.1)  # the event loop runs during the burst
        qtbot.waitUntil(writer.has_reply, timeout=WAIT_MS)
        burst = writer.receive()
        qtbot.waitUntil(lambda: window.conversation_model.rowCount() == 500 and last_message(window) == "burst 99"
                        and summary(window, "alice").messages == 500, timeout=WAIT_MS)
        writer.call("flush")  # the journaled messages go into the v1 files: one more change
        settle(qtbot, window, writer, 2)
    reloads = window.live.reloads - before
    limit = handful(burst["times"])
    assert 1 <= reloads["details"] <= limit, (reloads, burst["times"])
    assert 1 <= reloads["conversation"] <= limit and reloads["summary"] <= limit, reloads
    assert reloads["users"] == 0
    assert inserts.calls <= limit
    assert [message(window, r) for r in (400, 499)] == ["burst 0", "burst 99"]


def test_an_edit_in_the_window_costs_one_or_two_reloads(window: MainWindow, writer: Writer, qtbot: QtBot) -> None:
    window.show_tab("facts")
    settle(qtbot, window, writer, 1)
    before = Counter(window.live.reloads)
    index = fact_index(window, "likes tea")
    assert index.model().setData(index, "likes green tea")
    settle(qtbot, window, writer, 2)
    reloads = window.live.reloads - before
    assert 1 <= reloads["details"] <= 2 and reloads["summary"] <= 2 and reloads["users"] == 0, reloads
    assert reloads["global"] <= 2  # the sentinel's own


def test_the_idle_window_runs_no_busy_timer(window: MainWindow, qtbot: QtBot) -> None:
    """With nothing changing, the only timer running is the watcher's slow poll (5 s)."""
    def busy() -> list[str]:
        owners = (window, window.store_worker, window.conversation_worker)
        return [f"{t.parent().metaObject().className()}:{t.interval()}" for o in owners
                for t in o.findChildren(QTimer) if t.isActive() and t.interval() < 1000]

    qtbot.waitUntil(lambda: not busy(), timeout=WAIT_MS)
    assert window.live.watcher is not None and window.live.watcher._poll.isActive()


def test_another_folder_opened_is_followed_and_the_old_one_no_longer(window: MainWindow, writer: Writer,
                                                                     tmp_path: Path, qtbot: QtBot) -> None:
    seed(tmp_path / "other").close()
    window.open_folder(tmp_path / "other")
    qtbot.waitUntil(lambda: window.is_loaded() and window.live.watcher is not None and window.live.watcher.is_ready
                    and window.live.watcher.root == (tmp_path / "other").absolute(), timeout=WAIT_MS)
    before = Counter(window.live.reloads)
    writer.call("create_user", user="dave")  # in the folder shown before
    other = Writer(tmp_path / "other", "--fast")
    try:
        other.call("create_user", user="erin")
        qtbot.waitUntil(lambda: window.users_model.row_of("erin") >= 0, timeout=WAIT_MS)
        other.call("set_global", key="sentinel", value=1)
        qtbot.waitUntil(lambda: value(window.global_model, "sentinel") == 1, timeout=WAIT_MS)
    finally:
        other.close()
    assert window.users_model.row_of("dave") < 0
    assert (window.live.reloads - before)["users"] == 1


def test_an_encrypted_store_is_followed(make_window: Callable[..., MainWindow], tmp_path: Path,
                                        qtbot: QtBot) -> None:
    store = seed(tmp_path / "secret", KEY)
    try:
        window = make_window(store, select="alice")
        qtbot.waitUntil(lambda: window.live.watcher is not None and window.live.watcher.is_ready
                        and window.conversation_model.rowCount() == 400, timeout=WAIT_MS)
        other = Writer(tmp_path / "secret", "--fast", "--key", KEY)
        try:
            other.call("add_message", user="alice", content="whispered")
            other.call("add_fact", user="alice", text="keeps secrets")
            qtbot.waitUntil(lambda: last_message(window) == "whispered"
                            and "keeps secrets" in [r.text for r in window.facts_model.rows], timeout=WAIT_MS)
        finally:
            other.close()
        assert b"whispered" not in b"".join(p.read_bytes() for p in (tmp_path / "secret").rglob("*") if p.is_file())
    finally:
        store.close()


# -- charts ----------------------------------------------------------------------------------------------------
def test_metrics_follow_while_their_tab_shows_and_when_it_shows_again(window: MainWindow, writer: Writer,
                                                                       qtbot: QtBot) -> None:
    metrics = window.metrics_view
    with qtbot.waitSignal(metrics.updated, timeout=WAIT_MS):
        window.show_tab("metrics")
    assert metrics.activity is not None and metrics.activity.message_count == 400
    writer.call("add_message", user="alice", content="while the charts show")
    qtbot.waitUntil(lambda: metrics.activity is not None and metrics.activity.message_count == 401, timeout=WAIT_MS)
    window.show_tab("conversation")
    charts = window.live.reloads["charts"]
    writer.call("add_message", user="alice", content="while they are hidden")
    qtbot.waitUntil(lambda: last_message(window) == "while they are hidden", timeout=WAIT_MS)
    settle(qtbot, window, writer, 1)
    assert window.live.reloads["charts"] == charts and metrics.activity.message_count == 401
    with qtbot.waitSignal(metrics.updated, timeout=WAIT_MS):
        window.show_tab("metrics")
    assert metrics.activity.message_count == 402


def test_the_overview_follows_while_it_shows(window: MainWindow, live_store: JsonMemoryStore, writer: Writer,
                                             qtbot: QtBot) -> None:
    overview = window.overview_view
    assert isinstance(overview, OverviewView) and overview.store is live_store
    with qtbot.waitSignal(overview.updated, timeout=WAIT_MS):
        window.show_tab("overview")
        overview.refresh()

    def counts() -> dict[str, int]:
        assert overview.overview is not None
        return {u.user_id: u.message_count for u in overview.overview.users}

    assert counts()["carol"] == 5
    writer.call("add_messages", user="carol", count=3)
    qtbot.waitUntil(lambda: counts()["carol"] == 8, timeout=WAIT_MS)


# -- the safety net and the model tester -------------------------------------------------------------------
def test_view_refresh_finds_a_change_whose_event_was_lost(window: MainWindow, writer: Writer, qtbot: QtBot) -> None:
    watcher = window.live.watcher
    assert watcher is not None
    watcher._poll.stop()  # the poll would repair it within 5 s: here the F5 action must
    for fs in watcher.findChildren(QFileSystemWatcher):  # as after an inotify overflow: every event is lost
        fs.removePaths(fs.files() + fs.directories())
    writer.call("add_fact", user="alice", text="seen after F5")
    settle_without_events = window.live.reloads.copy()
    assert window.live.refresh_action.shortcut().toString() == "F5"
    assert window.live.refresh_action in window.window_actions.view_menu.actions()
    window.live.refresh_action.trigger()
    qtbot.waitUntil(lambda: "seen after F5" in [r.text for r in window.facts_model.rows], timeout=WAIT_MS)
    assert window.live.reloads["details"] > settle_without_events["details"]


def test_every_model_passes_the_model_tester_while_changes_arrive(window: MainWindow, writer: Writer, qtbot: QtBot,
                                                                   qtmodeltester: Any) -> None:
    models = [window.users_model, window.users_pane.proxy, window.conversation_model, window.facts_model,
              window.facts_pane.proxy, window.memories_model, window.profile_model, window.global_model]
    for model in models:
        qtmodeltester.check(model)
    mode = QAbstractItemModelTester.FailureReportingMode.Warning  # a failure is a Qt warning: the test fails
    testers = [QAbstractItemModelTester(model, mode, window) for model in models]  # they watch what follows
    writer.call("add_messages", user="alice", count=3)
    writer.call("add_fact", user="alice", text="likes maps", category="hobbies")
    writer.call("store_memory", user="alice", content="learned to sail", type="skills")
    writer.call("set_profile", user="alice", key="preferences", value={"tea": ["green", "black"], "music": "jazz"})
    writer.call("set_global", key="motd", value={"text": "nested", "lines": [1, 2]})
    writer.call("create_user", user="dave")
    writer.call("erase_user", user="bob")
    qtbot.waitUntil(lambda: window.conversation_model.rowCount() == 403
                    and "likes maps" in [r.text for r in window.facts_model.rows]
                    and "learned to sail" in [r.content for r in window.memories_model.rows]
                    and value(window.profile_model, "preferences") == {"tea": ["green", "black"], "music": "jazz"}
                    and value(window.global_model, "motd") == {"text": "nested", "lines": [1, 2]}
                    and sorted(window.users_model.user_ids()) == ["alice", "carol", "dave"], timeout=WAIT_MS)
    writer.call("set_profile", user="alice", key="preferences", value={"tea": ["green"]})
    qtbot.waitUntil(lambda: value(window.profile_model, "preferences") == {"tea": ["green"]}, timeout=WAIT_MS)
    assert len(testers) == len(models)
