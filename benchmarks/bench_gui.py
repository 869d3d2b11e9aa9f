"""Speed of the admin window, printed beside its targets (a script, not a test).

1. A store of 10,000 users x 100 messages: time to the first painted rows of the users list, and until
   everything is loaded.
2. One user with 1,000,000 archived messages: time until the newest messages are on screen, the longest
   event-loop stall while scrolling to the top and while searching the whole conversation, peak memory.

Stores are generated in a child process (so its memory does not count) and kept in a cache folder between
runs: ``python benchmarks/bench_gui.py [--users N] [--messages N] [--cache DIR]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from stall import StallMeter, peak_mb

from memgui.__main__ import settle_garbage_collector
from memgui.app import MainWindow
from memgui.store import JsonMemoryStore, build_config


def generate_in_child(path: Path, users: int, messages: int) -> None:
    """Generate the store at ``path`` unless a complete one is cached there (a run interrupted while
    generating leaves no marker, and its folder is made again)."""
    marker = path.with_name(path.name + ".complete")
    if marker.exists() and path.is_dir():
        return
    shutil.rmtree(path, ignore_errors=True)
    code = ("import sys; from memgui.demo import generate; "
            "generate(sys.argv[1], users=int(sys.argv[2]), messages_per_user=int(sys.argv[3]), damaged=False).close()")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(path), str(users), str(messages)], check=True)
    marker.touch()
    print(f"  (generated {users:,} x {messages:,} in {time.perf_counter() - start:.1f} s)")


def wait_until(app: QApplication, condition: Callable[[], bool], timeout: float = 600.0) -> float:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("benchmark step did not finish")
        app.processEvents()
        time.sleep(0.001)
    return time.perf_counter() - start


def open_store(path: Path) -> JsonMemoryStore:
    return JsonMemoryStore(build_config({"DATA_DIR": path, "DEFAULT_TIMEZONE": "UTC"}, environ={}))


def bench_users(app: QApplication, folder: Path, settings: QSettings) -> None:
    store = open_store(folder)
    start = time.perf_counter()
    window = MainWindow(store, settings=settings)
    window.show()
    view = window.users_pane.view
    first = wait_until(app, lambda: window.users_pane.proxy.rowCount() > 0)
    view.viewport().repaint()
    first_paint = time.perf_counter() - start
    loaded = wait_until(app, window.is_loaded) + first
    total = window.users_model.rowCount()
    meter = StallMeter()
    meter.start()
    sort_start = time.perf_counter()
    window.users_pane.view.sortByColumn(3, window.users_pane.view.horizontalHeader().sortIndicatorOrder())
    app.processEvents()
    sort_time = time.perf_counter() - sort_start
    meter.stop()
    print(f"users list, {total:,} users:")
    print(f"  first paint      {first_paint * 1000:8.0f} ms   (target < 1000 ms)")
    print(f"  fully loaded     {loaded * 1000:8.0f} ms")
    print(f"  sort by messages {sort_time * 1000:8.0f} ms")
    window.close()
    store.close()


def bench_conversation(app: QApplication, folder: Path, settings: QSettings, meter: StallMeter) -> None:
    store = open_store(folder)
    uid = store.get_all_users()[0]
    start = time.perf_counter()
    window = MainWindow(store, settings=settings, select=uid)
    window.show()
    settle_garbage_collector()  # as memgui's main() does
    selected: list[float] = []
    window.users_pane.current_changed.connect(lambda _uid: selected.append(time.perf_counter()))
    model = window.conversation_model
    view = window.conversation_pane.view
    wait_until(app, lambda: model.user_id == uid and model.rowCount() > 0)
    wait_until(app, lambda: view.rowAt(view.viewport().height() - 5) == model.rowCount() - 1
               and model.message(model.rowCount() - 1) is not None)
    view.viewport().repaint()
    newest_at = time.perf_counter()
    newest = newest_at - start
    from_select = newest_at - (selected[0] if selected else start)
    wait_until(app, lambda: not model.is_loading)
    indexed = time.perf_counter() - start
    rows = model.rowCount()

    meter.start()
    bar = view.verticalScrollBar()
    scroll_start = time.perf_counter()
    steps = 60
    for k in range(steps, -1, -1):  # drag the scroll bar from the bottom to the top
        bar.setValue(bar.maximum() * k // steps)
        for _ in range(5):
            app.processEvents()
            time.sleep(0.002)
    wait_until(app, lambda: model.message(0) is not None)
    scroll_time = time.perf_counter() - scroll_start
    scroll_stall = meter.stop()

    found: list[int] = []
    model.found.connect(lambda _token, row: found.append(row))
    meter.start()
    search_start = time.perf_counter()
    model.find("a phrase no message contains", 0)
    wait_until(app, lambda: bool(found))
    search_time = time.perf_counter() - search_start
    search_stall = meter.stop()

    peak = peak_mb()
    print(f"conversation, {rows:,} messages:")
    print(f"  newest on screen {from_select * 1000:8.0f} ms   (target < 1000 ms; from selecting the user)")
    print(f"  ... from start   {newest * 1000:8.0f} ms   (window built, incl. the metrics view, then the user)")
    print(f"  whole archive indexed {indexed * 1000:5.0f} ms")
    print(f"  scroll to top    {scroll_time * 1000:8.0f} ms, longest stall {scroll_stall * 1000:4.0f} ms"
          f"   (target < 100 ms)")
    print(f"  search all rows  {search_time * 1000:8.0f} ms, longest stall {search_stall * 1000:4.0f} ms"
          f"   (target < 100 ms)")
    print(f"  peak memory      {peak:8.0f} MiB  (target < 1024 MiB)")
    window.close()
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--per-user", type=int, default=100)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "memgui-bench")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    settings = QSettings(str(args.cache / "settings.ini"), QSettings.Format.IniFormat)
    many = args.cache / f"users-{args.users}x{args.per_user}"
    big = args.cache / f"conversation-{args.messages}"
    print("preparing stores (cached between runs)...")
    generate_in_child(many, args.users, args.per_user)
    generate_in_child(big, 1, args.messages)
    meter = StallMeter()
    bench_conversation(app, big, settings, meter)
    bench_users(app, many, settings)


if __name__ == "__main__":
    main()
