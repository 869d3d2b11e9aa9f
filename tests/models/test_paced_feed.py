"""The paced users feed: the worker's results handed on in order, a slice per pass of the event loop."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from PySide6.QtCore import QObject, QTimer, Signal

from memgui.models import jobs
from memgui.models.jobs import WorkerThread
from memgui.models.paced_feed import PacedUsersFeed
from memgui.models.store_worker import StoreWorker
from memgui.models.users_model import UserSummary
from memgui.store import JsonMemoryStore


class Requests(QObject):
    list_users = Signal(int, bool)  # queued to the worker's thread, as the window asks


def test_a_burst_of_results_is_handed_on_in_order_with_the_event_loop_turning_between(
        demo: JsonMemoryStore, owner: QObject, qtbot: Any) -> None:
    worker = StoreWorker(demo)  # not in a thread: its signals are emitted here, as a burst
    owner.destroyed.connect(worker.deleteLater)
    feed = PacedUsersFeed(worker, owner, budget_ms=0)  # one result per pass
    seen: list[str] = []
    feed.users_batch.connect(lambda g, batch, done, total: seen.append(f"batch {done}"))
    feed.summary_loaded.connect(lambda g, uid, s: seen.append(f"summary {uid}"))
    feed.users_relisted.connect(lambda g, ids, added: seen.append(f"relisted {len(ids)}"))
    feed.users_done.connect(lambda g: seen.append("done"))
    feed.users_sent.connect(lambda g: seen.append("cached"))
    ticker = QTimer(owner)  # another client of the event loop: it must get turns while the burst is handed on
    ticker.setInterval(0)
    ticker.timeout.connect(lambda: seen.append("tick"))
    ticker.start()
    for done in range(1, 21):
        worker.users_batch.emit(1, [UserSummary(f"u{done}")], done, 20)
    worker.users_sent.emit(1)
    worker.summary_loaded.emit(1, "u3", UserSummary("u3", name="Ana"))
    worker.users_relisted.emit(1, ["u1", "u2"], [])
    worker.users_done.emit(1)
    assert feed.pending() == 24  # nothing handed on yet: it waits for the event loop
    qtbot.waitUntil(lambda: "done" in seen, timeout=5000)
    ticker.stop()
    results = [s for s in seen if s != "tick"]
    assert results == [*(f"batch {d}" for d in range(1, 21)), "cached", "summary u3", "relisted 2", "done"]
    first, last = seen.index("batch 1"), seen.index("done")
    assert seen[first:last].count("tick") >= 20  # the loop turned between results, not after all of them
    assert feed.pending() == 0


def test_a_store_listed_by_its_worker_thread_arrives_whole_through_the_feed(
        demo: JsonMemoryStore, owner: QObject, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The listing waits for the feed to hand every cached row on before it checks the files; without the
    # feed's answer it would wait this long, and the test would time out.
    monkeypatch.setattr(jobs, "MAX_WAIT_MS", 600_000)
    for n, label in enumerate(("cold: the cache file written", "warm: rows from the cache file")):
        worker = StoreWorker(demo)
        WorkerThread(worker, f"test-store-{n}", owner)
        feed = PacedUsersFeed(worker, owner)
        rows: dict[str, UserSummary] = {}
        feed.users_batch.connect(lambda g, batch, done, total, rows=rows: rows.update((s.user_id, s) for s in batch))
        requests = Requests(owner)
        requests.list_users.connect(worker.list_users)
        with qtbot.waitSignal(feed.users_done, timeout=10_000):
            requests.list_users.emit(1, True)
        assert sorted(rows) == sorted(demo.get_all_users()), label
        assert all(s.loaded for s in rows.values()), label
        assert worker.summaries.reread == (len(rows) if n == 0 else 0), label  # warm: no user read again


def test_a_worker_thread_shortens_the_switch_interval(owner: QObject, demo: JsonMemoryStore) -> None:
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        WorkerThread(StoreWorker(demo), "test-switch", owner)
        assert sys.getswitchinterval() == pytest.approx(jobs.SWITCH_INTERVAL_S)
        sys.setswitchinterval(0.00002)  # a program that chose a shorter one keeps it
        jobs.favor_gui_thread()
        assert sys.getswitchinterval() == pytest.approx(0.00002)
    finally:
        sys.setswitchinterval(before)
