"""The demo folder the older implementation wrote: it opens unchanged, reading it changes nothing on disk, and
what this store writes stays readable by code that knows only format v1 (a tiny reader below, plain json).
Unknown keys survive every write; the old shape is only ever extended."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from contract_helpers import config_for, read_json, read_jsonl, tree_digest

from memgui.store import JsonMemoryStore

DEMO = "demo_user"
NEW_PLAIN = "new_user"
NEW_ENCODED = "Zoë Smith <zoe@example.org>"  # stored under an encoded folder name


# -- a reader that knows only format v1 -------------------------------------------------------------------
class V1Reader:
    """Reads a data folder the way the older implementation did: plain json, exactly the v1 keys, and
    a check of every type it relies on."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _load(self, *parts: str) -> Any:
        return json.loads((self.root.joinpath(*parts)).read_text(encoding="utf-8"))

    def users(self) -> list[str]:
        users = self._load("users_index.json")["users"]
        assert isinstance(users, list) and all(isinstance(u, str) for u in users)
        assert users == sorted(users)
        return users

    def global_context(self) -> dict[str, Any]:
        doc = self._load("global_context.json")
        out = {}
        for key, entry in doc.items():
            datetime.fromisoformat(entry["updated_at"])
            out[key] = entry["value"]
        return out

    def profile(self, folder: str) -> dict[str, Any]:
        doc = self._load(folder, "user_profile.json")
        assert isinstance(doc, dict)
        return doc

    def messages(self, folder: str) -> list[tuple[str, str, bool, dict[str, Any], int]]:
        out = []
        for msg in self._load(folder, "conversation_history.json")["messages"]:
            content, stamp, is_user = msg["content"], msg["timestamp"], msg["is_user"]
            metadata, words = msg["metadata"], msg["word_count"]
            assert isinstance(content, str) and isinstance(is_user, bool) and isinstance(metadata, dict)
            assert isinstance(words, int) and not isinstance(words, bool)
            datetime.fromisoformat(stamp)
            out.append((content, stamp, is_user, metadata, words))
        return out

    def facts(self, folder: str) -> dict[str, list[str]]:
        doc = self._load(folder, "user_facts.json")
        categories = doc["categories"]
        for name, facts in categories.items():
            assert isinstance(name, str) and isinstance(facts, list) and all(isinstance(f, str) for f in facts)
        if "last_updated" in doc:
            datetime.fromisoformat(doc["last_updated"])
        return categories  # type: ignore[no-any-return]

    def metrics(self, folder: str) -> dict[str, Any]:
        doc = self._load(folder, "interaction_metrics.json")
        for key in ("message_count", "total_words", "streak_days", "longest_streak"):
            if key in doc:
                assert isinstance(doc[key], int) and not isinstance(doc[key], bool), key
        for key in ("first_interaction", "last_interaction"):
            if doc.get(key) is not None:
                datetime.fromisoformat(doc[key])
        for day in doc.get("interaction_dates", []):
            date.fromisoformat(day)
        if doc.get("last_interaction_date") is not None:
            date.fromisoformat(doc["last_interaction_date"])
        return doc  # type: ignore[no-any-return]

    def memories(self, folder: str) -> dict[str, list[str]]:
        out = {}
        for kind, entries in self._load(folder, "permanent_memories.json")["memories"].items():
            for entry in entries:
                datetime.fromisoformat(entry["created_at"])
                datetime.fromisoformat(entry["updated_at"])
            out[kind] = [entry["content"] for entry in entries]
        return out


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


# Objects whose keys are data (a category, a memory type, a context key): a key may go, a kept one keeps its type.
DATA_MAPS = {"categories", "memories"}


def assert_extends(old: Any, new: Any, where: str, *, is_map: bool = False) -> None:
    """``new`` has every key ``old`` has, with a value of the same JSON type, recursively into objects
    (values may change; lists are checked element by element where both have one)."""
    if old is None or new is None:
        return
    assert _json_type(new) == _json_type(old), f"{where}: {_json_type(old)} became {_json_type(new)}"
    if isinstance(old, dict):
        for key, value in old.items():
            if is_map and key not in new:
                continue
            assert key in new, f"{where}: key {key!r} disappeared"
            assert_extends(value, new[key], f"{where}.{key}", is_map=key in DATA_MAPS)
    elif isinstance(old, list):
        for i, (a, b) in enumerate(zip(old, new, strict=False)):
            assert_extends(a, b, f"{where}[{i}]")


