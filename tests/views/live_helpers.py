"""Helpers of the live refresh tests: a writer in a separate process (tests/models/workers/store_writer.py,
driven by JSON lines) and a seeded store for the window to follow."""

from __future__ import annotations

import itertools
import json
import math
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

from memgui.store import JsonMemoryStore, build_config

WORKER = Path(__file__).resolve().parents[1] / "models" / "workers" / "store_writer.py"
WAIT_MS = 10_000


class Writer:
    """Another process writing the store; ``call`` returns its reply (``t``: wall time right after the store
    call returned). This process's event loop does not run during ``call``."""

    def __init__(self, data_dir: Path, *options: str) -> None:
        self.proc = subprocess.Popen([sys.executable, str(WORKER), str(data_dir), *options],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert json.loads(self._read()) == {"ready": True}

    def _read(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"writer exited with {self.proc.wait()}"
        return line

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        self.send(op, **args)
        return self.receive()

    def send(self, op: str, **args: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()

    def has_reply(self) -> bool:
        assert self.proc.stdout is not None
        return bool(select.select([self.proc.stdout], [], [], 0)[0])

    def receive(self) -> dict[str, Any]:
        reply: dict[str, Any] = json.loads(self._read())
        assert "error" not in reply, reply["error"]
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            self.call("quit")
            self.proc.wait(timeout=30)


def open_store(data_dir: Path) -> JsonMemoryStore:
    return JsonMemoryStore(build_config({"DATA_DIR": data_dir, "DEFAULT_TIMEZONE": "UTC", "DURABLE_WRITES": False},
                                        environ={}))


def seed(data_dir: Path) -> JsonMemoryStore:
    """alice (400 messages, two facts, a memory, a profile), bob and carol (a few messages), global context."""
    store = open_store(data_dir)
    store.add_messages("alice", [{"role": "user" if i % 2 else "assistant", "content": f"old {i}"}
                                 for i in range(400)])
    store.update_user_profile("alice", {"name": "Alice", "city": "Lyon"})
    store.add_user_fact("alice", "likes tea", "general")
    store.add_user_fact("alice", "has a cat", "pets")
    store.store_permanent_memory("alice", "met on a Tuesday", "milestones")
    for user in ("bob", "carol"):
        store.add_messages(user, [{"role": "user", "content": f"{user} {i}"} for i in range(5)])
    store.set_global_context("motd", "hello")
    store.set_global_context("sentinel", 0)
    store.flush()
    return store


def handful(times: list[float]) -> int:
    """The reloads a burst of writes at ``times`` may cost (as in the watcher tests): the first, one per
    150 ms (the longest a stream is held back), one per pause longer than the quiet time (a loaded machine
    spaces the writes out), and one for the journal written into the files afterwards."""
    pauses = sum(b - a > 0.025 for a, b in itertools.pairwise(times))
    return 3 + math.ceil((times[-1] - times[0]) / 0.15) + pauses
