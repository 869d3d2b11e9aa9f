"""Store-wide search in the window, on real files, real processes and real widgets: Ctrl+Shift+F, results as
they arrive, the filters, a result opening its user on the message or fact (selected and marked), results that
follow another process's writes, a damaged or deleted index made again, hostile text shown as plain text,
read-only and encrypted stores keeping the index out of the folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from live_helpers import WAIT_MS, Writer, open_store, seed
from PySide6.QtCore import QDate, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from memgui.app import MainWindow
from memgui.models import search_worker
from memgui.models.conversation_worker import MessageRow
from memgui.models.facts_model import FactRow
from memgui.models.roles import ROW_ROLE
from memgui.models.search_model import SearchResultsModel
from memgui.store import JsonMemoryStore
from memgui.store.search import Hit

INDEX = Path(".memgui") / "search.sqlite3"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


@pytest.fixture
def store(data_dir: Path, cache: Path) -> JsonMemoryStore:
    s = seed(data_dir)
    s.add_message("bob", "user", "We flew to Lisbon for the weekend")
    s.add_message("carol", "assistant", "Lisbon is lovely in May")
    s.add_user_fact("carol", "Is vegetarian since 2019", "preferences")
    s.store_permanent_memory("bob", "Proposed in Lisbon", "milestone")
    s.set_global_context("greeting", "Welcome back to Lisbon")
    s.flush()
    return s


def run_search(qtbot: QtBot, window: MainWindow, text: str) -> list[Hit]:
    with qtbot.waitSignal(window.search.finished, timeout=WAIT_MS):
        window.search_for(text)
    return hits(window)


def hits(window: MainWindow) -> list[Hit]:
    model = window.search_model
    return [h for h in (model.hit(r) for r in range(model.rowCount())) if h is not None]


def test_ctrl_shift_f_searches_every_kind_and_shows_where_each_hit_is(
        qtbot: QtBot, make_window: Callable[..., MainWindow], store: JsonMemoryStore) -> None:
    window = make_window(store, select="alice")
    action = next(a for a in window.findChildren(QAction) if a.shortcut() == QKeySequence("Ctrl+Shift+F"))
    action.trigger()
    assert window.side_tabs.currentWidget() is window.search_pane
    assert QApplication.focusWidget() is window.search_pane.field or not window.isActiveWindow()
    with qtbot.waitSignal(window.search.finished, timeout=WAIT_MS):
        qtbot.keyClicks(window.search_pane.field, "lisbon")  # typing: the search starts once it pauses
    found = {(h.user, h.kind) for h in hits(window)}
    assert found == {("bob", "message"), ("carol", "message"), ("bob", "memory"), ("", "global")}
    assert all("lisbon" in h.snippet.casefold() for h in hits(window))
    h = hits(window)[0]
    assert h.snippet[h.start:h.end] == "Lisbon"
    assert window.search_pane.status.text().startswith("4 results")
    assert (store.root / INDEX).is_file()  # a plain writable folder: the index in its bookkeeping folder


def test_filters_narrow_by_kind_role_user_and_date(
        qtbot: QtBot, make_window: Callable[..., MainWindow], store: JsonMemoryStore) -> None:
    window = make_window(store, select="alice")
    pane = window.search_pane
    run_search(qtbot, window, "lisbon")
    with qtbot.waitSignal(window.search.finished, timeout=WAIT_MS):
        pane.kind.setCurrentIndex(pane.kind.findData("message"))
    assert {h.user for h in hits(window)} == {"bob", "carol"}
    with qtbot.waitSignal(window.search.finished, timeout=WAIT_MS):
        pane.role.setCurrentIndex(pane.role.findData("assistant"))
    assert [h.user for h in hits(window)] == ["carol"]
    with qtbot.waitSignal(window.search.finished, timeout=WAIT_MS):
        pane.role.setCurrentIndex(0)
    with qtbot.waitSignal(window.search.finished, timeout=WAIT_MS):
        pane.user.setText("bob")
    assert [h.user for h in hits(window)] == ["bob"]
    with qtbot.waitSignal(window.search.finished, timeout=WAIT_MS):
        pane.since.setDate(QDate.currentDate().addDays(2))  # nothing was written after today
    assert hits(window) == []
    assert pane.status.text().startswith("No result")


def test_a_message_result_opens_its_user_on_that_message_marked(
        qtbot: QtBot, make_window: Callable[..., MainWindow], store: JsonMemoryStore) -> None:
    window = make_window(store, select="alice")
    found = run_search(qtbot, window, '"flew to"')
    assert [(h.user, h.kind) for h in found] == [("bob", "message")]
    window.search_pane.select_row(0)
    assert window.users_pane.current_user() == "bob"
    assert window.tabs.currentWidget() is window.conversation_pane
    view = window.conversation_pane.view

    def on_message() -> bool:
        row = view.currentIndex().data(ROW_ROLE)
        return isinstance(row, MessageRow) and row.id == found[0].ref

    qtbot.waitUntil(on_message, timeout=WAIT_MS)
    marks = window.conversation_pane.reader.extraSelections()
    assert [m.cursor.selectedText() for m in marks] == ["flew to"]


def test_a_fact_result_opens_the_facts_tab_on_that_fact(
        qtbot: QtBot, make_window: Callable[..., MainWindow], store: JsonMemoryStore) -> None:
    window = make_window(store, select="alice")
    found = run_search(qtbot, window, "VEGETARIAN")
    assert [(h.user, h.kind, h.field) for h in found] == [("carol", "fact", "preferences")]
    window.search_pane.select_row(0)
    assert window.tabs.currentWidget() is window.facts_pane

    def on_fact() -> bool:
        row = window.facts_pane.table.currentIndex().data(ROW_ROLE)
        return isinstance(row, FactRow) and row.id == found[0].ref and row.text == "Is vegetarian since 2019"

    qtbot.waitUntil(on_fact, timeout=WAIT_MS)
    assert window.users_pane.current_user() == "carol"


def test_results_follow_another_process_writing(
        qtbot: QtBot, make_window: Callable[..., MainWindow], store: JsonMemoryStore, data_dir: Path) -> None:
    window = make_window(store, select="alice")
    run_search(qtbot, window, "lisbon")
    window.search_pane.select_row(0)
    selected = hits(window)[0]
    qtbot.waitUntil(lambda: window.live.watcher is not None and window.live.watcher.is_ready, timeout=WAIT_MS)
    writer = Writer(data_dir, "--fast")
    try:
        writer.call("add_message", user="dave", content="Dave moved to Lisbon")
        writer.call("add_fact", user="alice", text="Visited Lisbon twice", category="travel")
        qtbot.waitUntil(lambda: {"dave", "alice"} <= {h.user for h in hits(window)}, timeout=WAIT_MS)
        writer.call("erase_user", user="dave")
        qtbot.waitUntil(lambda: "dave" not in {h.user for h in hits(window)}, timeout=WAIT_MS)
    finally:
        writer.close()
    current = window.search_pane.view.currentIndex().data(ROW_ROLE)
    assert current == selected  # the diff kept the admin's selection


def test_a_damaged_index_is_made_again_and_a_deleted_one_too(
        qtbot: QtBot, make_window: Callable[..., MainWindow], store: JsonMemoryStore, settings: Any) -> None:
    path = store.root / INDEX
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)  # torn: what a crash of a disk can leave
    window = make_window(store, select="alice")
    assert len(run_search(qtbot, window, "lisbon")) == 4
    assert "a damaged index was made again" in window.search_pane.status.text()
    path.unlink()
    store.add_message("bob", "user", "Back from Lisbon")
    store.flush()  # the watcher tells the search, which follows: the deleted index made again
    qtbot.waitUntil(lambda: len(hits(window)) == 5 and path.is_file(), timeout=WAIT_MS)


def test_the_first_build_of_a_big_store_runs_in_a_child_process(
        qtbot: QtBot, make_window: Callable[..., MainWindow], store: JsonMemoryStore,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The window's process only waits on the builder's pipe (the GIL and the collector stay with the GUI)."""
    builders: list[int] = []

    class Recorded(search_worker.ChildBuild):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            builders.append(self._proc.pid or 0)

    monkeypatch.setattr(search_worker, "CHILD_MIN_USERS", 1)
    monkeypatch.setattr(search_worker, "ChildBuild", Recorded)
    window = make_window(store, select="alice")
    progress: list[tuple[int, int, int]] = []
    window.search.worker.progress.connect(lambda *a: progress.append(a))
    assert len(run_search(qtbot, window, "lisbon")) == 4
    assert len(builders) == 1 and builders[0] not in (0, os.getpid())
    assert progress and progress[-1][1] == progress[-1][2]  # the child's progress reached the pane
    assert len(run_search(qtbot, window, "vegetarian")) == 1  # built: the next search asks no child
    assert len(builders) == 1


