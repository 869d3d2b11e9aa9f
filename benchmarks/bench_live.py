"""Live refresh figures: how fast an external write reaches the watcher, how bursts coalesce, idle cost.

    python benchmarks/bench_live.py [--quick] [--users N] [--writes N] [--idle SECONDS]

A writer process (this script with ``--writer``) calls ``add_message`` and records ``time.time()`` right
after each call returns; this process runs a ``StoreWatcher`` and records when ``userChanged`` arrives (one
machine, one clock). Printed: latency p50/p95 over the writes (target p95 < 300 ms), reloads per burst of
100 writes in 100 ms, and the CPU time of this process while idle (target < 1 % of one core).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Slot

from memgui.models.watcher import StoreWatcher
from memgui.store import JsonMemoryStore, build_config

ACTIVE = "active_user"


def open_store(data_dir: Path, durable: bool) -> JsonMemoryStore:
    return JsonMemoryStore(build_config({"DATA_DIR": data_dir, "DEFAULT_TIMEZONE": "UTC",
                                         "DURABLE_WRITES": durable}, environ={}))


def make_users(data_dir: Path, count: int) -> None:
    """``count`` idle users written straight in format v1 (the store's create path rewrites the index
    each time, which is needlessly slow for a benchmark's setup)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    stamp = "2024-01-01T12:00:00+00:00"
    names = [f"user{i:05}" for i in range(count)]
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
    """Run the plan and print one JSON object: the return time of every write, per phase."""
    store = open_store(data_dir, durable=True)
    fast = open_store(data_dir, durable=False)  # bursts: 100 synced writes do not fit in 100 ms on most disks
    rng = random.Random(7)
    out: dict[str, Any] = {"single": [], "bursts": []}
    for user in [ACTIVE, *(f"burst_user{b}" for b in range(plan["bursts"]))]:
        store.add_message(user, "user", "first message")
    store.flush()
    time.sleep(1.0)  # the watcher has seen these users before anything is measured
    for i in range(plan["writes"]):
        store.add_message(ACTIVE, "user", f"message {i}")
        out["single"].append(time.time())
        time.sleep(rng.uniform(0.10, 0.25))  # spaced wider than the debounce: each write measured alone
    for b in range(plan["bursts"]):
        time.sleep(1.5)  # the previous burst and its materialization are over
        start, times = time.time(), []
        for i in range(100):
            due = start + 0.1 * i / 100
            if due > time.time():
                time.sleep(due - time.time())
            fast.add_message(f"burst_user{b}", "user", f"burst {i}")
            times.append(time.time())
        out["bursts"].append(times)
    time.sleep(1.5)
    store.close()
    fast.close()
    print(json.dumps(out), flush=True)


# -- the watching process --------------------------------------------------------------------------------
class Recorder(QObject):
    """Each userChanged with its time; for the measured user, also the newest message the store shows
    then (a durable write is visible before it returns: the journal line is written, then synced)."""

    def __init__(self, watcher: StoreWatcher, store: JsonMemoryStore) -> None:
        super().__init__(watcher)
        self.store = store
        self.events: list[tuple[float, str]] = []
        self.shown: list[tuple[float, int]] = []
        watcher.userChanged.connect(self.on_user)

    @Slot(str)
    def on_user(self, user_id: str) -> None:
        now = time.time()
        self.events.append((now, user_id))
        if user_id == ACTIVE:
            last = self.store.get_message_history(ACTIVE, limit=1)
            words = last[0]["content"].split() if last else []
            if len(words) == 2 and words[0] == "message":
                self.shown.append((now, int(words[1])))


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
            QCoreApplication.quit()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def latencies(writes: list[float], shown: list[tuple[float, int]]) -> list[float]:
    """For each write, the time from its return until a signal after which the store shows it (0 when
    that happened before the call returned)."""
    out = []
    for i, returned in enumerate(writes):
        when = [t for t, newest in shown if newest >= i]
        if when:
            out.append(max(0.0, when[0] - returned))
    return out


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

    app = QCoreApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="bench_live_") as tmp:
        data_dir = Path(tmp) / "data"
        started = time.perf_counter()
        make_users(data_dir, args.users)
        print(f"store: {args.users} idle users made in {time.perf_counter() - started:.1f} s")
        store = open_store(data_dir, durable=False)
        owner = QObject()
        started, cpu = time.perf_counter(), time.process_time()
        watcher = StoreWatcher.for_store(store, owner)
        while not watcher.is_ready:
            app.processEvents()
        print(f"watch armed: {time.perf_counter() - started:.2f} s wall, {time.process_time() - cpu:.2f} s CPU "
              f"({len(watcher.user_ids())} users)")
        recorder = Recorder(watcher, store)
        proc = subprocess.Popen([sys.executable, __file__, "--writer", str(data_dir), json.dumps(plan)],
                                stdout=subprocess.PIPE, text=True)
        Waiter(owner, proc)
        app.exec()
        assert proc.stdout is not None
        result = json.loads(proc.stdout.read())

        lat = latencies(result["single"], recorder.shown)
        print(f"latency write -> userChanged over {len(lat)}/{len(result['single'])} writes: "
              f"p50 {statistics.median(lat) * 1000:.0f} ms, p95 {percentile(lat, 0.95) * 1000:.0f} ms, "
              f"max {max(lat) * 1000:.0f} ms (target p95 < 300 ms)")
        counts = []
        for b, times in enumerate(result["bursts"]):
            got = [t for t, user in recorder.events if user == f"burst_user{b}"]
            after = [t for t in got if t >= times[-1]]
            counts.append(len(got))
            last = (after[-1] - times[-1]) * 1000 if after else float("nan")
            print(f"burst {b}: 100 writes in {(times[-1] - times[0]) * 1000:.0f} ms -> {len(got)} userChanged, "
                  f"the last {last:.0f} ms after the final write (materialization included)")
        print(f"reloads per burst: mean {statistics.mean(counts):.1f}, max {max(counts)}")

        cpu, wall = time.process_time(), time.perf_counter()
        QTimer.singleShot(int(idle_s * 1000), app.quit)
        app.exec()
        used, spent = time.process_time() - cpu, time.perf_counter() - wall
        print(f"idle: {used * 1000:.0f} ms CPU in {spent:.0f} s = {100 * used / spent:.3f} % of one core "
              f"with {len(watcher.user_ids())} users (target < 1 %)")
        watcher.stop()
        store.close()


if __name__ == "__main__":
    main()
