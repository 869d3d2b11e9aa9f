"""A fork server for the crash tests: forks a child per command and kills it with SIGKILL mid-work.

    forkserver.py        (commands on stdin, one JSON object per line; one JSON reply per line on stdout)

Starting a fresh interpreter per kill costs a third of a second; forking this process (which imported the
store once and runs no thread) costs a few milliseconds, so hundreds of kills fit in a test. Commands:

* ``{"op": "writes", "root", "ack", "seed", "durable", "delay" | "kill_at"}``: the child writes to the store
  at random and appends one JSON line to the file ``ack`` *after* each call returned (its acknowledgement).
  It is killed ``delay`` seconds after the fork, or by itself at the ``kill_at``-th step of the file layer
  (``fileio.FAULT_HOOK``), so every point of a write can be hit.
* ``{"op": "migrate", "kind": "encrypt" | "rotate", "root", "passphrase", "new", "kill_at"}``: the child runs
  the migration and kills itself at the ``kill_at``-th step of the file layer.

Reply: ``{"status": "killed" | "exited", "code": exit status or signal}``.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from common import open_store

from memgui.store import fileio, keyring
from memgui.store.ops.migrate import encrypt_store, rotate_key

keyring.SCRYPT_N = 1 << 10  # as in tests/conftest.py: cheap key derivation for test stores
USERS = ("alice", "bob", "carol ü", "é" * 70)  # the last one has a hashed folder (id kept in .memgui/user_id)


def kill_at(step: int) -> None:
    """Make the file layer kill this process at its ``step``-th step (open, write, fsync, replace...)."""
    calls = [0]

    def hook(_what: str, _path: Path) -> None:
        calls[0] += 1
        if calls[0] >= step:
            os.kill(os.getpid(), signal.SIGKILL)

    fileio.FAULT_HOOK = hook


def write_forever(cmd: dict[str, Any]) -> None:
    rng = random.Random(cmd["seed"])
    run = f"r{cmd['seed']}"
    store = open_store(cmd["root"], MAX_MESSAGES=5, DURABLE_WRITES=cmd["durable"], LOCK_TIMEOUT=30)
    ack = os.open(cmd["ack"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    ops = ["msg"] * 6 + ["msgs", "fact", "profile", "metrics", "memory", "global", "user", "flush"]
    for i in range(5000):
        op, uid = rng.choice(ops), rng.choice(USERS)
        record: dict[str, Any] = {"op": op, "user": uid, "i": i}
        if op == "msg":
            record["content"] = [f"{run} m{i}"]
            store.add_message(uid, rng.choice(["user", "assistant"]), record["content"][0])
        elif op == "msgs":
            count = 300 if rng.random() < 0.05 else 3  # over 256 at once: the bulk path, straight into the files
            record["content"] = [f"{run} m{i}.{n}" for n in range(count)]
            store.add_messages(uid, [{"role": "user", "content": c} for c in record["content"]])
        elif op == "fact":
            record["fact"] = f"{run} f{i}"
            store.add_user_fact(uid, record["fact"], "crash")
        elif op == "profile":
            store.update_user_profile(uid, {"crash": {run: i}})
        elif op == "metrics":
            store.update_conversation_metrics(uid, {"crash": {run: i}})
        elif op == "memory":
            record["memory"] = f"{run} n{i}"
            store.store_permanent_memory(uid, record["memory"], "crash")
        elif op == "global":
            record["key"] = f"{run}-{i % 3}"
            store.set_global_context(record["key"], i)
        elif op == "user":
            record["user"] = f"new {run}-{i}"
            store.create_user(record["user"])
        else:
            store.flush()
        os.write(ack, (json.dumps(record) + "\n").encode())


def migrate(cmd: dict[str, Any]) -> None:
    kill_at(cmd["kill_at"])
    if cmd["kind"] == "encrypt":
        encrypt_store(cmd["root"], cmd["passphrase"], durable=False)
    else:
        rotate_key(cmd["root"], cmd["passphrase"], cmd["new"], durable=False)


def child(cmd: dict[str, Any]) -> None:
    """Runs in the forked process; never returns."""
    code = 0
    try:
        if cmd["op"] == "writes":
            if "kill_at" in cmd:
                kill_at(cmd["kill_at"])
            write_forever(cmd)
        else:
            migrate(cmd)
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    for line in sys.stdin:
        cmd = json.loads(line)
        pid = os.fork()
        if pid == 0:
            child(cmd)
        if "delay" in cmd:
            time.sleep(cmd["delay"])
            with contextlib.suppress(ProcessLookupError):  # it may have finished first
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            reply = {"status": "killed", "code": os.WTERMSIG(status)}
        else:
            reply = {"status": "exited", "code": os.WEXITSTATUS(status)}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    serve()