# -- opening the read-only fixture ------------------------------------------------------------------------
def test_reading_everything_changes_nothing_on_disk(fixture_dir: Path) -> None:
    before = tree_digest(fixture_dir)
    store = JsonMemoryStore(config_for(fixture_dir))
    now = datetime(2025, 4, 14, 12, tzinfo=timezone.utc)
    for _ in range(2):  # the second pass is served from caches: still nothing written
        assert store.get_all_users() == [DEMO]
        assert store.user_exists(DEMO)
        assert store.get_user_profile(DEMO)["name"] == "Demo User"
        assert len(store.get_message_history(DEMO, include_archived=True)) == 4
        assert len(store.get_recent_messages(DEMO, 2)) == 2
        assert store.get_user_facts(DEMO, "location") == ["New York"]
        assert len(store.get_fact_records(DEMO)) == 3
        assert store.get_fact_versions(DEMO) == []
        assert store.get_conversation_metrics(DEMO)["message_count"] == 4
        assert store.get_permanent_memories(DEMO, "first_meeting")[0]["content"].startswith("First")
        assert store.get_all_global_context()["system_version"]["value"] == "1.0.0"
        assert store.get_global_context("system_version") == "1.0.0"
        assert store.get_streak(DEMO, now).longest >= 0
        assert store.user_zone(DEMO).utcoffset(now) == timedelta(hours=-5)
        assert [item["type"] for item in store.get_relevant_context(DEMO, "york")] == [
            "profile", "fact", "message", "message", "message", "message"]
        assert store.get_user_profile("nobody") == {}
    store.flush()
    store.close()
    assert tree_digest(fixture_dir) == before


def test_the_fixture_reads_as_the_older_files_hold_it(fixture_dir: Path) -> None:
    v1 = V1Reader(fixture_dir)
    store = JsonMemoryStore(config_for(fixture_dir))
    try:
        assert store.get_user_profile(DEMO) == v1.profile(DEMO)
        assert store.get_user_facts(DEMO) == v1.facts(DEMO)
        assert store.get_conversation_metrics(DEMO) == v1.metrics(DEMO)
        assert {k: [m["content"] for m in v] for k, v in store.get_permanent_memories(DEMO).items()} == \
            v1.memories(DEMO)
        assert {k: e["value"] for k, e in store.get_all_global_context().items()} == v1.global_context()
        history = store.get_message_history(DEMO)
        assert [(m["content"], m["timestamp"], m["is_user"], m["metadata"], m["word_count"]) for m in history] \
            == v1.messages(DEMO)
        assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
        ids = [m["id"] for m in history]
        assert len(set(ids)) == 4 and all(isinstance(i, str) and i for i in ids)
    finally:
        store.close()
    again = JsonMemoryStore(config_for(fixture_dir))
    assert [m["id"] for m in again.get_message_history(DEMO)] == ids, "derived ids are stable"
    again.close()


# -- writing a copy, read back by the v1 reader ----------------------------------------------------------
def _write_everything(store: JsonMemoryStore) -> None:
    store.add_message(DEMO, "user", "I moved to Paris <3", timestamp="2025-04-14T09:00:00+02:00")
    store.add_message(DEMO, "assistant", "Bienvenue!", metadata={"lang": "fr"})
    store.store_message(DEMO, "old style", is_user=True)
    store.add_user_fact(DEMO, "Paris", "location")
    store.update_user_fact(DEMO, "location", "New York", "New York (before)")
    store.update_user_fact(DEMO, "interests", "programming", "programming", new_category="skills")
    store.remove_user_fact(DEMO, "interests", "artificial intelligence")
    store.store_permanent_memory(DEMO, "Moved to Paris", "milestone")
    store.update_permanent_memory(DEMO, 0, "first_meeting", {"content": "First chat"})
    store.update_user_profile(DEMO, {"preferences": {"language": "fr"}})
    store.update_conversation_metrics(DEMO, {"sentiment_score": 0.9})
    store.update_streak(DEMO, datetime(2025, 4, 15, 12, tzinfo=timezone.utc))
    store.set_global_context("system_version", "2.0.0")
    store.set_global_context("motd", {"text": "hi"})
    for user in (NEW_PLAIN, NEW_ENCODED):
        store.get_or_create_user(user, "New")
        store.add_message(user, "user", "hello")
        store.add_user_fact(user, "likes tea", "food")
        store.store_permanent_memory(user, "first hello")


