"""A separate writer process for the watcher tests and benchmark: runs store calls read as JSON lines.

    python store_writer.py DATA_DIR [--fast] [--key PASSPHRASE] [--materialize-delay SECONDS]

Prints ``{"ready": true}``, then answers each command line ``{"op": ..., ...}`` with one JSON line holding
``t``, the wall time right after the call returned (the clock is shared with the parent on one machine).
``--fast`` turns durable writes off; ``--materialize-delay`` stretches the delay after which journaled
messages are written into the v1 files, so that a test sees journal appends alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from memgui.store import JsonMemoryStore, build_config, keyring
from memgui.store.backends.json import materializer

keyring.SCRYPT_N = 1 << 10  # the cheap key derivation of the tests (the cost is stored with the salt)


def run(store: JsonMemoryStore, command: dict[str, Any]) -> dict[str, Any]:
    """Execute one command; the reply's ``t`` is taken right after the store call returned."""
    op = command["op"]
    user = command.get("user", "")
    reply: dict[str, Any] = {}
    if op == "add_message":
        store.add_message(user, command.get("role", "user"), command["content"])
    elif op == "burst":  # count messages spread evenly over `seconds`
        count, seconds = int(command["count"]), float(command["seconds"])
        start = time.time()
        reply["times"] = times = []
        for i in range(count):
            delay = start + seconds * i / count - time.time()  # read once: the clock moves between two reads
            if delay > 0:
                time.sleep(delay)
            store.add_message(user, "user", f"{command.get('prefix', 'burst')} {i}")
            times.append(time.time())
    elif op == "create_user":
        store.create_user(user)
    elif op == "erase_user":
        store.erase_user(user)
    elif op == "rename_user":
        store.rename_user(user, command["new"])
    elif op == "add_messages":  # count messages in one transaction
        prefix = command.get("prefix", "message")
        store.add_messages(user, [{"role": "user", "content": f"{prefix} {i}"} for i in range(command["count"])])
    elif op == "add_fact":
        store.add_user_fact(user, command["text"], command.get("category", "general"))
    elif op == "update_fact":
        store.update_user_fact(user, command["category"], command["text"], command["new"], by="assistant")
    elif op == "set_profile":
        store.set_profile_field(user, command["key"], command["value"])
    elif op == "store_memory":
        store.store_permanent_memory(user, command["content"], command.get("type", "general"))
    elif op == "update_memory":
        store.update_permanent_memory(user, command["index"], command.get("type", "general"),
                                      {"content": command["content"]})
    elif op == "set_global":
        store.set_global_context(command["key"], command["value"])
    elif op == "flush":
        store.flush()
    elif op != "quit":
        raise ValueError(f"unknown op {op!r}")
    reply["t"] = time.time()
    return reply


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir")
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--key")
    parser.add_argument("--materialize-delay", type=float)
    args = parser.parse_args()
    if args.materialize_delay is not None:
        materializer.DELAY = args.materialize_delay
    overrides: dict[str, Any] = {"DATA_DIR": args.data_dir, "DEFAULT_TIMEZONE": "UTC",
                                 "DURABLE_WRITES": not args.fast}
    if args.key:
        overrides.update(ENCRYPTION_ENABLED=True, ENCRYPTION_KEY=args.key)
    store = JsonMemoryStore(build_config(overrides, environ={}))
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        try:
            reply = run(store, command)
        except Exception as exc:  # reported to the parent, which fails the test with the message
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(reply), flush=True)
        if command["op"] == "quit":
            break
    store.close()


if __name__ == "__main__":
    main()
