"""``memgui-store verify`` reports every problem of a store and only reads; ``repair`` fixes what it reports.

Each kind of problem is made the way it arises (a file edited by hand, a writer killed mid-write, a folder
copied in by someone, an interrupted migration), then the command line is run as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from workers.common import files_of, open_store

from memgui.store import fileio
from memgui.store.ids import folder_for
from memgui.store.ops.migrate import encrypt_store
from memgui.store.ops.verify import (
    DAMAGED,
    INDEX,
    METRICS,
    MIGRATION,
    ORPHAN,
    TEMP,
    TORN,
    UNFINISHED,
    verify_store,
)

CLI = [sys.executable, "-m", "memgui.store"]


class Killed(BaseException):
    """Stands for SIGKILL inside this process: nothing catches it, nothing after it runs."""


def kill_at(predicate: Callable[[str, Path], bool]) -> Callable[[str, Path], None]:
    def hook(step: str, path: Path) -> None:
        if predicate(step, path):
            raise Killed(f"{step} {path}")

    return hook


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


@pytest.fixture
def healthy(data_dir: Path) -> Path:
    store = open_store(data_dir, MAX_MESSAGES=2)
    for n in range(4):
        store.add_message("alice", "user", f"message {n}")
    store.add_user_fact("alice", "tea", "likes")
    store.add_message("bob", "user", "hi")
    store.set_global_context("v", 1)
    store.close()
    return data_dir


def test_a_healthy_store_and_the_read_only_fixture_verify_clean(healthy: Path, fixture_dir: Path) -> None:
    for root in (healthy, fixture_dir):
        before = files_of(root, include_locks=True)
        result = run("verify", str(root))
        assert result.returncode == 0, result.stdout + result.stderr
        assert "OK" in result.stdout
        assert files_of(root, include_locks=True) == before
    assert not (fixture_dir / ".memgui").exists()


def test_the_console_command_is_installed(healthy: Path) -> None:
    command = Path(sys.executable).with_name("memgui-store")
    assert command.exists()
    result = subprocess.run([str(command), "verify", str(healthy)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "2 user(s), OK" in result.stdout


def make_every_problem(root: Path) -> dict[str, Path]:
    """Damage ``root`` in every way verify knows; where each problem is."""
    where = {}
    where[DAMAGED] = root / "alice" / "user_facts.json"
    where[DAMAGED].write_bytes(b'{"categories": [}')
    where[ORPHAN] = root / "copied in by hand"
    where[ORPHAN].mkdir()
    (root / ("~~" + "0" * 64)).mkdir()  # a hashed folder without the id it belongs to
    index = json.loads((root / "users_index.json").read_bytes())
    (root / "users_index.json").write_text(json.dumps({"users": [*index["users"], "ghost"]}))
    where[INDEX] = root / "users_index.json"
    archive = root / "alice" / "conversation_archive.jsonl"
    with open(archive, "ab") as handle:
        handle.write(b'{"content": "half a li')
    where[TORN] = archive
    metrics = root / "bob" / "interaction_metrics.json"
    doc = json.loads(metrics.read_bytes())
    metrics.write_text(json.dumps({**doc, "message_count": 0}))
    where[METRICS] = metrics
    store = open_store(root)
    fileio.FAULT_HOOK = kill_at(lambda step, path: path.name.startswith(".user_profile.json"))
    try:
        with pytest.raises(Killed):
            store.update_user_profile("bob", {"mood": "ok"})  # killed after its journal line
    finally:
        fileio.FAULT_HOOK = None
    where[UNFINISHED] = root / "bob" / ".memgui" / "journal"
    where[TEMP] = root / "bob" / ".user_profile.json.0123456789ab.tmp"
    where[TEMP].write_bytes(b'{"half": ')  # as a writer killed between writing and renaming leaves it
    return where


def test_verify_reports_every_problem_and_changes_nothing(healthy: Path) -> None:
    where = make_every_problem(healthy)
    before = files_of(healthy, include_locks=True)
    listing = sorted(str(p.relative_to(healthy)) for p in healthy.rglob("*"))
    result = run("verify", str(healthy))
    assert result.returncode == 1
    for code, path in where.items():
        assert any(line.startswith(f"{code}: {path}") for line in result.stdout.splitlines()), (code, result.stdout)
    assert "lists 1 folder(s) that do not exist: 'ghost'" in result.stdout
    assert "hashed user folder without its .memgui/user_id" in result.stdout
    assert files_of(healthy, include_locks=True) == before
    assert sorted(str(p.relative_to(healthy)) for p in healthy.rglob("*")) == listing


def test_repair_fixes_what_verify_reports_and_keeps_the_orphans(healthy: Path) -> None:
    where = make_every_problem(healthy)
    bad = where[DAMAGED].read_bytes()
    result = run("repair", str(healthy))
    assert result.returncode == 1, result.stdout  # the orphan folders are left for a person to look at
    left = [line for line in result.stdout.splitlines() if line.startswith("left: ")]
    assert left and all(ORPHAN in line for line in left)
    assert "restored its backup" in result.stdout and "recounted" in result.stdout
    kept = [p.read_bytes() for p in (healthy / ".memgui" / "quarantine").rglob("*") if p.is_file()]
    assert bad in kept
    shutil.rmtree(where[ORPHAN])
    shutil.rmtree(healthy / ("~~" + "0" * 64))
    assert run("verify", str(healthy)).returncode == 0
    store = open_store(healthy)
    assert store.get_user_facts("alice") == {"likes": ["tea"]}
    assert store.get_user_profile("bob").get("mood") == "ok"  # the killed write was finished, not lost
    assert store.get_conversation_metrics("bob")["message_count"] == 1


def test_repair_of_one_user(healthy: Path) -> None:
    make_every_problem(healthy)
    result = run("repair", str(healthy), "alice")
    assert "user_facts.json" in result.stdout
    report = verify_store(healthy)
    assert not [p for p in report.problems if p.folder == folder_for("alice")]
    assert [p for p in report.problems if p.folder == "bob"]


def test_an_interrupted_migration_is_reported_and_finished_by_running_it_again(healthy: Path) -> None:
    fileio.FAULT_HOOK = kill_at(lambda step, path: step == "replace" and path.name == "user_facts.json")
    try:
        with pytest.raises(Killed):
            encrypt_store(healthy, "passphrase")
    finally:
        fileio.FAULT_HOOK = None
    env = {"ENCRYPTION_KEY": "passphrase"}
    result = run("verify", str(healthy), env=env)
    assert result.returncode == 1 and f"{MIGRATION}: " in result.stdout
    assert "encrypt" in result.stdout
    result = run("encrypt", str(healthy), env=env)
    assert result.returncode == 0, result.stderr
    assert "resumed" in result.stdout
    assert run("verify", str(healthy), env=env).returncode == 0


def test_passphrases_come_from_the_environment_never_the_command_line(healthy: Path) -> None:
    result = subprocess.run([*CLI, "encrypt", str(healthy), "--key", "x"], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    result = subprocess.run([*CLI, "encrypt", str(healthy)], capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL, env={k: v for k, v in os.environ.items()
                                                           if k != "ENCRYPTION_KEY"})
    assert result.returncode == 2 and "ENCRYPTION_KEY" in result.stderr
    assert not (healthy / ".memgui" / "settings.json").exists()
    result = run("rotate-key", str(healthy), env={"ENCRYPTION_KEY": "a", "NEW_ENCRYPTION_KEY": "b"})
    assert result.returncode == 2 and "not encrypted" in result.stderr


def test_a_missing_folder_is_an_error_not_a_problem_report(tmp_path: Path) -> None:
    result = run("verify", str(tmp_path / "nowhere"))
    assert result.returncode == 2 and "is not a folder" in result.stderr
