"""Live refresh figures, with a real ``MainWindow`` offscreen following a writer process.

    python benchmarks/bench_live.py [--quick] [--users N] [--writes N] [--idle SECONDS]

A writer process (this script with ``--writer``) calls ``add_message`` for the user selected in the window
and records ``time.time()`` right before and right after each call (one machine, one clock). This process
records when the watcher's ``userChanged`` arrives and when the conversation model has the row. Printed:

- latency from a write's return until the watcher signal, and until the model shows it: p50/p95 over the
  writes (target p95 < 300 ms);
- per burst of 100 writes in 100 ms: the reloads of the window (one per ``userChanged``: the user's row,
  panes and conversation are read again) and the time until the model holds all 100;
- CPU time of this process, worker threads included, while idle with the window open (target < 1 % of one core).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QModelIndex, QObject, QSettings, QTimer, Slot
from PySide6.QtWidgets import QApplication

from memgui.app import MainWindow
from memgui.store import JsonMemoryStore, build_config

ACTIVE = "active_user"
BURST = 100


def open_store(data_dir: Path, durable: bool) -> JsonMemoryStore:
    return JsonMemoryStore(build_config({"DATA_DIR": data_dir, "DEFAULT_TIMEZONE": "UTC",
                                         "DURABLE_WRITES": durable}, environ={}))


def make_users(data_dir: Path, count: int) -> None:
    """``count`` idle users and the active one (a message each), written straight in format v1 (the store's
    create path rewrites the index each time, which is needlessly slow for a benchmark's setup)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    stamp = "2024-01-01T12:00:00+00:00"
    names = [ACTIVE, *(f"user{i:05}" for i in range(count))]
    for name in names:
        folder = data_dir / name
        folder.mkdir()
        docs = {"user_profile.json": {"name": name, "created_at": stamp},
                "conversation_history.json": {"messages": [{"content": "hello", "timestamp": stamp,
                                                            "is_user": True, "metadata": {}, "word_count": 1}]},
                "user_facts.json": {"categories": {"general": ["likes tea"]}, "last_updated": stamp},
                "interaction_metrics.json": {"message_count": 1, "total_words": 1}}
        for file, doc in docs.items():
            (folder / file).write_text(json.dumps(doc), "utf-8")
    (data_dir / "users_index.json").write_text(json.dumps({"users": names}), "utf-8")


# -- the writer process ----------------------------------------------------------------------------------
def writer_main(data_dir: Path, plan: dict[str, Any]) -> None:
    """Run the plan and print one JSON object: (start, return) of every write, per phase."""
    store = open_store(data_dir, durable=True)
    fast = open_store(data_dir, durable=False)  # bursts: 100 synced writes do not fit in 100 ms on most disks
    rng = random.Random(7)
    out: dict[str, Any] = {"single": [], "bursts": []}
    for i in range(plan["writes"]):
        start = time.time()
        store.add_message(ACTIVE, "user", f"message {i}")
        out["single"].append((start, time.time()))
        time.sleep(rng.uniform(0.10, 0.25))  # spaced wider than the debounce: each write measured alone
    for b in range(plan["bursts"]):
        time.sleep(1.5)  # the previous burst and its materialization are over
        begin, times = time.time(), []
        for i in range(BURST):
            due = begin + 0.1 * i / BURST
            if due > time.time():
                time.sleep(due - time.time())
            fast.add_message(ACTIVE, "user", f"burst {b} {i}")
            times.append(time.time())
        out["bursts"].append((begin, times))
    time.sleep(1.5)
    store.close()
    fast.close()
    print(json.dumps(out), flush=True)


# -- the window's process --------------------------------------------------------------------------------
class Recorder(QObject):
    """When the watcher reported the active user, and the conversation's row count after each insert."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.model = window.conversation_model
        self.signals: list[float] = []
        self.rows: list[tuple[float, int]] = []
        assert window.live.watcher is not None
        window.live.watcher.userChanged.connect(self.on_user)
        self.model.rowsInserted.connect(self.on_rows)

    @Slot(str)
    def on_user(self, user_id: str) -> None:
        if user_id == ACTIVE:
            self.signals.append(time.time())

    @Slot(QModelIndex, int, int)
    def on_rows(self, _parent: QModelIndex, _first: int, _last: int) -> None:
        self.rows.append((time.time(), self.model.rowCount()))

    def shown_at(self, rows: int, since: float) -> float | None:
        """When the model first held ``rows`` rows after ``since``."""
        return next((t for t, n in self.rows if t >= since and n >= rows), None)


class Waiter(QObject):
    """Quits the event loop when the writer process exits (checked every 100 ms while it runs)."""

    def __init__(self, parent: QObject, proc: subprocess.Popen[str]) -> None:
        super().__init__(parent)
        self.proc = proc
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(100)

    @Slot()
    def check(self) -> None:
        if self.proc.poll() is not None:
            self.timer.stop()
            QCoreApplication.exit(0)  # not quit(): that closes the window, which stops its workers


def wait_until(app: QApplication, condition: Callable[[], bool], timeout: float = 300.0) -> float:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("benchmark step did not finish")
        app.processEvents()
        time.sleep(0.002)
    return time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def figure(name: str, values: list[float], total: int) -> str:
    ms = [v * 1000 for v in values]
    return (f"{name} over {len(ms)}/{total} writes: p50 {statistics.median(ms):.0f} ms, "
            f"p95 {percentile(ms, 0.95):.0f} ms, max {max(ms):.0f} ms (target p95 < 300 ms)")


def run(app: QApplication, tmp: Path, users: int, plan: dict[str, Any], idle_s: float) -> None:
    data_dir = tmp / "data"
    started = time.perf_counter()
    make_users(data_dir, users)
    print(f"store: {users} idle users and {ACTIVE} made in {time.perf_counter() - started:.1f} s")
    store = open_store(data_dir, durable=False)
    settings = QSettings(str(tmp / "memgui.ini"), QSettings.Format.IniFormat)
    window = MainWindow(store, settings=settings, select=ACTIVE, tab="conversation")
    window.resize(1200, 800)
    window.show()
    loaded = wait_until(app, lambda: window.is_loaded() and window.live.watcher is not None
                        and window.live.watcher.is_ready and window.conversation_model.rowCount() == 1)
    print(f"window loaded and watching: {loaded:.2f} s ({window.users_model.rowCount()} users)")
    recorder = Recorder(window)
    base = window.conversation_model.rowCount()
    proc = subprocess.Popen([sys.executable, __file__, "--writer", str(data_dir), json.dumps(plan)],
                            stdout=subprocess.PIPE, text=True)
    Waiter(window, proc)
    app.exec()
    assert proc.stdout is not None
    result = json.loads(proc.stdout.read())

    to_signal, to_model = [], []
    for i, (begun, returned) in enumerate(result["single"]):
        signal = next((t for t in recorder.signals if t >= begun), None)
        shown = recorder.shown_at(base + i + 1, begun)
        if signal is not None:
            to_signal.append(max(0.0, signal - returned))
        if shown is not None:
            to_model.append(max(0.0, shown - returned))
    total = len(result["single"])
    print(figure("latency write -> userChanged", to_signal, total))
    print(figure("latency write -> conversation model shows it", to_model, total))

    rows = base + total
    counts = []
    for b, (begun, times) in enumerate(result["bursts"]):
        end = result["bursts"][b + 1][0] if b + 1 < len(result["bursts"]) else times[-1] + 1.5
        reloads = sum(begun <= t < end for t in recorder.signals)
        inserts = sum(begun <= t < end for t, _n in recorder.rows)
        rows += BURST
        shown = recorder.shown_at(rows, begun)
        counts.append(reloads)
        last = f"{(shown - times[-1]) * 1000:.0f} ms" if shown is not None else "never"
        print(f"burst {b}: {BURST} writes in {(times[-1] - times[0]) * 1000:.0f} ms -> {reloads} reloads, "
              f"{inserts} row inserts; all {BURST} in the model {last} after the last write returned")
    if counts:
        print(f"reloads per burst: mean {statistics.mean(counts):.1f}, max {max(counts)} "
              f"(materialization of the journal included)")
    wait_until(app, lambda: window.conversation_model.rowCount() >= rows, timeout=10)
    print(f"conversation rows at the end: {window.conversation_model.rowCount()} (expected {rows}), "
          f"{window.live.reloads['details']} pane reloads in all")

    cpu, wall = time.process_time(), time.perf_counter()
    QTimer.singleShot(int(idle_s * 1000), functools.partial(QCoreApplication.exit, 0))
    app.exec()
    used, spent = time.process_time() - cpu, time.perf_counter() - wall
    assert window.isVisible() and window.live.watcher is not None
    print(f"idle with the window open: {used * 1000:.0f} ms CPU in {spent:.0f} s = {100 * used / spent:.3f} % "
          f"of one core ({window.users_model.rowCount()} users watched; target < 1 %)")
    window.close()
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="50 writes, 2 bursts, 10 s idle")
    parser.add_argument("--users", type=int, default=1000, help="idle users in the store (default 1000)")
    parser.add_argument("--writes", type=int)
    parser.add_argument("--idle", type=float)
    parser.add_argument("--writer", nargs=2, metavar=("DATA_DIR", "PLAN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer:
        writer_main(Path(args.writer[0]), json.loads(args.writer[1]))
        return
    plan = {"writes": args.writes or (50 if args.quick else 200), "bursts": 2 if args.quick else 5}
    idle_s = args.idle or (10.0 if args.quick else 60.0)
    app = QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="bench_live_") as tmp:
        run(app, Path(tmp), args.users, plan, idle_s)


if __name__ == "__main__":
    main()
