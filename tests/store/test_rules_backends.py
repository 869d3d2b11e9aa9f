"""Business rules, run against every backend from one fixture (``any_store``: JsonMemoryStore, InMemoryStore),
as TinyDB runs its tests against two storages. The rules live once in ``MemoryStore``; a backend only
persists, so both must give the same answers (the last test runs one script on both and compares)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from memgui.store import ABSENT, ConflictError, MemoryStore, ValidationError
from memgui.store.timeutil import now_utc

TIME_KEYS = {"timestamp", "created_at", "updated_at", "last_updated", "added_at", "changed_at", "at",
             "first_interaction", "last_interaction"}
ID_KEYS = {"id", "fact_id", "source_message_id", "context_message_id"}


# -- messages and metrics --------------------------------------------------------------------------------
def test_message_ids_are_unique_and_word_counts_split_on_whitespace(any_store: MemoryStore) -> None:
    texts = ["one", "two words", "  three   spaced\twords ", "", "new\nline here"]
    for text in texts:
        any_store.add_message("u", "user", text)
    messages = any_store.get_message_history("u")
    assert [m["word_count"] for m in messages] == [1, 2, 3, 0, 3]
    assert len({m["id"] for m in messages}) == len(texts)
    assert any_store.get_conversation_metrics("u")["total_words"] == 9


def test_metrics_count_every_role_and_order_times(any_store: MemoryStore) -> None:
    any_store.add_message("u", "user", "b", timestamp="2025-01-02T10:00:00+00:00")
    any_store.add_message("u", "assistant", "a", timestamp="2025-01-01T10:00:00+00:00")
    any_store.add_message("u", "system", "c", timestamp="2025-01-03T09:00:00+01:00")
    metrics = any_store.get_conversation_metrics("u")
    assert metrics["message_count"] == 3
    assert (metrics["first_interaction"], metrics["last_interaction"]) == (
        "2025-01-01T10:00:00+00:00", "2025-01-03T09:00:00+01:00")
    assert metrics["interaction_dates"] == ["2025-01-01", "2025-01-02", "2025-01-03"]
    assert (metrics["streak_days"], metrics["last_interaction_date"]) == (1, "2025-01-02")


def test_metadata_is_copied_in_and_out(any_store: MemoryStore) -> None:
    metadata: dict[str, Any] = {"tags": ["a"]}
    returned = any_store.add_message("u", "user", "x", metadata=metadata)
    metadata["tags"].append("changed by the caller")
    returned["metadata"]["tags"].append("changed through the result")
    any_store.get_message_history("u")[0]["metadata"]["tags"].append("changed through a read")
    assert any_store.get_message_history("u")[0]["metadata"] == {"tags": ["a"]}


def test_bulk_import_equals_single_messages(make_store: Any, backend: str, tmp_path: Path) -> None:
    items = [{"role": ("user", "assistant", "system")[i % 3], "content": f"m{i} " * (i % 4),
              "timestamp": f"2025-01-{1 + i // 3:02d}T12:00:00+00:00", "metadata": {"i": i}} for i in range(20)]
    single = make_store(STORAGE_BACKEND=backend, MAX_MESSAGES=6, DATA_DIR=tmp_path / "single")
    bulk = make_store(STORAGE_BACKEND=backend, MAX_MESSAGES=6, DATA_DIR=tmp_path / "bulk")
    for item in items:
        single.add_message("u", item["role"], item["content"], timestamp=item["timestamp"], metadata=item["metadata"])
    assert bulk.add_messages("u", items) == 20
    assert _scrub(bulk.get_message_history("u", include_archived=True)) == _scrub(
        single.get_message_history("u", include_archived=True))
    assert _scrub(bulk.get_message_history("u")) == _scrub(single.get_message_history("u"))
    assert bulk.get_conversation_metrics("u") == single.get_conversation_metrics("u")


def test_bulk_import_validates_everything_first(any_store: MemoryStore) -> None:
    with pytest.raises(ValidationError, match="role"):
        any_store.add_messages("u", [{"role": "user", "content": "ok"}, {"role": "robot", "content": "no"}])
    assert not any_store.user_exists("u")
    with pytest.raises(ValidationError):
        any_store.add_messages("u", "not a list")  # type: ignore[arg-type]
    assert any_store.add_messages("u", []) == 0


def test_recount_metrics_rebuilds_counts_and_streaks(any_store: MemoryStore) -> None:
    for day in (1, 2, 3):
        any_store.add_message("u", "user", "two words", timestamp=f"2025-01-0{day}T10:00:00+00:00")
    any_store.update_conversation_metrics("u", {"message_count": 0, "total_words": 0, "streak_days": 0,
                                                "custom": "kept"})
    rebuilt = any_store.recount_metrics("u")
    assert (rebuilt["message_count"], rebuilt["total_words"], rebuilt["streak_days"]) == (3, 6, 3)
    assert rebuilt["custom"] == "kept"
    assert any_store.get_conversation_metrics("u") == rebuilt
    assert any_store.recount_metrics("ghost") == {}
    assert not any_store.user_exists("ghost")


# -- profile fields, memories, global context with compare-and-set -------------------------------------
def test_profile_field_edits(any_store: MemoryStore) -> None:
    any_store.create_user("u", {"name": "Ann"})
    any_store.set_profile_field("u", "name", "Anne", expected="Ann")
    with pytest.raises(ConflictError, match="name"):
        any_store.set_profile_field("u", "name", "Annie", expected="Ann")
    any_store.set_profile_field("u", "city", "Oslo", expected=ABSENT)
    with pytest.raises(ConflictError):
        any_store.set_profile_field("u", "city", "Bergen", expected=ABSENT)
    any_store.delete_profile_field("u", "city", expected="Oslo")
    with pytest.raises(ConflictError):
        any_store.delete_profile_field("u", "city")
    with pytest.raises(ValidationError, match="timezone"):
        any_store.set_profile_field("u", "timezone", "Nowhere/Land")
    with pytest.raises(ConflictError):
        any_store.set_profile_field("ghost", "name", "x")
    assert not any_store.user_exists("ghost")
    profile = any_store.get_user_profile("u")
    assert profile["name"] == "Anne" and "city" not in profile


def test_permanent_memory_compare_and_set(any_store: MemoryStore) -> None:
    any_store.store_permanent_memory("u", "met in May", "first_meeting")
    [read] = any_store.get_permanent_memories("u", "first_meeting")
    assert any_store.update_permanent_memory("u", 0, "first_meeting", {"content": "met in June"}, expected=read)
    with pytest.raises(ConflictError):
        any_store.update_permanent_memory("u", 0, "first_meeting", {"content": "stale"}, expected=read)
    with pytest.raises(ConflictError):
        any_store.delete_permanent_memory("u", 0, "first_meeting", expected=read)
    [now] = any_store.get_permanent_memories("u", "first_meeting")
    assert now["content"] == "met in June"
    assert any_store.delete_permanent_memory("u", 0, "first_meeting", expected=now) is True
    with pytest.raises(ConflictError):
        any_store.delete_permanent_memory("u", 0, "first_meeting", expected=now)
    with pytest.raises(ValidationError):
        any_store.store_permanent_memory("u", "  ", "general")
    with pytest.raises(ValidationError):
        any_store.store_permanent_memory("u", "x", "")


def test_global_context_compare_and_set(any_store: MemoryStore) -> None:
    assert any_store.set_global_context("motd", "hello", expected=ABSENT) is True
    with pytest.raises(ConflictError, match="motd"):
        any_store.set_global_context("motd", "again", expected=ABSENT)
    assert any_store.set_global_context("motd", "bye", expected="hello") is True
    with pytest.raises(ConflictError):
        any_store.delete_global_context("motd", expected="hello")
    assert any_store.delete_global_context("motd", expected="bye") is True
    with pytest.raises(ConflictError):
        any_store.delete_global_context("motd", expected="bye")
    entries = any_store.get_all_global_context()
    assert entries == {}
    with pytest.raises(ValidationError):
        any_store.set_global_context("", 1)


# -- users ----------------------------------------------------------------------------------------------
def test_erase_and_rename(any_store: MemoryStore) -> None:
    for uid in ("a", "b"):
        any_store.add_message(uid, "user", "hi")
        any_store.add_user_fact(uid, "tea", "food")
    any_store.rename_user("a", "a.renamed")
    assert any_store.get_all_users() == ["a.renamed", "b"]
    assert any_store.get_user_facts("a.renamed") == {"food": ["tea"]}
    removed = any_store.erase_user("b")
    assert removed, "erase reports what it removed"
    assert any_store.get_all_users() == ["a.renamed"]
    assert any_store.get_message_history("b") == []
    with pytest.raises(ConflictError):
        any_store.erase_user("b")
    with pytest.raises(ValidationError):
        any_store.rename_user("a.renamed", " a.renamed ")


def test_users_are_listed_sorted(any_store: MemoryStore) -> None:
    for uid in ("zed", "Alice", "bob", "émile", "x y"):
        any_store.get_or_create_user(uid)
    assert any_store.get_all_users() == sorted(["zed", "Alice", "bob", "émile", "x y"])


def test_the_store_clock_stamps_every_write(any_store: MemoryStore) -> None:
    """``clock`` is what the rules call now: a replaced clock stamps facts, their versions, memories, a message
    without a timestamp and a new profile; putting the real clock back stamps the real time again."""
    moment = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    stamp = moment.isoformat()
    any_store.clock = lambda: moment
    any_store.create_user("c")
    assert any_store.add_message("c", "user", "hello")["timestamp"] == stamp
    any_store.add_user_fact("c", "Likes tea", "preferences")
    any_store.store_permanent_memory("c", "Got the job", "milestone")
    later = moment.replace(day=20)
    any_store.clock = lambda: later
    any_store.update_user_fact("c", "preferences", "Likes tea", "Likes green tea")
    assert any_store.get_user_profile("c")["created_at"] == stamp
    (record,) = any_store.get_fact_records("c")
    assert (record["added_at"], record["changed_at"]) == (stamp, later.isoformat())
    assert [v["at"] for v in any_store.get_fact_versions("c")] == [stamp, later.isoformat()]
    (memory,) = any_store.get_permanent_memories("c", "milestone")
    assert memory["created_at"] == memory["updated_at"] == stamp
    assert any_store.get_streak("c").current == 0  # "now" is 16 days after the only message
    any_store.clock = now_utc
    any_store.add_user_fact("c", "Runs", "hobbies")
    added = datetime.fromisoformat(any_store.get_fact_records("c")[-1]["added_at"])
    assert abs(added - datetime.now(timezone.utc)).total_seconds() < 300


# -- one script, both backends, the same answers -------------------------------------------------------
def _scrub(value: Any) -> Any:
    """Answers without what is random or time-dependent (ids, timestamps)."""
    if isinstance(value, dict):
        return {k: ("<id>" if k in ID_KEYS and v else "<t>" if k in TIME_KEYS and v else _scrub(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _script(store: MemoryStore) -> list[Any]:
    out: list[Any] = []
    store.create_user("u", {"name": "Ann", "timezone": "Europe/Paris"})
    for day in range(1, 9):
        if day != 5:
            store.add_message("u", "user", f"day {day} hello there", timestamp=f"2025-03-{day:02d}T23:30:00+00:00")
            store.add_message("u", "assistant", f"reply {day}", timestamp=f"2025-03-{day:02d}T23:31:00+00:00")
    store.add_messages("u", [{"role": "user", "content": "import", "timestamp": "2025-02-01T12:00:00Z"}])
    out.append(store.get_message_history("u", include_archived=True))
    out.append(store.get_message_history("u", 3))
    out.append(store.get_conversation_metrics("u"))
    out.append(store.update_streak("u", datetime(2025, 3, 10, 12, tzinfo=timezone.utc)))
    out.append(store.get_streak("u", datetime(2025, 3, 11, 12, tzinfo=timezone.utc)))
    store.add_user_fact("u", "tea", "food")
    store.store_extracted_context("u", {"city": "Paris"})
    store.update_user_fact("u", "food", "tea", "green tea", new_category="drinks")
    version = store.get_fact_versions("u")[0]["id"]
    store.restore_fact_version("u", version)
    out.append(store.get_fact_records("u"))
    out.append([(v["action"], v["by"], v["before"], v["after"]) for v in store.get_fact_versions("u")])
    out.append(store.get_relevant_context("u", "PAR"))
    store.store_permanent_memory("u", {"structured": True}, "notes")
    store.update_permanent_memory("u", 0, "notes", {"content": "plain", "extra": 1})
    out.append(store.get_permanent_memories("u"))
    store.set_global_context("k", [1, 2])
    out.append(store.get_all_global_context())
    out.append(store.recount_metrics("u"))
    out.append((store.get_all_users(), store.user_exists("u"), store.clear_user_data("u"), store.get_all_users()))
    return out


@pytest.mark.parametrize("other", ["memory", "postgres"])
def test_every_backend_gives_the_json_answers(make_store: Any, other: str, tmp_path: Path) -> None:
    json_store = make_store(STORAGE_BACKEND="json", MAX_MESSAGES=5)
    other_store = make_store(STORAGE_BACKEND=other, MAX_MESSAGES=5, DATA_DIR=tmp_path / other)
    from_json, from_other = _script(json_store), _script(other_store)
    for i, (a, b) in enumerate(zip(from_json, from_other, strict=True)):
        assert _scrub(a) == _scrub(b), f"answer {i} differs between json and {other}"
        in_order = json.dumps(_scrub(a), default=repr) == json.dumps(_scrub(b), default=repr)
        assert in_order, f"answer {i}: keys in another order in {other}"
    metrics = from_json[2]
    # 23:30 UTC is 00:30 the next day in Paris: user days 2-5 and 7-9 March (and 1 February).
    assert (metrics["message_count"], metrics["streak_days"], metrics["longest_streak"]) == (15, 3, 4)
