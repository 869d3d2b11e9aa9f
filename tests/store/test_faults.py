"""Every step of a write failing in turn (``fileio.FAULT_HOOK``: open, write, fsync, replace, folder fsync,
the journal's append...) with EIO and with ENOSPC.

For each failing step: the call raises ``StoreIOError`` and then its write is absent, now and after the
next writes (no half-done write is finished later); the files it targets are byte-identical and the store
reads exactly as before; the next call works. A failure after a write's commit point may instead be
absorbed: the call then returns and the write is there. Either way: raised <=> absent.
"""

from __future__ import annotations

import errno
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from workers.common import files_of, open_store

from memgui.store import JsonMemoryStore, StoreIOError, fileio
from memgui.store.backends.json import materializer
from memgui.store.documents import GLOBAL_FILE, INDEX_FILE

Op = Callable[[JsonMemoryStore, str], Any]
Present = Callable[[JsonMemoryStore, str], bool]


def history_of(store: JsonMemoryStore, uid: str = "alice") -> list[str]:
    return [m["content"] for m in store.get_message_history(uid, include_archived=True)]


def memories_of(store: JsonMemoryStore) -> list[str]:
    return [m["content"] for m in store.get_permanent_memories("alice", "misc")]


def logical(store: JsonMemoryStore) -> dict[str, Any]:
    """Everything the store answers, to compare before and after a failed call."""
    users = store.get_all_users()
    return {
        "users": users,
        "global": store.get_all_global_context(),
        **{uid: (store.get_user_profile(uid), store.get_message_history(uid, include_archived=True),
                 store.get_fact_records(uid), store.get_conversation_metrics(uid),
                 store.get_permanent_memories(uid)) for uid in users},
    }


