"""Many processes writing one store at once: nothing lost, each writer's order kept, counts exact, readers
never see a torn file, one user created once, and a writer kept waiting gets LockTimeoutError.

Real processes (``workers/*.py`` started with subprocess), not threads. The default run uses 8 writers; the
soak variants (``-m soak``) use more writers and more writes.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from workers.common import KINDS, archive_path, finish, json_lines, open_store, spawn, user_for

from memgui.store import LockTimeoutError, MemoryStoreError
from memgui.store.backends.json.layout import Layout
from memgui.store.ids import folder_for


def run_writers(root: Path, tmp_path: Path, writers: int, per_kind: int, mode: str, readers: int,
                durable: bool = False) -> list[dict[str, Any]]:
    """Start ``readers`` readers and ``writers`` writers together; wait for all; the readers' reports."""
    go, stop = tmp_path / "go", tmp_path / "stop"
    open_store(root).initialize()
    polling = [spawn("reader.py", str(root), str(stop)) for _ in range(readers)]
    procs = [spawn("writer.py", str(root), str(n), str(per_kind), mode, str(go), "durable" if durable else "fast")
             for n in range(writers)]
    go.touch()
    for proc in procs:
        finish(proc, timeout=3000)
    stop.touch()
    return [line for proc in polling for line in json_lines(finish(proc, timeout=60))]


def expected_writes(writers: int, per_kind: int, mode: str) -> dict[tuple[str, str], dict[str, list[int]]]:
    """{(user, kind): {writer tag: [i, ...] in the order written}}, from the writers' own plan."""
    plan: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for writer in range(writers):
        for step in range(per_kind * len(KINDS)):
            kind, i = KINDS[step % len(KINDS)], step // len(KINDS)
            uid = "" if kind == "global" else user_for(mode, writer, step)
            plan[(uid, kind)][f"w{writer}"].append(i)
    return plan


def check_store(root: Path, writers: int, per_kind: int, mode: str) -> None:
    store = open_store(root)
    plan = expected_writes(writers, per_kind, mode)
    users = sorted({uid for uid, _ in plan if uid})
    assert store.get_all_users() == users
    for uid in users:
        history = store.get_message_history(uid, include_archived=True)
        by_writer: dict[str, list[int]] = defaultdict(list)
        for message in history:
            tag, number = message["content"].split()
            by_writer[tag].append(int(number[1:]))
        assert dict(by_writer) == plan[(uid, "message")], f"messages of {uid} lost, repeated or reordered"
        metrics = store.get_conversation_metrics(uid)
        assert metrics["message_count"] == len(history)
        assert metrics["total_words"] == 2 * len(history)
        assert metrics["writers"] == {tag: seq[-1] for tag, seq in plan[(uid, "metrics")].items()}
        assert store.get_user_profile(uid)["writers"] == {tag: seq[-1] for tag, seq in plan[(uid, "profile")].items()}
        facts = store.get_user_facts(uid)
        assert facts == {tag: [f"{tag} f{i}" for i in seq] for tag, seq in plan[(uid, "fact")].items()}
        memories = store.get_permanent_memories(uid)
        assert {tag: [m["content"] for m in items] for tag, items in memories.items()} == {
            tag: [f"{tag} n{i}" for i in seq] for tag, seq in plan[(uid, "memory")].items()}
    assert store.get_all_global_context().keys() == plan[("", "global")].keys()
    for tag, seq in plan[("", "global")].items():
        assert store.get_global_context(tag) == seq[-1]
    store.close()
    # The v1 files alone (what the older implementation reads) hold every message once: archive + history.
    for uid in users:
        folder = root / folder_for(uid)
        kept = json.loads((folder / "conversation_history.json").read_bytes())["messages"]
        archive = archive_path(root, folder.name)
        archived = [json.loads(line) for line in archive.read_bytes().splitlines()] if archive.exists() else []
        ids = [m["id"] for m in archived + kept]
        assert len(ids) == len(set(ids)) == sum(len(s) for s in plan[(uid, "message")].values())
        assert len(kept) == min(50, len(ids))
        metrics = json.loads((folder / "interaction_metrics.json").read_bytes())
        assert metrics["message_count"] == len(ids)


