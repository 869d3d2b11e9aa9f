"""A store writer in a separate process, driven by JSON lines (tests/models/workers/store_writer.py): the
watcher and live-refresh tests use it to change a store from outside the test's process."""

from __future__ import annotations

import json
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

WORKER = Path(__file__).resolve().parents[1] / "models" / "workers" / "store_writer.py"


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
        """Run a command and wait for its reply (this process's event loop does not run meanwhile)."""
        self.send(op, **args)
        return self.receive()

    def send(self, op: str, **args: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()

    def has_reply(self) -> bool:
        assert self.proc.stdout is not None
        poller = select.poll()  # not select(): a long test session may hold descriptors above 1024
        poller.register(self.proc.stdout, select.POLLIN)
        return bool(poller.poll(0))

    def receive(self) -> dict[str, Any]:
        reply: dict[str, Any] = json.loads(self._read())
        assert "error" not in reply, reply["error"]
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            self.call("quit")
            self.proc.wait(timeout=30)