def test_hostile_text_is_shown_as_plain_text(
        qtbot: QtBot, make_window: Callable[..., MainWindow], store: JsonMemoryStore) -> None:
    store.add_message("mallet", "user", "<b>bold</b> <img src=x onerror=alert(1)> zebra\u202eevil")
    store.add_message("mallet", "user", "x" * 5_000_000 + " zebra at the end")
    store.flush()
    window = make_window(store, select="alice")
    window.resize(1100, 700)
    found = run_search(qtbot, window, "zebra")
    assert len(found) == 2
    html = next(h for h in found if "bold" in h.snippet)
    assert "<b>bold</b> <img src=x onerror=alert(1)>" in html.snippet
    assert "\u202e" not in html.snippet  # a right-to-left override is shown as its code, not obeyed
    huge = next(h for h in found if "end" in h.snippet)
    assert len(huge.snippet) < 400 and huge.snippet[huge.start:huge.end] == "zebra"
    window.search_pane.view.grab()  # the delegate paints both (plain text layout, no rich text)


def test_any_script_matches_without_case_or_accents(
        qtbot: QtBot, make_window: Callable[..., MainWindow], store: JsonMemoryStore) -> None:
    store.add_message("kenji", "user", "東京に行きました 🎉")
    store.add_message("layla", "user", "مَرْحَبًا بكم في لشبونة")
    store.add_message("zoe", "user", "Un CAFÉ crème, s'il vous plaît")
    store.flush()
    window = make_window(store, select="alice")
    assert [h.user for h in run_search(qtbot, window, "東京")] == ["kenji"]
    assert [h.user for h in run_search(qtbot, window, "🎉")] == ["kenji"]
    assert [h.user for h in run_search(qtbot, window, "مرحبا")] == ["layla"]  # harakat ignored
    assert [h.user for h in run_search(qtbot, window, '"cafe creme"')] == ["zoe"]
    assert [h.user for h in run_search(qtbot, window, "plai*")] == ["zoe"]