def test_written_files_stay_readable_by_a_v1_reader(fixture_copy: Path) -> None:
    store = JsonMemoryStore(config_for(fixture_copy, MAX_MESSAGES=5))
    _write_everything(store)
    store.close()

    v1 = V1Reader(fixture_copy)
    users = v1.users()
    assert DEMO in users and NEW_PLAIN in users and len(users) == 3
    encoded = next(u for u in users if u not in (DEMO, NEW_PLAIN))
    assert encoded != NEW_ENCODED and "/" not in encoded and not encoded.startswith(".")
    assert v1.global_context() == {"system_version": "2.0.0", "motd": {"text": "hi"}}

    messages = v1.messages(DEMO)
    assert len(messages) == 5, "MAX_MESSAGES bounds what the assistant reads"
    assert [m[0] for m in messages] == [
        "I'm interested in AI and programming.", "That's great! I can help you with AI and programming topics.",
        "I moved to Paris <3", "Bienvenue!", "old style"]
    assert messages[3][2:4] == (False, {"lang": "fr"})
    assert v1.facts(DEMO) == {"location": ["New York (before)", "Paris"], "skills": ["programming"]}
    assert v1.memories(DEMO) == {"first_meeting": ["First chat"], "milestone": ["Moved to Paris"]}
    profile = v1.profile(DEMO)
    assert profile["preferences"] == {"theme": "light", "language": "fr"}
    assert profile["timezone"] == "UTC-5"
    metrics = v1.metrics(DEMO)
    assert (metrics["message_count"], metrics["sentiment_score"], metrics["topics"]) == (7, 0.9, ["ai", "programming"])
    assert metrics["total_words"] == 28 + 5 + 1 + 2
    assert "2025-04-14" in metrics["interaction_dates"]  # 09:00+02:00 is 02:00 on the 14th in UTC-5
    assert isinstance(metrics["streak_days"], int) and isinstance(metrics["longest_streak"], int)

    for folder in (NEW_PLAIN, encoded):
        assert [m[0] for m in v1.messages(folder)] == ["hello"]
        assert v1.facts(folder) == {"food": ["likes tea"]}
        assert v1.memories(folder) == {"general": ["first hello"]}
        assert v1.profile(folder)["name"] == "New"
        assert v1.metrics(folder)["message_count"] == 1

    # The trimmed messages went to the archive (an additional file), in order.
    archive = read_jsonl(fixture_copy / DEMO / "conversation_archive.jsonl")
    assert [m["content"] for m in archive] == ["Hello Elysia!", "Hello Demo User! How can I help you today?"]


def test_the_old_shape_is_only_extended(fixture_dir: Path, fixture_copy: Path) -> None:
    store = JsonMemoryStore(config_for(fixture_copy, MAX_MESSAGES=100))
    _write_everything(store)
    store.close()
    for old_path in sorted(fixture_dir.rglob("*.json")):
        rel = old_path.relative_to(fixture_dir)
        old, new = read_json(old_path), read_json(fixture_copy / rel)
        assert_extends(old, new, str(rel), is_map=rel.name == "global_context.json")
    # Every message, old and new, has at least the v1 keys, with the v1 types.
    for msg in read_json(fixture_copy / DEMO / "conversation_history.json")["messages"]:
        assert_extends(read_json(fixture_dir / DEMO / "conversation_history.json")["messages"][0], msg, "message")
    # Bookkeeping only in dot-named places; additional files only where STORE.md allows them.
    new_names = {p.relative_to(fixture_copy).parts for p in fixture_copy.rglob("*")} - {
        p.relative_to(fixture_dir).parts for p in fixture_dir.rglob("*")}
    for parts in new_names:
        if any(part.startswith(".") for part in parts):
            continue
        assert parts[-1] in {"conversation_archive.jsonl", "fact_versions.jsonl", "user_profile.json",
                             "conversation_history.json", "user_facts.json", "interaction_metrics.json",
                             "permanent_memories.json"} or len(parts) == 1, parts


UNKNOWN = {"x_future": {"kept": [1, "two", None]}}


