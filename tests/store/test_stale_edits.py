"""An edit based on a read older than what is on disk raises ConflictError instead of overwriting it.

The other writer is a separate process (``workers/edit.py``); the stale reader is this process, which read
before that process wrote. Facts are identified by (category, text); memories, global context and profile
fields take the value read as ``expected=`` (compare-and-set).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from workers.common import finish, open_store, spawn

from memgui.store import ABSENT, ConflictError, JsonMemoryStore


def elsewhere(root: Path, call: str, *args: Any) -> Any:
    """``call`` made by another process."""
    return json.loads(finish(spawn("edit.py", str(root), call, json.dumps(args)), timeout=60))


@pytest.fixture
def stale(data_dir: Path) -> JsonMemoryStore:
    store = open_store(data_dir)
    store.add_user_fact("alice", "tea", "likes")
    store.store_permanent_memory("alice", "first met in May", "misc")
    store.set_global_context("motd", "hello")
    store.set_profile_field("alice", "mood", "calm")
    return store


def test_a_fact_another_process_changed_cannot_be_edited_or_removed(stale: JsonMemoryStore, data_dir: Path) -> None:
    assert [r["text"] for r in stale.get_fact_records("alice")] == ["tea"]  # what the window shows
    elsewhere(data_dir, "update_user_fact", "alice", "likes", "tea", "green tea")
    with pytest.raises(ConflictError):
        stale.update_user_fact("alice", "likes", "tea", "coffee")
    with pytest.raises(ConflictError):
        stale.remove_user_fact("alice", "likes", "tea")
    assert open_store(data_dir).get_user_facts("alice") == {"likes": ["green tea"]}


def test_a_fact_another_process_removed_cannot_be_edited(stale: JsonMemoryStore, data_dir: Path) -> None:
    stale.get_fact_records("alice")
    elsewhere(data_dir, "remove_user_fact", "alice", "likes", "tea")
    with pytest.raises(ConflictError):
        stale.update_user_fact("alice", "likes", "tea", "coffee")
    assert open_store(data_dir).get_user_facts("alice") == {}


def test_an_unchanged_fact_is_edited(stale: JsonMemoryStore, data_dir: Path) -> None:
    stale.get_fact_records("alice")
    elsewhere(data_dir, "add_user_fact", "alice", "scones", "likes")  # another fact: no conflict
    stale.update_user_fact("alice", "likes", "tea", "coffee")
    assert open_store(data_dir).get_user_facts("alice") == {"likes": ["coffee", "scones"]}


def test_a_memory_changed_or_removed_elsewhere_is_not_overwritten(stale: JsonMemoryStore, data_dir: Path) -> None:
    read = stale.get_permanent_memories("alice", "misc")[0]
    elsewhere(data_dir, "update_permanent_memory", "alice", 0, "misc", {"content": "first met in June"})
    with pytest.raises(ConflictError):
        stale.update_permanent_memory("alice", 0, "misc", {"content": "mine"}, expected=read)
    with pytest.raises(ConflictError):
        stale.delete_permanent_memory("alice", 0, "misc", expected=read)
    fresh = stale.get_permanent_memories("alice", "misc")[0]
    assert fresh["content"] == "first met in June"
    elsewhere(data_dir, "delete_permanent_memory", "alice", 0, "misc")
    with pytest.raises(ConflictError):
        stale.update_permanent_memory("alice", 0, "misc", {"content": "mine"}, expected=fresh)
    assert open_store(data_dir).get_permanent_memories("alice") == {}


def test_an_unchanged_memory_is_updated(stale: JsonMemoryStore, data_dir: Path) -> None:
    read = stale.get_permanent_memories("alice", "misc")[0]
    assert stale.update_permanent_memory("alice", 0, "misc", {"content": "mine"}, expected=read)
    assert open_store(data_dir).get_permanent_memories("alice", "misc")[0]["content"] == "mine"


def test_global_context_changed_or_created_elsewhere_is_not_overwritten(stale: JsonMemoryStore,
                                                                        data_dir: Path) -> None:
    read = stale.get_global_context("motd")
    elsewhere(data_dir, "set_global_context", "motd", "changed elsewhere")
    with pytest.raises(ConflictError):
        stale.set_global_context("motd", "mine", expected=read)
    with pytest.raises(ConflictError):
        stale.delete_global_context("motd", expected=read)
    elsewhere(data_dir, "set_global_context", "new", 1)
    with pytest.raises(ConflictError):
        stale.set_global_context("new", 2, expected=ABSENT)  # the window thought it did not exist
    fresh = open_store(data_dir)
    assert (fresh.get_global_context("motd"), fresh.get_global_context("new")) == ("changed elsewhere", 1)
    assert stale.set_global_context("motd", "mine", expected="changed elsewhere")
    assert open_store(data_dir).get_global_context("motd") == "mine"


def test_profile_field_changed_or_removed_elsewhere_is_not_overwritten(stale: JsonMemoryStore,
                                                                       data_dir: Path) -> None:
    read = stale.get_user_profile("alice")["mood"]
    elsewhere(data_dir, "set_profile_field", "alice", "mood", "cheerful")
    with pytest.raises(ConflictError):
        stale.set_profile_field("alice", "mood", "grumpy", expected=read)
    with pytest.raises(ConflictError):
        stale.delete_profile_field("alice", "mood", expected=read)
    elsewhere(data_dir, "delete_profile_field", "alice", "mood")
    with pytest.raises(ConflictError):
        stale.set_profile_field("alice", "mood", "grumpy", expected="cheerful")
    assert "mood" not in open_store(data_dir).get_user_profile("alice")
    stale.set_profile_field("alice", "mood", "grumpy", expected=ABSENT)
    assert open_store(data_dir).get_user_profile("alice")["mood"] == "grumpy"