def test_read_only_window_writes_no_index_in_the_folder(
        qtbot: QtBot, make_window: Callable[..., MainWindow], store: JsonMemoryStore, cache: Path) -> None:
    window = make_window(store, select="alice", read_only=True)
    assert len(run_search(qtbot, window, "lisbon")) == 4
    assert not (store.root / INDEX).exists()
    assert list((cache / "memgui" / "search").glob("*.sqlite3"))


def test_encrypted_store_keeps_its_index_in_memory_unless_allowed(
        qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path, cache: Path) -> None:
    folder = tmp_path / "secret"
    store = open_store(folder, key="correct horse")
    store.add_message("alice", "user", "my secret is in Lisbon")
    store.flush()
    window = make_window(store, select="alice")
    pane = window.search_pane
    assert pane.plaintext.isVisibleTo(pane)
    assert [h.user for h in run_search(qtbot, window, "lisbon")] == ["alice"]
    assert not (folder / INDEX).exists() and not cache.exists()
    assert "in memory" in pane.status.toolTip()
    with qtbot.waitSignal(window.search.finished, timeout=WAIT_MS):
        pane.plaintext.setChecked(True)  # the admin asks for an index on disk
    assert (folder / INDEX).is_file()
    on_disk = b"".join(f.read_bytes() for f in (folder / ".memgui").glob("search.sqlite3*"))
    assert b"my secret is in Lisbon" in on_disk  # plain text, as the box says
    store.close()


def test_results_model_passes_the_model_tester(qtmodeltester: Any, qapp: Any) -> None:
    owner = QObject()
    model = SearchResultsModel(owner)
    batch = [Hit("u1", "message", f"m{i}", "2026-01-01T00:00:00", "user", "", f"text {i}", 0, 4)
             for i in range(5)]
    model.begin(follow=False)
    model.add_hits(batch[:3])
    model.add_hits(batch[2:])  # a repeated hit is not shown twice
    qtmodeltester.check(model)
    assert model.rowCount() == 5
    model.begin(follow=True)
    model.add_hits([batch[4], batch[0]])
    model.finish()
    qtmodeltester.check(model)
    assert [model.hit(r).ref for r in range(model.rowCount())] == ["m4", "m0"]  # type: ignore[union-attr]
    assert model.data(model.index(0, 0), Qt.ItemDataRole.DisplayRole) == "text 4"
