"""Store-wide search over a big JSON store: index build rate and size, then query latency, beside a reference.

Generates (once per run, in a temporary folder) a store of ``--users`` users with ``--messages`` messages in
all (1,000,000 by default), written through the public API in batches (``add_messages``, durability off, the
archive holding all but the newest 100 of each user). Then:

* builds the search index (``SearchIndex.sync``): seconds, messages per second, index size on disk beside the
  size of the store's files;
* an incremental sync after one user got one new message (what the window does on a live refresh);
* query latency p50/p95 (``--repeat`` runs, first 200 hits, snippets included) for a word, a phrase, a prefix, a
  rare word and a Japanese word, beside the reference: a plain Python scan of the same messages held in memory
  (``needle in text.casefold()``), first 200 hits — the cheapest search there is without an index, and one
  that already had every message loaded (reading them from the files takes far longer).

Then, unless ``--no-window``, the same search in the admin window (offscreen): the index deleted, a query typed
in the search pane builds it on the window's search thread (seconds, the longest event-loop stall meanwhile),
then queries on the built index: time until the first results are in the list and until the search is done,
and the longest stall, beside the target (100 ms).

Figures only: nothing here asserts a time. ``--quick`` makes a small run (50,000 messages).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from memgui.store import JsonMemoryStore, build_config
from memgui.store.search import SearchIndex, fold, parse_query

WORDS = ("the", "and", "about", "what", "you", "said", "yesterday", "would", "like", "talk", "again", "coffee",
         "garden", "music", "travel", "weekend", "family", "project", "dinner", "train", "morning", "book",
         "movie", "weather", "friend", "walk", "city", "market", "recipe", "holiday")
RARE = ("Lisbon", "vegetarian", "Zanzibar", "東京に行きました", "café crème")
QUERIES = (("word", "garden"), ("phrase", '"talk about"'), ("prefix", "vegeta*"), ("rare word", "zanzibar"),
           ("Japanese", "東京"))
START = datetime(2023, 1, 1, 8, tzinfo=timezone.utc)


def _text(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(6, 24))
    if rng.random() < 0.002:
        words.insert(rng.randrange(len(words)), rng.choice(RARE))
    return " ".join(words).capitalize() + "."


def generate(root: Path, users: int, messages: int, seed: int = 1) -> list[str]:
    """The store, and every message text (for the reference scan)."""
    rng = random.Random(seed)
    store = JsonMemoryStore(build_config({"DATA_DIR": root, "DEFAULT_TIMEZONE": "UTC", "DURABLE_WRITES": False},
                                         environ={}))
    texts: list[str] = []
    per_user = messages // users
    try:
        for u in range(users):
            batch = []
            for i in range(per_user):
                text = _text(rng)
                texts.append(text)
                stamp = (START + timedelta(minutes=7 * i + u)).isoformat()
                batch.append({"role": "user" if i % 2 == 0 else "assistant", "content": text, "timestamp": stamp})
            store.add_messages(f"user{u:05d}", batch)
            if u % max(1, users // 10) == 0:
                print(f"  generated {len(texts):,} messages", file=sys.stderr)
    finally:
        store.close()
    return texts


def _folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and "search.sqlite3" not in p.name)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def _scan(texts: list[str], text: str, limit: int = 200) -> int:
    query = parse_query(text)
    found = 0
    for body in reversed(texts):
        if query.matches(body.casefold()):
            found += 1
            if found >= limit:
                break
    return found


def _window(root: Path, tmp: Path) -> None:
    """The search pane of a window on ``root``: the index built from nothing, then queries on it."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    from stall import StallMeter, dispose

    from memgui.__main__ import settle_garbage_collector
    from memgui.app import MainWindow

    for leftover in (root / ".memgui").glob("search.sqlite3*"):
        leftover.unlink()
    app = QApplication.instance() or QApplication([])
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    store = JsonMemoryStore(build_config({"DATA_DIR": root, "DEFAULT_TIMEZONE": "UTC"}, environ={}))
    window = MainWindow(store, settings=settings)
    window.show()
    settle_garbage_collector()  # as memgui's main does after start-up
    _wait(app, window.is_loaded)
    meter = StallMeter()
    print("in the window (target: no event-loop stall over 100 ms)")
    for label, text in (("first search, index built", "zanzibar"), *QUERIES):
        first, done, stall = _timed_search(app, window, meter, text)
        print(f"  {label + ' ' + text:<40} first results {first * 1000:7.0f} ms, done {done * 1000:7.0f} ms, "
              f"{window.search_model.rowCount():>4} hits, longest stall {stall * 1000:5.0f} ms")
    dispose(window)
    store.close()


