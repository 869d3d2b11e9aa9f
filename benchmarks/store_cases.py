"""Cases of ``bench_store.py`` beside the store's own: the older implementation's ``store_message`` on the same
disk, the store with no history limit (``MAX_MESSAGES=0``), where the history file grows with every message, and
the floor of a durable ``add_message``: the file operations alone that one must do in the v1 layout.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from memgui.store import JsonMemoryStore, build_config
from memgui.store.fileio import atomic_write

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.older_store import OlderStore  # type: ignore[import-not-found]

TEXT = "Hello Elysia! I was thinking about what you said yesterday, and I would like to talk about it again."
START = datetime(2024, 1, 1, 8, tzinfo=timezone.utc)


def time_older_store_message(folder: Path, size: int, ops: int, limit: int = 100) -> float:
    """``store_message`` calls per second of the older code over a user with ``size`` messages stored (the
    older code dropped what it trimmed: its file holds at most ``limit``; with no limit, all of them)."""
    kept = min(size, limit) if limit else size
    user = folder / "data" / "bench_user"
    user.mkdir(parents=True)
    messages = [{"content": TEXT, "timestamp": (START + timedelta(minutes=5 * i)).isoformat(), "is_user": i % 2 == 0,
                 "metadata": {}, "word_count": len(TEXT.split())} for i in range(size - kept, size)]
    (user / "conversation_history.json").write_text(json.dumps({"messages": messages}, indent=2))
    older = OlderStore(str(folder / "data"), max_messages=limit)
    start = time.perf_counter()
    for i in range(ops):
        older.store_message("bench_user", TEXT, is_user=i % 2 == 0)
    return ops / (time.perf_counter() - start)


def time_unlimited(folder: Path, size: int, ops: int) -> tuple[float, float]:
    """(non-durable add_message per second with MAX_MESSAGES=0 over ``size`` messages in the history, the
    largest number of messages the history file lagged behind the store right after a call)."""
    config = build_config({"DATA_DIR": folder / "data", "DURABLE_WRITES": False, "MAX_MESSAGES": 0,
                           "DEFAULT_TIMEZONE": "UTC"}, environ={})
    store = JsonMemoryStore(config)
    step = 20_000
    for first in range(0, size, step):
        store.add_messages("bench_user", [{"role": "user", "content": TEXT, "metadata": {},
                                           "timestamp": (START + timedelta(minutes=5 * i)).isoformat()}
                                          for i in range(first, min(size, first + step))])
    store.close()
    store = JsonMemoryStore(config)
    elapsed = 0.0
    lag = 0
    history = folder / "data" / "bench_user" / "conversation_history.json"
    for i in range(ops):
        start = time.perf_counter()
        store.add_message("bench_user", "user" if i % 2 == 0 else "assistant", TEXT)
        elapsed += time.perf_counter() - start
        if i % max(1, ops // 10) == 0:  # sampled, untimed: how far behind an older reader would be
            in_file = len(json.loads(history.read_bytes())["messages"])
            lag = max(lag, size + i + 1 - in_file)
    store.close()
    return ops / elapsed, float(lag)


def time_floor(folder: Path, ops: int, between: Callable[[], object] = lambda: None, chunks: int = 10) -> float:
    """The floor of a durable ``add_message`` with ``MAX_MESSAGES=100``: per call, the file operations the store
    does (an strace of one call) on bytes made beforehand, with no rule, no read and no decision: take the user's
    lock; write a journal record into the zeros the journal keeps ahead of its end (64 KiB more of them when it
    reaches the end, as the store does) and ``fdatasync`` it; append the trimmed message to the archive; replace
    ``conversation_history.json`` and ``interaction_metrics.json`` with the store's own ``atomic_write`` (not
    synced, the journal covers them); release the lock. No store that puts every message into those files before
    it returns can be faster. Calls per second; ``between`` as in ``time_add_message``."""
    user = folder / "floor_user"
    (user / ".memgui").mkdir(parents=True)
    line = json.dumps({"content": TEXT, "timestamp": START.isoformat(), "role": "user", "metadata": {}}).encode()
    history = b'{"messages":[' + b",".join([line] * 100) + b"]}"
    metrics = json.dumps({"message_count": 10_000, "total_words": 190_000, "interaction_dates": ["2024-01-01"] * 8,
                          "streak": {"current": 3, "longest": 9}}).encode()
    record = b'{"seq":1,"msg":' + line + b"}\n"
    ahead = bytes(64 * 1024)
    lock = os.open(user / ".memgui" / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    journal = os.open(user / ".memgui" / "journal", os.O_WRONLY | os.O_CREAT, 0o644)
    end = size = 0
    for name, data in (("conversation_history.json", history), ("interaction_metrics.json", metrics)):
        atomic_write(user / name, data, durable=True)
    bounds = [ops * k // chunks for k in range(chunks + 1)]
    elapsed = 0.0
    try:
        for k in range(chunks):
            between()
            start = time.perf_counter()
            for _ in range(bounds[k], bounds[k + 1]):
                fcntl.flock(lock, fcntl.LOCK_EX)
                if end + len(record) > size:
                    os.pwrite(journal, record + ahead, end)
                    size = end + len(record) + len(ahead)
                else:
                    os.pwrite(journal, record, end)
                end += len(record)
                os.fdatasync(journal)
                archive = os.open(user / "conversation_archive.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                os.write(archive, line + b"\n")
                os.close(archive)
                atomic_write(user / "conversation_history.json", history, durable=False)
                atomic_write(user / "interaction_metrics.json", metrics, durable=False)
                fcntl.flock(lock, fcntl.LOCK_UN)
            elapsed += time.perf_counter() - start
        between()
    finally:
        os.close(journal)
        os.close(lock)
    return ops / elapsed
