"""Speed of the admin window, printed beside its targets (a script, not a test).

1. A store of 100,000 users written straight in the v1 layout: the old path (every user read through the
   store) on a sample, then the users list with a cold and a warm summary cache, each started in a process of
   its own: first paint, every column filled, longest event-loop stall while loading, filter, sort, peak memory.
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

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from stall import StallMeter, dispose, peak_mb

from memgui.__main__ import settle_garbage_collector
from memgui.app import MainWindow
from memgui.store import JsonMemoryStore, MemoryStore, build_config
from memgui.store.documents import META_DIR
from memgui.store.read.users_summary import CACHE_NAME


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


def write_users(path: Path, users: int) -> None:
    """Write ``users`` users straight in the v1 layout (profile, metrics, facts, a short history), quickly:
    what the older ``memory_management`` code leaves on disk. Marked complete as ``generate_in_child`` does."""
    marker = path.with_name(path.name + ".complete")
    if marker.exists() and path.is_dir():
        return
    shutil.rmtree(path, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--write-users", str(path), str(users)], check=True)
    marker.touch()
    print(f"  (wrote {users:,} users in {time.perf_counter() - start:.1f} s)")


def _write_users_here(path: Path, users: int) -> None:
    import json
    import random
    from datetime import date, timedelta

    rng = random.Random(0)
    path.mkdir(parents=True)
    today = date.today()
    for n in range(users):
        folder = path / f"user_{n:06d}"
        folder.mkdir()
        days = sorted({(today - timedelta(days=rng.randrange(0, 400))).isoformat()
                       for _ in range(rng.randrange(1, 40))})
        last = f"{days[-1]}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00+00:00"
        docs = {
            "user_profile.json": {"name": f"Person {n}", "created_at": f"{days[0]}T08:00:00+00:00",
                                  "timezone": rng.choice(["UTC", "Europe/Berlin", "America/New_York"])},
            "interaction_metrics.json": {"message_count": rng.randrange(0, 5000), "total_words": 0,
                                         "interaction_dates": days, "user_active_dates": days,
                                         "first_interaction": f"{days[0]}T08:00:00+00:00",
                                         "last_interaction": last, "longest_streak": 0},
            "user_facts.json": {"categories": {"likes": [f"thing {k}" for k in range(rng.randrange(0, 8))]}},
            "conversation_history.json": {"messages": [{"content": "hello", "timestamp": last, "is_user": True}]},
        }
        for name, doc in docs.items():
            (folder / name).write_text(json.dumps(doc), "utf-8")


def load_users(app: QApplication, store: MemoryStore, settings: QSettings, label: str) -> dict[str, float]:
    """Open a window on ``store`` and time the users list: first paint, every column, filter, sort, stalls
    (printed, and returned in seconds)."""
    meter = StallMeter()
    start = time.perf_counter()
    window = MainWindow(store, settings=settings)
    window.show()
    pane = window.users_pane
    wait_until(app, lambda: pane.proxy.rowCount() > 0)
    pane.view.viewport().repaint()
    first_paint = time.perf_counter() - start
    meter.start()  # from the first paint on (building the window is not the users list's)
    bar = window.progress  # its value is the count of rows with every column, of its maximum: all users
    wait_until(app, lambda: window.session.users_done or 0 < bar.maximum() <= bar.value())
    filled = time.perf_counter() - start
    wait_until(app, lambda: window.session.users_done)
    checked = time.perf_counter() - start
    load_stall = meter.stop()
    meter.start()  # then the watcher arms every user's folder and lists DATA_DIR again, on the GUI thread
    watcher = window.live.watcher
    wait_until(app, lambda: getattr(watcher, "settled", True))
    watching = time.perf_counter() - start
    watch_stall = meter.stop()
    total = window.users_model.rowCount()
    reread = window.store_worker.summaries.reread
    filter_start = time.perf_counter()
    pane.filter_edit.setText("person 4242")
    app.processEvents()
    filter_time = time.perf_counter() - filter_start
    shown = pane.shown_count()
    pane.filter_edit.clear()
    app.processEvents()
    sort_start = time.perf_counter()
    pane.view.sortByColumn(3, Qt.SortOrder.DescendingOrder)
    app.processEvents()
    sort_time = time.perf_counter() - sort_start
    print(f"users list, {total:,} users, {label} ({reread:,} read from the store):")
    print(f"  first paint      {first_paint * 1000:8.0f} ms   (target < 500 ms)")
    print(f"  every column     {filled * 1000:8.0f} ms   (target < 2000 ms)")
    print(f"  checked on disk  {checked * 1000:8.0f} ms   (every user's files compared with the cache)")
    print(f"  longest stall    {load_stall * 1000:8.0f} ms   (target < 100 ms, while loading)")
    print(f"  watching         {watching * 1000:8.0f} ms   (every folder watched; longest stall meanwhile "
          f"{watch_stall * 1000:.0f} ms)")
    print(f"  filter           {filter_time * 1000:8.0f} ms   (target < 100 ms; {shown} shown)")
    print(f"  sort by messages {sort_time * 1000:8.0f} ms   (target < 100 ms)")
    print(f"  peak memory      {peak_mb():8.0f} MiB  (target < 1024 MiB, the whole process)")
    dispose(window)
    return {"first paint": first_paint, "every column": filled, "checked": checked, "stall": load_stall,
            "watching": watching, "watch stall": watch_stall,
            "filter": filter_time, "sort": sort_time}


def reference_users(folder: Path, sample: int) -> None:
    """The old path, measured on ``sample`` users: every user's files read through the store in turn."""
    from datetime import datetime, timezone

    from memgui.models.store_worker import summarize

    store = open_store(folder)
    ids = store.get_all_users()
    now = datetime.now(timezone.utc)
    start = time.perf_counter()
    for uid in ids[:sample]:
        summarize(store, uid, now)
    per_user = (time.perf_counter() - start) / max(1, min(sample, len(ids)))
    print(f"reference (the old path: every user read on each start), {min(sample, len(ids)):,} users:")
    print(f"  {per_user * 1e3:.2f} ms per user -> every column of {len(ids):,} users in {per_user * len(ids):.1f} s")
    store.close()