# name -> (template, the write, is it there?, files it must leave byte-identical when it fails)
OPS: dict[str, tuple[str, Op, Present, tuple[str, ...]]] = {
    "add_message": ("plain", lambda s, t: s.add_message("alice", "user", f"msg {t}"),
                    lambda s, t: f"msg {t}" in history_of(s), ("alice/.memgui/journal",)),
    "add_message_materializing": ("pending", lambda s, t: s.add_message("alice", "user", f"msg {t}"),
                                  lambda s, t: f"msg {t}" in history_of(s), ()),
    "add_messages_bulk": ("plain", lambda s, t: s.add_messages("alice", [{"content": f"bulk {t} {i}"}
                                                                         for i in range(300)]),
                          lambda s, t: f"bulk {t} 0" in history_of(s), ()),
    "add_user_fact": ("plain", lambda s, t: s.add_user_fact("alice", f"fact {t}", "misc"),
                      lambda s, t: f"fact {t}" in s.get_user_facts("alice", "misc"),
                      ("alice/user_facts.json", "alice/fact_versions.jsonl")),
    "update_user_profile": ("plain", lambda s, t: s.update_user_profile("alice", {"k": {t: 1}}),
                            lambda s, t: t in s.get_user_profile("alice").get("k", {}), ("alice/user_profile.json",)),
    "set_profile_field": ("pending", lambda s, t: s.set_profile_field("alice", f"field {t}", t),
                          lambda s, t: s.get_user_profile("alice").get(f"field {t}") == t,
                          ("alice/user_profile.json",)),
    "update_conversation_metrics": ("pending", lambda s, t: s.update_conversation_metrics("alice", {"k": {t: 1}}),
                                    lambda s, t: t in s.get_conversation_metrics("alice").get("k", {}), ()),
    "store_permanent_memory": ("plain", lambda s, t: s.store_permanent_memory("alice", f"mem {t}", "misc"),
                               lambda s, t: f"mem {t}" in memories_of(s),
                               ("alice/permanent_memories.json",)),
    "set_global_context": ("plain", lambda s, t: s.set_global_context(f"key {t}", t),
                           lambda s, t: s.get_global_context(f"key {t}") == t, (GLOBAL_FILE,)),
    "create_user": ("plain", lambda s, t: s.create_user(f"new-{t}"),
                    lambda s, t: s.user_exists(f"new-{t}"), (INDEX_FILE,)),
}


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small stores to copy for each failing step: ``plain`` (everything in the v1 files) and ``pending``
    (255 messages only in the journal, so the next one materializes)."""
    base = tmp_path_factory.mktemp("templates")
    made = {}
    saved = materializer.DELAY
    materializer.DELAY = 3600.0  # keep the background materializer from writing the journaled messages
    try:
        for name, pending in (("plain", 0), ("pending", 255)):
            root = base / name
            store = open_store(root, MAX_MESSAGES=5)
            store.add_messages("alice", [{"content": f"old {i}"} for i in range(8)])
            store.add_user_fact("alice", "old fact", "misc")
            store.store_permanent_memory("alice", "old memory", "misc")
            store.set_global_context("old", 1)
            store.add_message("bob", "user", "other user")
            store.flush()
            for i in range(pending):
                store.add_message("alice", "user", f"pending {i}")
            made[name] = root
    finally:
        materializer.DELAY = saved
    return made


def steps_of(op: Op, root: Path) -> list[tuple[str, str]]:
    """The file-layer steps ``op`` takes on a copy of ``root``, in the calling thread (a store's background
    materializer, this one's or an earlier test's, is not the call under test)."""
    seen: list[tuple[str, str]] = []
    caller = threading.current_thread()

    def record(step: str, path: Path) -> None:
        if threading.current_thread() is caller:
            seen.append((step, path.name))

    store = open_store(root, MAX_MESSAGES=5)
    fileio.FAULT_HOOK = record
    try:
        op(store, "probe")
    finally:
        fileio.FAULT_HOOK = None
        store.close()
    return seen


def fail_at(index: int, code: int) -> Callable[[str, Path], None]:
    """Fail the ``index``-th step taken by the calling thread (as ``steps_of`` counts them)."""
    calls = [0]
    caller = threading.current_thread()

    def hook(step: str, path: Path) -> None:
        if threading.current_thread() is not caller:
            return
        calls[0] += 1
        if calls[0] == index + 1:
            raise OSError(code, f"injected {errno.errorcode[code]} at {step}", str(path))

    return hook


def test_fault_steps_cover_every_kind_of_step(templates: dict[str, Path], tmp_path: Path) -> None:
    names = set()
    for template, op, _, _ in OPS.values():
        root = tmp_path / f"probe-{template}-{len(names)}-{id(op)}"
        shutil.copytree(templates[template], root)
        names |= {step for step, _ in steps_of(op, root)}
    assert {"open", "write", "fsync", "replace", "dirfsync"} <= names


@pytest.mark.parametrize("code", [errno.EIO, errno.ENOSPC], ids=["EIO", "ENOSPC"])
@pytest.mark.parametrize("name", list(OPS))
def test_each_failing_step_raises_and_leaves_the_old_files(templates: dict[str, Path], tmp_path: Path,
                                                           name: str, code: int) -> None:
    template, op, present, targets = OPS[name]
    probe = tmp_path / "probe"
    shutil.copytree(templates[template], probe)
    steps = steps_of(op, probe)
    assert steps, f"{name} takes no step of the file layer"
    raised = 0
    for index, (step, file) in enumerate(steps):
        root = tmp_path / f"run{index}"
        shutil.copytree(templates[template], root)
        store = open_store(root, MAX_MESSAGES=5)
        before_files, before = files_of(root), logical(store)
        fileio.FAULT_HOOK = fail_at(index, code)
        try:
            op(store, "failed")
        except StoreIOError as exc:
            raised += 1
            assert exc.errno == code
            fileio.FAULT_HOOK = None
            after_files = files_of(root)
            for target in targets:
                assert after_files.get(target) == before_files.get(target), f"{step} of {file}: {target} changed"
            assert not [p for p in after_files if fileio.is_temp_name(Path(p).name)], "a temporary file was left"
            for reader in (store, open_store(root, MAX_MESSAGES=5)):
                assert logical(reader) == before, f"{step} of {file}: the store reads differently"
                assert not present(reader, "failed"), f"{step} of {file}: the failed write is there"
        else:
            fileio.FAULT_HOOK = None
            assert present(store, "failed"), f"{step} of {file} failed silently: no error and no write"
        finally:
            fileio.FAULT_HOOK = None
        failed_is_there = present(store, "failed")
        op(store, "next")  # the next call works
        store.flush()
        fresh = open_store(root, MAX_MESSAGES=5)
        assert present(fresh, "next")
        assert present(fresh, "failed") == failed_is_there, "the next writes changed the fate of the failed one"
        store.close()
    assert raised, f"none of the {len(steps)} failing steps raised"