def _timed_search(app: object, window: Any, meter: Any, text: str) -> tuple[float, float, float]:
    """Seconds until the first results are listed, until the search is done, and the longest stall."""
    ended: list[float] = []

    def on_finished() -> None:
        ended.append(time.perf_counter())

    window.search.finished.connect(on_finished)
    meter.start()
    t0 = time.perf_counter()
    window.search_for(text)
    first = _wait(app, lambda: window.search_model.rowCount() > 0 or bool(ended))
    _wait(app, lambda: bool(ended))
    stall = meter.stop()
    window.search.finished.disconnect(on_finished)
    return first, ended[0] - t0, stall


def _wait(app: object, condition: Callable[[], bool], timeout: float = 1800.0) -> float:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("benchmark step did not finish")
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.001)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-window", action="store_true", help="skip the window's part")
    args = parser.parse_args()
    if args.quick:
        args.users, args.messages, args.repeat = 100, 50_000, 10
    tmp = Path(tempfile.mkdtemp(prefix="bench-search-"))
    try:
        root = tmp / "store"
        started = time.perf_counter()
        texts = generate(root, args.users, args.messages)
        print(f"store: {len(texts):,} messages of {args.users:,} users generated in "
              f"{time.perf_counter() - started:.1f} s, {_folder_bytes(root) / 1e6:.0f} MB of files")
        store = JsonMemoryStore(build_config({"DATA_DIR": root, "DEFAULT_TIMEZONE": "UTC"}, environ={}))
        index = SearchIndex(store)
        report = index.sync()
        print(f"index build: {report.seconds:.1f} s, {report.changed / report.seconds:,.0f} entries/s "
              f"({report.changed:,} entries), index size {index.size() / 1e6:.0f} MB at {index.where()}")
        store.add_message("user00000", "user", "One more message about Zanzibar")
        again = index.sync()
        print(f"incremental sync after one new message: {again.seconds * 1000:.0f} ms "
              f"({again.reindexed} user read again of {again.users:,})")
        nothing = index.sync()
        print(f"sync with nothing changed: {nothing.seconds * 1000:.0f} ms")
        print(f"{'query':<24}{'hits':>6}{'index p50':>12}{'p95':>9}{'scan p50':>12}{'p95':>9}")
        for label, text in QUERIES:
            timings, hits = [], 0
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                hits = sum(len(batch) for batch in index.search(text))
                timings.append((time.perf_counter() - t0) * 1000)
            scans = []
            for _ in range(max(3, args.repeat // 5)):
                t0 = time.perf_counter()
                _scan(texts, text)
                scans.append((time.perf_counter() - t0) * 1000)
            p50, p95 = _percentiles(timings)
            s50, s95 = _percentiles(scans)
            print(f"{label + ' ' + text:<24}{hits:>6}{p50:>10.1f}ms{p95:>7.1f}ms{s50:>10.1f}ms{s95:>7.1f}ms")
        print(f"(fold of every message, the least an unindexed accent-insensitive search does: "
              f"{_time_fold(texts):.0f} ms)")
        index.close()
        store.close()
        if not args.no_window:
            texts.clear()  # the reference's million strings: the window's process does not hold them
            _window(root, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _time_fold(texts: list[str]) -> float:
    t0 = time.perf_counter()
    for body in texts:
        fold(body)
    return (time.perf_counter() - t0) * 1000


if __name__ == "__main__":
    sys.exit(main())