def _plant_unknown_keys(root: Path) -> None:
    """Add keys no memgui version knows to every file and to nested objects of the fixture copy."""
    def edit(rel: str, change: Any) -> None:
        path = root / rel
        doc = read_json(path)
        change(doc)
        path.write_text(json.dumps(doc, indent=2), encoding="utf-8")

    edit("users_index.json", lambda d: d.update(UNKNOWN))
    edit("global_context.json", lambda d: d["system_version"].update(UNKNOWN))
    edit(f"{DEMO}/user_profile.json", lambda d: (d.update(UNKNOWN), d["preferences"].update(UNKNOWN)))
    edit(f"{DEMO}/user_facts.json", lambda d: d.update(UNKNOWN))
    edit(f"{DEMO}/interaction_metrics.json", lambda d: d.update(UNKNOWN))
    edit(f"{DEMO}/permanent_memories.json",
         lambda d: (d.update(UNKNOWN), d["memories"]["first_meeting"][0].update(UNKNOWN)))
    edit(f"{DEMO}/conversation_history.json",
         lambda d: (d.update(UNKNOWN), [m.update(UNKNOWN) for m in d["messages"]]))


def test_unknown_keys_survive_every_write(fixture_copy: Path) -> None:
    _plant_unknown_keys(fixture_copy)
    store = JsonMemoryStore(config_for(fixture_copy, MAX_MESSAGES=3))
    _write_everything(store)
    store.add_message(DEMO, "user", "one more, after every other write")
    store.set_global_context("another", 1)
    store.close()

    def has(doc: Any, where: str) -> None:
        assert doc.get("x_future") == UNKNOWN["x_future"], f"{where} lost its unknown key"

    has(read_json(fixture_copy / "users_index.json"), "users_index.json")
    has(read_json(fixture_copy / "global_context.json")["system_version"], "global context entry")
    profile = read_json(fixture_copy / DEMO / "user_profile.json")
    has(profile, "profile")
    has(profile["preferences"], "profile.preferences")
    has(read_json(fixture_copy / DEMO / "user_facts.json"), "facts")
    has(read_json(fixture_copy / DEMO / "interaction_metrics.json"), "metrics")
    memories = read_json(fixture_copy / DEMO / "permanent_memories.json")
    has(memories, "memories")
    has(memories["memories"]["first_meeting"][0], "updated memory entry")
    has(read_json(fixture_copy / DEMO / "conversation_history.json"), "history")
    # All four old messages were trimmed (MAX_MESSAGES=3): their unknown keys live on in the archive.
    archived = read_jsonl(fixture_copy / DEMO / "conversation_archive.jsonl")
    assert len(archived) >= 4
    for msg in archived[:4]:
        has(msg, "archived message")
    reread = JsonMemoryStore(config_for(fixture_copy, MAX_MESSAGES=3))
    first = reread.get_message_history(DEMO, include_archived=True)[0]
    assert (first["content"], first["x_future"]) == ("Hello Elysia!", UNKNOWN["x_future"])
    reread.close()


@pytest.mark.parametrize("durable", [True, False])
def test_a_reopened_copy_reads_back_what_was_written(fixture_copy: Path, durable: bool) -> None:
    store = JsonMemoryStore(config_for(fixture_copy, DURABLE_WRITES=durable))
    _write_everything(store)
    expected = (store.get_all_users(), store.get_message_history(DEMO, include_archived=True),
                store.get_fact_records(DEMO), store.get_conversation_metrics(DEMO),
                store.get_permanent_memories(DEMO), store.get_all_global_context())
    store.close()
    reopened = JsonMemoryStore(config_for(fixture_copy))
    got = (reopened.get_all_users(), reopened.get_message_history(DEMO, include_archived=True),
           reopened.get_fact_records(DEMO), reopened.get_conversation_metrics(DEMO),
           reopened.get_permanent_memories(DEMO), reopened.get_all_global_context())
    reopened.close()
    assert got == expected
    assert NEW_ENCODED in got[0]


def test_a_folder_missing_from_the_index_is_still_a_user(fixture_copy: Path) -> None:
    index = fixture_copy / "users_index.json"
    index.write_text(json.dumps({"users": []}), encoding="utf-8")
    before = tree_digest(fixture_copy)
    store = JsonMemoryStore(config_for(fixture_copy))
    assert store.get_all_users() == [DEMO]
    assert store.user_exists(DEMO)
    assert store.get_user_profile(DEMO)["name"] == "Demo User"
    assert tree_digest(fixture_copy) == before, "reading does not repair the index: it writes nothing"
    store.add_user_fact(DEMO, "Paris", "location")
    store.close()
    assert read_json(index) == {"users": [DEMO]}, "a write lists the user again, for v1 readers"
