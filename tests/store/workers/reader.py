"""A reader process for the concurrency tests: polls a store while writers run, until STOP exists.

    reader.py ROOT STOP

Each round reads every user through the store (history with the archive, facts, profile, metrics,
memories, global context) and parses the raw v1 files with plain ``json``. It prints one JSON line per
problem seen (a file that does not parse, a message seen twice, a writer's messages out of order, a count
going backwards) and a last line with the number of rounds.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from common import open_store, v1_paths

from memgui.store import MemoryStoreError

SHAPES = {"users_index.json": dict, "global_context.json": dict, "conversation_history.json": dict,
          "user_facts.json": dict, "interaction_metrics.json": dict, "permanent_memories.json": dict,
          "user_profile.json": dict}
TAG = re.compile(r"w(\d+) m(\d+)$")


def report(kind: str, **details: Any) -> None:
    print(json.dumps({"problem": kind, **details}), flush=True)


def check_raw(root: Path) -> None:
    for path in v1_paths(root):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue  # replaced between listing and opening: the new one is read next round
        try:
            value = json.loads(data)
        except ValueError as exc:
            report("torn-file", path=str(path), error=str(exc), size=len(data))
            continue
        if not isinstance(value, SHAPES[path.name]):
            report("bad-shape", path=str(path))
    for archive in root.glob("*/conversation_archive.jsonl"):
        data = archive.read_bytes()
        for line in data[: data.rfind(b"\n") + 1].splitlines():  # a line being appended is not complete yet
            try:
                json.loads(line)
            except ValueError:
                report("torn-archive-line", path=str(archive))


def check_store(root: Path, seen: dict[str, int], last: dict[tuple[str, int], int]) -> None:
    store = open_store(root, LOCK_TIMEOUT=120)
    for uid in store.get_all_users():
        history = store.get_message_history(uid, include_archived=True)
        ids = [m["id"] for m in history]
        if len(ids) != len(set(ids)):
            report("duplicate-message", user=uid)
        if len(history) < seen.get(uid, 0):
            report("history-shrank", user=uid, before=seen[uid], now=len(history))
        seen[uid] = len(history)
        order: dict[int, int] = {}
        for message in history:
            match = TAG.match(message["content"])
            if match:
                writer, i = int(match.group(1)), int(match.group(2))
                if i <= order.get(writer, -1):
                    report("out-of-order", user=uid, writer=writer, i=i)
                order[writer] = i
        for writer, i in order.items():
            if i < last.get((uid, writer), -1):
                report("message-vanished", user=uid, writer=writer, i=i)
            last[(uid, writer)] = i
        store.get_user_facts(uid)
        store.get_user_profile(uid)
        store.get_conversation_metrics(uid)
        store.get_permanent_memories(uid)
    store.get_all_global_context()


def main() -> None:
    root, stop = Path(sys.argv[1]), Path(sys.argv[2])
    rounds = 0
    seen: dict[str, int] = {}
    last: dict[tuple[str, int], int] = {}
    while not stop.exists() or rounds < 2:
        check_raw(root)
        try:
            check_store(root, seen, last)
        except MemoryStoreError as exc:
            report("store-error", error=f"{type(exc).__name__}: {exc}")
        rounds += 1
        time.sleep(0.005)  # leave the (shared) processors to the writers between rounds
    print(json.dumps({"rounds": rounds}), flush=True)


if __name__ == "__main__":
    main()
