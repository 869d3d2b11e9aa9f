"""``erase_user`` and ``rename_user`` report every refusal of the operating system (an EIO from removing
or renaming a folder) as a ``StoreIOError`` naming the path, and a failed call loses nothing: the user is
whole where they were, and the same call works once the disk does."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from workers.common import open_store

from memgui.store import JsonMemoryStore, StoreIOError, fileio


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JsonMemoryStore]:
    s = open_store(tmp_path / "data")
    s.add_message("alice", "user", "hello")
    s.add_user_fact("alice", "Likes tea", "preferences")
    s.add_message("alice", "assistant", "hi Alice")
    yield s
    fileio.FAULT_HOOK = None
    s.close()


def answers(s: JsonMemoryStore, uid: str) -> tuple[Any, ...]:
    return ([m["content"] for m in s.get_message_history(uid, include_archived=True)],
            s.get_user_facts(uid), s.get_user_profile(uid))


def fail_step(step: str, where: str) -> None:
    def hook(name: str, path: Path) -> None:
        if name == step and path.name == where:
            raise OSError(errno.EIO, "Input/output error", str(path))
    fileio.FAULT_HOOK = hook


def test_erase_refused_by_the_disk_raises_store_io_error(store: JsonMemoryStore) -> None:
    before = answers(store, "alice")
    fail_step("rmtree", "alice")
    with pytest.raises(StoreIOError) as caught:
        store.erase_user("alice")
    assert caught.value.errno == errno.EIO
    assert caught.value.path.name == "alice"
    assert answers(store, "alice") == before
    fileio.FAULT_HOOK = None
    report = store.erase_user("alice")
    assert report.removed and report.leftovers == []
    assert not store.user_exists("alice")


def test_erase_failing_midway_names_the_file_and_finishes_on_retry(store: JsonMemoryStore,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    real_unlink = os.unlink  # what shutil.rmtree calls for each file
    calls = {"n": 0}

    def flaky_unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.EIO, "Input/output error", str(path))
        real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", flaky_unlink)
    with pytest.raises(StoreIOError) as caught:
        store.erase_user("alice")
    assert "alice" in str(caught.value)
    monkeypatch.undo()
    report = store.erase_user("alice")
    assert report.leftovers == []
    assert not store.user_exists("alice")


def test_rename_refused_by_the_disk_keeps_the_user_where_it_was(store: JsonMemoryStore) -> None:
    before = answers(store, "alice")
    fail_step("replace", "alicia")
    with pytest.raises(StoreIOError) as caught:
        store.rename_user("alice", "alicia")
    assert caught.value.errno == errno.EIO
    assert caught.value.path.name == "alicia"
    assert answers(store, "alice") == before
    assert not store.user_exists("alicia")
    fileio.FAULT_HOOK = None
    store.rename_user("alice", "alicia")
    assert answers(store, "alicia") == before
    assert not store.user_exists("alice")
