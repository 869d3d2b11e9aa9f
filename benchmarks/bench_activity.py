"""Speed of the activity aggregates for a user with 1,000,000 messages (a script, not a test).

Prints: the time to compute ``user_activity`` directly; then, in the metrics pane, the time until the charts
are on screen and the longest event-loop stall while the worker computes and while the charts are drawn.
With ``--compare``, also the time and memory of the straightforward ``get_message_history`` route.

The store is generated once with ``add_messages`` in batches of 100,000 and kept in a cache folder:
``python benchmarks/bench_activity.py [--messages N] [--cache DIR] [--compare]``.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
from stall import StallMeter, peak_mb

from memgui.__main__ import settle_garbage_collector
from memgui.store import JsonMemoryStore, build_config
from memgui.store.read.activity import UserActivity, user_activity
from memgui.views.metrics_view import MetricsView

USER = "big"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "we", "talk", "about",
         "weather", "music", "and", "books"]


def open_store(root: Path, **overrides: object) -> JsonMemoryStore:
    values: dict[str, object] = {"DATA_DIR": root, "DEFAULT_TIMEZONE": "UTC"}
    values.update(overrides)
    return JsonMemoryStore(build_config(values, environ={}))


def generate(root: Path, count: int) -> None:
    """``count`` messages over three years, user and assistant in turn, in batches of 100,000."""
    marker = root / f".generated-{count}"
    if marker.exists():
        return
    store = open_store(root, DURABLE_WRITES=False)
    store.create_user(USER, {"timezone": "America/New_York"})
    rng = random.Random(1)
    start = datetime(2023, 1, 1, tzinfo=timezone.utc)
    step = 3 * 365 * 86400 / count
    began = time.perf_counter()
    for first in range(0, count, 100_000):
        batch = [{"role": "user" if i % 2 == 0 else "assistant",
                  "content": " ".join(rng.choices(WORDS, k=rng.randint(1, 40))),
                  "timestamp": (start + timedelta(seconds=i * step)).isoformat()}
                 for i in range(first, min(count, first + 100_000))]
        store.add_messages(USER, batch)
    store.close()
    marker.touch()
    print(f"generated {count:,} messages in {time.perf_counter() - began:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "memgui-bench-activity")
    parser.add_argument("--compare", action="store_true", help="also time get_message_history (slow, ~2 GB)")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    root = args.cache / f"store-{args.messages}"
    if args.generate_only:
        generate(root, args.messages)
        return 0
    # In a child process, so that its memory does not count in the peak printed below.
    subprocess.run([sys.executable, __file__, "--generate-only", "--messages", str(args.messages),
                    "--cache", str(args.cache)], check=True)
    store = open_store(root)

    began = time.perf_counter()
    activity = user_activity(store, USER, NOW)
    compute = time.perf_counter() - began
    print(f"user_activity: {activity.message_count:,} messages on {len(activity.per_day.days):,} days "
          f"in {compute:.2f} s ({compute / max(1, activity.message_count) * 1e6:.2f} us/message); "
          f"peak RSS {peak_mb():.0f} MB")

    app = QApplication.instance() or QApplication(sys.argv[:1])
    MetricsView.clock = staticmethod(lambda: NOW)
    view = MetricsView(store)
    view.resize(1100, 1300)
    meter = StallMeter()
    loop = QEventLoop()
    view.updated.connect(loop.quit)
    computing_stall, drawing = [0.0], [0.0]
    draw = view._show

    def timed_draw(result: UserActivity) -> None:  # the GUI thread's share: putting the result on screen
        computing_stall[0] = meter.longest
        began = time.perf_counter()
        draw(result)
        drawing[0] = time.perf_counter() - began

    view._show = timed_draw  # type: ignore[method-assign,assignment]
    settle_garbage_collector()  # as memgui's main() does once its window is up
    # The same meter over an idle event loop: on a shared machine the scheduler alone causes stalls.
    idle = QEventLoop()
    QTimer.singleShot(3000, idle.quit)
    meter.start()
    idle.exec()
    print(f"idle event loop (baseline, 3 s): longest stall {meter.stop() * 1000:.0f} ms")
    meter.start()
    began = time.perf_counter()
    view.set_user(USER)
    loop.exec()
    shown = time.perf_counter()
    stall = meter.stop()
    print(f"metrics pane: charts on screen after {shown - began:.2f} s; longest event-loop stall while the worker "
          f"computes {computing_stall[0] * 1000:.0f} ms; drawing the charts {drawing[0] * 1000:.0f} ms "
          f"(longest stall overall {stall * 1000:.0f} ms)")
    began = time.perf_counter()
    view.grab()
    print(f"first paint of the pane: {time.perf_counter() - began:.3f} s")
    view.deleteLater()
    app.processEvents()

    if args.compare:
        began = time.perf_counter()
        history = store.get_message_history(USER, include_archived=True)
        print(f"get_message_history(include_archived=True): {len(history):,} messages in "
              f"{time.perf_counter() - began:.2f} s; peak RSS {peak_mb():.0f} MB")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
