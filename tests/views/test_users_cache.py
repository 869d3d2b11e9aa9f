"""The users list through the summary cache: a warm start reads nobody again, another process's write to one
user changes that user's row and, in time, the cache file; a read-only window leaves no cache file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from live_helpers import WAIT_MS, open_store, seed, summary
from pytestqt.qtbot import QtBot
from support.writer_process import Writer

from memgui.app import MainWindow
from memgui.models.users_model import COL_MESSAGES
from memgui.store.documents import META_DIR
from memgui.store.read.users_summary import CACHE_NAME, SummaryCache


def _loaded(window: MainWindow, qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: window.is_loaded() and window.users_model.rowCount() == 3, timeout=WAIT_MS)


def test_a_warm_start_reads_no_user_and_shows_the_same_rows(
        make_window: Callable[..., MainWindow], data_dir: Path, qtbot: QtBot) -> None:
    seed(data_dir).close()
    store = open_store(data_dir)
    cold = make_window(store)
    _loaded(cold, qtbot)
    assert cold.store_worker.summaries.reread == 3
    rows = {uid: summary(cold, uid) for uid in ("alice", "bob", "carol")}
    assert (data_dir / META_DIR / CACHE_NAME).is_file()
    # File > Reload with the worker's memory of the rows dropped (the worker is idle): the rows come from the file
    cold.store_worker.summaries = SummaryCache(store, persist=True)
    generation = cold.session.generation
    cold.reload()
    qtbot.waitUntil(lambda: cold.session.generation > generation and cold.is_loaded(), timeout=WAIT_MS)
    warm = cold
    assert warm.store_worker.summaries.reread == 0 and len(warm.store_worker.summaries.rows) == 3
    assert {uid: summary(warm, uid) for uid in rows} == rows
    assert summary(warm, "alice").messages == 400 and summary(warm, "alice").name == "Alice"


def test_another_process_writing_one_user_updates_their_row_and_the_cache(
        live_window: MainWindow, writer: Writer, data_dir: Path, qtbot: QtBot) -> None:
    window = live_window
    before = summary(window, "bob").messages
    writer.call("add_message", user="bob", content="one more")
    qtbot.waitUntil(lambda: summary(window, "bob").messages == before + 1, timeout=WAIT_MS)
    row = window.users_model.row_of("bob")
    assert window.users_model.index(row, COL_MESSAGES).data() == str(before + 1)
    worker = window.store_worker
    qtbot.waitUntil(lambda: not worker.summaries.dirty, timeout=WAIT_MS)  # saved after the quiet delay
    store = open_store(data_dir)
    fresh = SummaryCache(store, persist=True)
    fresh.load()
    assert fresh.cached("bob") is not None and fresh.cached("bob").messages == before + 1  # type: ignore[union-attr]
    store.close()


def test_a_read_only_window_writes_no_cache_file(
        make_window: Callable[..., MainWindow], data_dir: Path, qtbot: QtBot) -> None:
    seed(data_dir).close()
    window = make_window(open_store(data_dir), read_only=True)
    _loaded(window, qtbot)
    assert summary(window, "bob").messages == 5
    assert not (data_dir / META_DIR / CACHE_NAME).exists()