def check_readers(reports: list[dict[str, Any]], readers: int) -> None:
    problems = [r for r in reports if "problem" in r]
    assert problems == []
    rounds = [r["rounds"] for r in reports if "rounds" in r]
    assert len(rounds) == readers and all(n >= 2 for n in rounds)


@pytest.mark.parametrize("mode", ["one", "many"])
def test_eight_writers_lose_nothing_and_readers_see_no_torn_file(tmp_path: Path, mode: str) -> None:
    root = tmp_path / "data"
    per_kind = 34  # 204 writes per process, every kind; 200 of each kind in the soak variant
    reports = run_writers(root, tmp_path, writers=8, per_kind=per_kind, mode=mode, readers=2)
    check_readers(reports, 2)
    check_store(root, 8, per_kind, mode)


def test_durable_writers_lose_nothing(tmp_path: Path) -> None:
    root = tmp_path / "data"
    reports = run_writers(root, tmp_path, writers=8, per_kind=5, mode="many", readers=1, durable=True)
    check_readers(reports, 1)
    check_store(root, 8, 5, "many")


@pytest.mark.soak
@pytest.mark.timeout(3600)
@pytest.mark.parametrize(("writers", "mode"), [(8, "one"), (16, "many")])
def test_writers_200_of_every_kind_soak(tmp_path: Path, writers: int, mode: str) -> None:
    root = tmp_path / "data"
    reports = run_writers(root, tmp_path, writers=writers, per_kind=200, mode=mode, readers=3)
    check_readers(reports, 3)
    check_store(root, writers, 200, mode)


@pytest.mark.parametrize("user", ["same", "sämé user@example.com"])
def test_same_user_created_from_eight_processes_is_one_user(tmp_path: Path, user: str) -> None:
    root, go = tmp_path / "data", tmp_path / "go"
    procs = [spawn("creator.py", str(root), user, str(go), str(n)) for n in range(8)]
    go.touch()
    results = [json.loads(finish(p, timeout=60)) for p in procs]
    winners = [r["index"] for r in results if r["created"]]
    assert len(winners) == 1
    assert {r["creator"] for r in results} == {winners[0]}  # everyone reads the winner's profile
    store = open_store(root)
    assert store.get_all_users() == [user]
    assert json.loads((root / "users_index.json").read_bytes()) == {"users": [folder_for(user)]}


def hold(lock: Path) -> subprocess.Popen[str]:
    holder = spawn("lock_holder.py", str(lock), stdin=subprocess.PIPE)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


def release(holder: subprocess.Popen[str]) -> None:
    holder.communicate(input="", timeout=30)  # end of its standard input: it lets go and exits
    assert holder.returncode == 0


@pytest.mark.parametrize("what", ["message", "fact", "global"])
def test_writer_kept_waiting_gets_lock_timeout_not_a_hang(data_dir: Path, what: str) -> None:
    store = open_store(data_dir, LOCK_TIMEOUT=0.3)
    store.add_message("alice", "user", "before")
    layout = Layout(data_dir)
    lock = layout.global_lock if what == "global" else layout.user_lock(folder_for("alice"))
    holder = hold(lock)
    try:
        write = {
            "message": lambda: store.add_message("alice", "user", "blocked"),
            "fact": lambda: store.add_user_fact("alice", "blocked", "misc"),
            "global": lambda: store.set_global_context("k", "blocked"),
        }[what]
        started = time.monotonic()
        with pytest.raises(LockTimeoutError) as caught:
            write()
        waited = time.monotonic() - started
        assert isinstance(caught.value, MemoryStoreError)
        assert 0.25 <= waited < 5
        assert "another process" in str(caught.value)
    finally:
        release(holder)
    assert [m["content"] for m in store.get_message_history("alice")] == ["before"]
    assert store.get_user_facts("alice") == {}
    assert store.get_global_context("k") is None
    write()  # the lock is free again: the same write now works
    store.flush()
