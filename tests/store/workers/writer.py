"""A writer process for the concurrency tests: writes of every kind, in a known order, to one or many users.

    writer.py ROOT WRITER PER_KIND MODE GO [durable]

MODE ``one``: every write goes to user ``shared``; ``many``: write i goes to user ``user<(WRITER + i) % 8>``.
The process waits for the file GO to exist, so that all writers start together. Write i of a kind carries
the number i; the test checks that every write landed, once, in each writer's order.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from common import KINDS, open_store, user_for, wait_for


def main() -> None:
    root, writer, per_kind, mode, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    durable = len(sys.argv) > 6 and sys.argv[6] == "durable"
    store = open_store(root, DURABLE_WRITES=durable, MAX_MESSAGES=50, LOCK_TIMEOUT=120)
    wait_for(Path(go).exists, 60, "the start signal")
    tag = f"w{writer}"
    for step in range(per_kind * len(KINDS)):
        kind, i = KINDS[step % len(KINDS)], step // len(KINDS)
        uid = user_for(mode, writer, step)
        if kind == "message":
            store.add_message(uid, "user" if i % 2 else "assistant", f"{tag} m{i}")
        elif kind == "fact":
            assert store.add_user_fact(uid, f"{tag} f{i}", tag)
        elif kind == "profile":
            store.update_user_profile(uid, {"writers": {tag: i}})
        elif kind == "metrics":
            store.update_conversation_metrics(uid, {"writers": {tag: i}})
        elif kind == "memory":
            store.store_permanent_memory(uid, f"{tag} n{i}", tag)
        else:
            store.set_global_context(tag, i)
    store.close()
    print(json.dumps({"writer": writer, "writes": per_kind * len(KINDS)}))


if __name__ == "__main__":
    main()
