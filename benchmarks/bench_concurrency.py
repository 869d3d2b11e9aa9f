"""What locking and durability cost, and how the store's throughput holds with 8 writer processes.

Prints, in one run:

* per call, for three kinds of write (a message: one journal line; a fact: a document through the journal;
  the global context: a whole file replaced), the time of the unlocked, non-durable path (the lock's
  acquire and release made no-ops), then with the lock, then with the lock and ``DURABLE_WRITES``;
* one lock acquire + release on its own;
* writes per second of 8 writer processes (``multiprocessing``, spawn) next to 1, with the same total
  number of writes, to one shared user and to a user per process, durable and not.

Every case runs in a fresh temporary folder. Figures only: nothing here asserts a time. ``--quick`` makes a
short run.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from memgui.store import JsonMemoryStore, build_config, fileio

TEXT = "Hello Elysia! I was thinking about what you said yesterday, and I would like to talk about it again."


def make_store(root: Path, durable: bool) -> JsonMemoryStore:
    return JsonMemoryStore(build_config({"DATA_DIR": root, "DEFAULT_TIMEZONE": "UTC", "DURABLE_WRITES": durable,
                                         "LOCK_TIMEOUT": 600}, environ={}))


@contextmanager
def unlocked() -> Iterator[None]:
    """The store's locks turned into no-ops (this process only): the path without locking."""
    saved = fileio.Lock._acquire, fileio.Lock.release
    fileio.Lock._acquire = lambda self, timeout: True  # type: ignore[method-assign]
    fileio.Lock.release = lambda self: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        fileio.Lock._acquire, fileio.Lock.release = saved  # type: ignore[method-assign]


Write = Callable[[JsonMemoryStore, int], Any]
WRITES: dict[str, Write] = {
    "add_message": lambda s, i: s.add_message("alice", "user", f"{TEXT} {i}"),
    "add_user_fact": lambda s, i: s.add_user_fact("alice", f"fact {i % 50} {i}", f"category {i % 5}"),
    "set_global_context": lambda s, i: s.set_global_context(f"key {i % 20}", {"n": i, "text": TEXT}),
}


def per_call(write: Write, count: int, durable: bool, locked: bool) -> float:
    """Median microseconds per call over three runs of ``count`` calls, each in a fresh folder."""
    runs = []
    for _ in range(3):
        with tempfile.TemporaryDirectory(prefix="bench-conc-") as tmp:
            store = make_store(Path(tmp) / "data", durable)
            write(store, -1)  # the user and the files exist: creation is not timed
            with unlocked() if not locked else _nothing():
                start = time.perf_counter()
                for i in range(count):
                    write(store, i)
                store.close()
                runs.append((time.perf_counter() - start) / count * 1e6)
    return statistics.median(runs)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def lock_cost(count: int) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-conc-") as tmp:
        lock = fileio.Lock(Path(tmp) / "locks" / "x.lock", 10, "bench")
        with lock.held():
            pass
        start = time.perf_counter()
        for _ in range(count):
            with lock.held():
                pass
        return (time.perf_counter() - start) / count * 1e6


def _writer(root: str, user: str, count: int, durable: bool, go: Event, ready: Any) -> None:
    store = make_store(Path(root), durable)
    store.add_message(user, "user", "warm up")  # the user exists before the clock starts
    ready.put(os.getpid())
    go.wait()
    for i in range(count):
        store.add_message(user, "user", f"{TEXT} {i}")
    store.close()


def throughput(processes: int, total: int, shared: bool, durable: bool) -> float:
    """Messages per second of ``processes`` writers storing ``total`` messages between them."""
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="bench-conc-") as tmp:
        go, ready = ctx.Event(), ctx.Queue()
        workers = [ctx.Process(target=_writer, args=(tmp, "shared" if shared else f"user{n}", total // processes,
                                                     durable, go, ready)) for n in range(processes)]
        for worker in workers:
            worker.start()
        for _ in workers:
            ready.get(timeout=120)
        start = time.perf_counter()
        go.set()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - start
        if any(w.exitcode for w in workers):
            raise RuntimeError("a writer failed")
    return (total // processes) * processes / elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer writes per case")
    args = parser.parse_args(argv)
    count, total = (100, 800) if args.quick else (400, 4000)
    print(f"memgui.store concurrency benchmark - Python {platform.python_version()}, {platform.system()}, "
          f"{os.cpu_count()} processor(s)")
    print(f"\nPer call (microseconds, median of 3 x {count} calls):")
    print(f"  {'write':<20} {'unlocked, not durable':>22} {'locked, not durable':>20} {'locked, durable':>16}")
    for name, write in WRITES.items():
        fast = per_call(write, count, durable=False, locked=False)
        locked = per_call(write, count, durable=False, locked=True)
        durable = per_call(write, count, durable=True, locked=True)
        print(f"  {name:<20} {fast:>22.0f} {locked:>20.0f} {durable:>16.0f}   "
              f"(lock +{locked - fast:.0f}, fsync +{durable - locked:.0f})")
    print(f"  one lock acquire + release alone: {lock_cost(count * 10):.1f} us")
    print(f"\nThroughput of add_message ({total} messages in all; messages per second):")
    print(f"  {'':<28} {'1 process':>10} {'8 processes':>12} {'ratio':>7}")
    for shared in (True, False):
        for durable in (False, True):
            one = throughput(1, total, shared, durable)
            eight = throughput(8, total, shared, durable)
            label = f"{'one shared user' if shared else 'a user per process'}, {'durable' if durable else 'fast'}"
            print(f"  {label:<28} {one:>10.0f} {eight:>12.0f} {eight / one:>7.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
