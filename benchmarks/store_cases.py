"""Cases of ``bench_store.py`` beside the store's own: the older implementation's ``store_message`` on the same
disk, and the store with no history limit (``MAX_MESSAGES=0``), where the history file grows with every message.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from memgui.store import JsonMemoryStore, build_config

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