def bench_users(folder: Path, cache: Path, sample: int) -> None:
    """The old path, then the users list started cold and warm, each in a process of its own as a user starts
    memgui: its garbage collector settled as ``main()`` does, its peak memory its own, nothing left over from
    the other case (in one process the warm start followed a cold one holding 600 MiB)."""
    reference_users(folder, sample)
    (folder / META_DIR / CACHE_NAME).unlink(missing_ok=True)
    for label in ("cold cache", "warm cache"):
        subprocess.run([sys.executable, __file__, "--cache", str(cache), "--users-case", str(folder), label],
                       check=True)


def users_case(folder: Path, settings: QSettings, label: str) -> None:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    settle_garbage_collector()  # as memgui's main() does before the window opens
    store = open_store(folder)
    load_users(app, store, settings, label)
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
    dispose(window)
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "memgui-bench")
    parser.add_argument("--reference-sample", type=int, default=3000, help="users read by the old path")
    parser.add_argument("--only", choices=("users", "conversation"), help="run one part")
    parser.add_argument("--write-users", nargs=2, metavar=("PATH", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--users-case", nargs=2, metavar=("PATH", "LABEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_users:
        _write_users_here(Path(args.write_users[0]), int(args.write_users[1]))
        return
    settings = QSettings(str(args.cache / "settings.ini"), QSettings.Format.IniFormat)
    if args.users_case:
        users_case(Path(args.users_case[0]), settings, args.users_case[1])
        return
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    many = args.cache / f"users-v1-{args.users}"
    big = args.cache / f"conversation-{args.messages}"
    print("preparing stores (cached between runs)...")
    if args.only != "conversation":
        write_users(many, args.users)
    if args.only != "users":
        generate_in_child(big, 1, args.messages)
        bench_conversation(app, big, settings, StallMeter())
    if args.only != "conversation":
        bench_users(many, args.cache, args.reference_sample)


if __name__ == "__main__":
    main()
