"""Helpers shared by the robustness tests and the worker scripts they start as separate processes.

Importable both as ``workers.common`` (tests: ``tests/store`` is on ``sys.path``) and as ``common`` (worker
scripts run from this folder).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memgui.store import JsonMemoryStore, build_config, fileio
from memgui.store.documents import GLOBAL_FILE, INDEX_FILE, USER_FILES, USER_LOGS

WORKERS = Path(__file__).resolve().parent
V1_USER_FILES = tuple(USER_FILES.values())
#: The kinds of write of ``writer.py``, in the order each writer cycles through them.
KINDS = ("message", "fact", "profile", "metrics", "memory", "global")


def user_for(mode: str, writer: int, step: int) -> str:
    """The user write ``step`` of ``writer`` goes to: one shared user, or spread over eight."""
    return "shared" if mode == "one" else f"user{(writer + step) % 8}"


def open_store(root: Path | str, **overrides: Any) -> JsonMemoryStore:
    """A JSON store on ``root`` from explicit configuration (UTC, never the caller's environment)."""
    values: dict[str, Any] = {"DATA_DIR": str(root), "DEFAULT_TIMEZONE": "UTC"}
    values.update(overrides)
    return JsonMemoryStore(build_config(values, environ={}))


def files_of(root: Path, *, include_locks: bool = False) -> dict[str, bytes]:
    """Every regular file under ``root`` by relative path (symlinks by their target), for byte comparisons."""
    out: dict[str, bytes] = {}
    for top, dirs, names in os.walk(root):
        dirs.sort()
        for name in names:
            path = Path(top) / name
            rel = path.relative_to(root).as_posix()
            if not include_locks and rel.startswith(".memgui/locks/"):
                continue
            out[rel] = b"link:" + os.fsencode(os.readlink(path)) if path.is_symlink() else path.read_bytes()
    return out


def temp_files(root: Path) -> list[Path]:
    """Temporary files (``.<name>.<hex>.tmp``) anywhere under ``root``."""
    return sorted(Path(top) / n for top, _, names in os.walk(root) for n in names if fileio.is_temp_name(n))


def v1_paths(root: Path) -> list[Path]:
    """The format v1 files of the store (index, global context, each user's five documents) that exist."""
    paths = [root / INDEX_FILE, root / GLOBAL_FILE]
    for entry in os.scandir(root):
        if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
            paths += [Path(entry.path) / name for name in V1_USER_FILES]
    return [p for p in paths if p.exists()]


def archive_path(root: Path, folder: str) -> Path:
    return root / folder / USER_LOGS["archive"]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.005) -> None:
    """Poll ``predicate`` until true; AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def spawn(script: str, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
    """Start ``workers/<script>`` in a new Python process with text pipes."""
    return subprocess.Popen([sys.executable, str(WORKERS / script), *args], text=True,
                            stdin=kwargs.pop("stdin", subprocess.DEVNULL), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kwargs)


def finish(proc: subprocess.Popen[str], timeout: float) -> str:
    """Wait for a worker; its stdout. AssertionError with its stderr if it failed or hung."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"worker hung for {timeout} s: {err[-2000:]}") from None
    if proc.returncode != 0:
        raise AssertionError(f"worker failed ({proc.returncode}): {err[-3000:]}")
    return out


def json_lines(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class ForkServer:
    """The test side of ``forkserver.py``: send a command, get its reply (with a deadline, never a hang)."""

    def __init__(self) -> None:
        self.proc = spawn("forkserver.py", stdin=subprocess.PIPE)

    def request(self, command: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        import select

        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        poller = select.poll()  # not select(): a long test run may hold descriptors numbered over 1024
        poller.register(self.proc.stdout, select.POLLIN)
        if not poller.poll(timeout * 1000):
            self.proc.kill()
            raise AssertionError(f"fork server gave no answer in {timeout} s to {command['op']}")
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"fork server died: {self.proc.stderr.read() if self.proc.stderr else ''}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def close(self) -> str:
        """Stop the server; returns its children's stderr."""
        _, err = self.proc.communicate(input="", timeout=30)
        return err
