"""The compatible API of STORE.md: every older method name with the older meaning and return shapes.

The older implementation answered ``{}`` / ``[]`` / ``None`` for reads of what does not exist, ``False`` where
there was nothing to do, and ``True`` from every ``store_*`` method; code of existing Elysia deployments
relies on those answers, so they are checked exactly (``is True``, ``== {}``...).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from contract_helpers import read_json

from memgui.store import ConfigError, JsonMemoryStore, MemoryStore, get_memory_store, initialize

USER = "test_user_123"


def _iso(text: Any) -> datetime:
    assert isinstance(text, str), text
    return datetime.fromisoformat(text)


# -- reads of what does not exist ------------------------------------------------------------------------
def test_reads_of_an_unknown_user(store: JsonMemoryStore, data_dir: Path) -> None:
    assert store.get_user_profile("ghost") == {}
    assert store.get_recent_messages("ghost") == []
    assert store.get_recent_messages("ghost", 5) == []
    assert store.get_message_history("ghost") == []
    assert store.get_user_facts("ghost") == {}
    assert store.get_user_facts("ghost", "location") == []
    assert store.get_permanent_memories("ghost") == {}
    assert store.get_permanent_memories("ghost", "general") == []
    assert store.get_conversation_metrics("ghost") == {}
    assert store.get_relevant_context("ghost") == []
    assert store.get_relevant_context("ghost", "tea") == []
    assert store.get_global_context("nothing") is None
    assert store.user_exists("ghost") is False
    assert store.get_all_users() == []
    assert not data_dir.exists(), "reading must not create anything"


def test_nothing_to_do_answers_false_and_writes_nothing(store: JsonMemoryStore, data_dir: Path) -> None:
    assert store.clear_user_data("ghost") is False
    assert store.update_permanent_memory("ghost", 0, "general", {"content": "x"}) is False
    assert store.delete_permanent_memory("ghost", 0, "general") is False
    assert store.update_streak("ghost") == {}
    assert not data_dir.exists()
    assert store.user_exists("ghost") is False


def test_create_user(store: JsonMemoryStore) -> None:
    assert store.create_user(USER, {"name": "Test User", "preferences": {"theme": "dark"}}) is True
    profile = store.get_user_profile(USER)
    assert (profile["name"], profile["preferences"]) == ("Test User", {"theme": "dark"})
    _iso(profile["created_at"])
    assert store.create_user(USER, {"name": "Someone Else"}) is False
    assert store.get_user_profile(USER) == profile, "a refused create_user writes nothing"
    assert store.create_user("plain") is True
    assert store.get_user_profile("plain")["name"] == "plain"
    assert store.get_all_users() == ["plain", USER]
    assert store.user_exists(USER) is True


def test_get_or_create_user(store: JsonMemoryStore) -> None:
    created = store.get_or_create_user(USER, "Test User")
    assert created["name"] == "Test User"
    _iso(created["created_at"])
    again = store.get_or_create_user(USER, "Another Name")
    assert again == created, "an existing user is returned as is"
    assert store.get_or_create_user("nameless")["name"] == "nameless"


# -- messages --------------------------------------------------------------------------------------------
def test_store_message_and_get_recent_messages(store: JsonMemoryStore) -> None:
    assert store.store_message(USER, "Hello Elysia!") is True
    assert store.store_message(USER, "Hello! How can I help?", is_user=False) is True
    assert store.store_message(USER, "bye", True, "2025-04-13T14:54:03.136544", {"k": 1}) is True
    messages = store.get_recent_messages(USER)
    assert [(m["content"], m["is_user"], m["role"]) for m in messages] == [
        ("Hello Elysia!", True, "user"), ("Hello! How can I help?", False, "assistant"), ("bye", True, "user")]
    assert (messages[2]["timestamp"], messages[2]["metadata"], messages[2]["word_count"]) == (
        "2025-04-13T14:54:03.136544", {"k": 1}, 1)
    assert store.get_recent_messages(USER, 2) == messages[1:]
    assert store.user_exists(USER), "store_message creates the user"


def test_message_limit_of_the_older_test_script(make_store: Any) -> None:
    store = make_store(MAX_MESSAGES=100)
    for i in range(5):
        store.store_message(USER, f"Test message {i + 1} from user", is_user=True)
    for i in range(5):
        store.store_message(USER, f"Test response {i + 1} from assistant", is_user=False)
    for i in range(95):
        store.store_message(USER, f"Overflow message {i + 1}", is_user=i % 2 == 0)
    messages = store.get_recent_messages(USER)
    assert len(messages) == 100
    assert messages[0]["content"] == "Test response 1 from assistant"
    assert messages[-1]["content"] == "Overflow message 95"


# -- profile ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["store_user_profile", "update_user_profile"])
def test_profile_updates_are_deep_merges(store: JsonMemoryStore, method: str) -> None:
    update = getattr(store, method)
    assert update(USER, {"name": "Ann", "preferences": {"theme": "dark", "language": "en"},
                         "interests": ["a", "b"]}) is True
    assert update(USER, {"preferences": {"notifications": True}, "bio": "x", "interests": ["c"]}) is True
    profile = store.get_user_profile(USER)
    assert profile["preferences"] == {"theme": "dark", "language": "en", "notifications": True}
    assert (profile["name"], profile["bio"], profile["interests"]) == ("Ann", "x", ["c"])


# -- facts -----------------------------------------------------------------------------------------------
def test_store_user_fact_category_first(store: JsonMemoryStore) -> None:
    for fact_type in ("interest", "hobby"):
        for i in range(3):
            assert store.store_user_fact(USER, fact_type, f"{fact_type} fact {i + 1}") is True
    assert store.store_user_fact(USER, "hobby", "hobby fact 1") is True, "a known fact is still True"
    assert store.get_user_facts(USER) == {
        "interest": ["interest fact 1", "interest fact 2", "interest fact 3"],
        "hobby": ["hobby fact 1", "hobby fact 2", "hobby fact 3"],
    }
    assert store.get_user_facts(USER, "hobby") == ["hobby fact 1", "hobby fact 2", "hobby fact 3"]
    assert store.get_user_facts(USER, "unknown") == []


def test_store_extracted_context(store: JsonMemoryStore) -> None:
    context = {"location": "Paris", "job": "baker", "empty": "  ", "number": 42, "nested": {"a": "b"}}
    assert store.store_extracted_context(USER, context) is True
    assert store.get_user_facts(USER) == {"extracted_location": ["Paris"], "extracted_job": ["baker"]}
    assert store.store_extracted_context(USER, {"location": "Paris"}) is True
    assert store.get_user_facts(USER, "extracted_location") == ["Paris"]


def test_get_relevant_context_has_the_older_shape(store: JsonMemoryStore) -> None:
    store.create_user(USER, {"name": "Ann", "interests": ["tea", "chess"]})
    store.store_user_fact(USER, "food", "Likes green TEA")
    store.store_user_fact(USER, "food", "hates coffee")
    store.store_user_fact(USER, "hobby", "plays chess")
    for i in range(7):
        store.store_message(USER, f"m{i}", is_user=i % 2 == 0, timestamp=f"2025-01-01T10:0{i}:00+00:00")
    context = store.get_relevant_context(USER, "tea")
    assert context == [
        {"type": "profile", "content": "User name: Ann", "category": "identity"},
        {"type": "profile", "content": "User interests: tea, chess", "category": "interests"},
        {"type": "fact", "content": "Likes green TEA", "category": "food"},
        *({"type": "message", "content": f"m{i}", "is_user": i % 2 == 0,
           "timestamp": f"2025-01-01T10:0{i}:00+00:00"} for i in range(2, 7)),
    ]
    everything = store.get_relevant_context(USER)
    assert [item["content"] for item in everything if item["type"] == "fact"] == [
        "Likes green TEA", "hates coffee", "plays chess"]
    assert [item["type"] for item in store.get_relevant_context(USER, "zzz")] == [
        "profile", "profile", *["message"] * 5]


# -- permanent memories ----------------------------------------------------------------------------------
def test_permanent_memories(store: JsonMemoryStore) -> None:
    for memory_type in ("first_meeting", "important_event"):
        for i in range(2):
            assert store.store_permanent_memory(USER, f"{memory_type} {i + 1}", memory_type) is True
    assert store.store_permanent_memory(USER, "no type") is True
    everything = store.get_permanent_memories(USER)
    assert sorted(everything) == ["first_meeting", "general", "important_event"]
    entry = everything["general"][0]
    assert set(entry) >= {"content", "created_at", "updated_at"}
    assert entry["content"] == "no type"
    assert [m["content"] for m in store.get_permanent_memories(USER, "first_meeting")] == [
        "first_meeting 1", "first_meeting 2"]

    before = store.get_permanent_memories(USER, "first_meeting")[0]
    assert store.update_permanent_memory(USER, 0, "first_meeting", {"content": "Updated"}) is True
    after = store.get_permanent_memories(USER, "first_meeting")[0]
    assert (after["content"], after["created_at"]) == ("Updated", before["created_at"])
    assert _iso(after["updated_at"]) >= _iso(before["updated_at"])
    assert store.update_permanent_memory(USER, 2, "first_meeting", {"content": "x"}) is False
    assert store.update_permanent_memory(USER, -1, "first_meeting", {"content": "x"}) is False
    assert store.update_permanent_memory(USER, 0, "no_such_type", {"content": "x"}) is False

    assert store.delete_permanent_memory(USER, 0, "important_event") is True
    assert [m["content"] for m in store.get_permanent_memories(USER, "important_event")] == ["important_event 2"]
    assert store.delete_permanent_memory(USER, 0, "important_event") is True
    assert "important_event" not in store.get_permanent_memories(USER), "an emptied type disappears"
    assert store.delete_permanent_memory(USER, 0, "important_event") is False
    assert store.delete_permanent_memory(USER, 5, "first_meeting") is False


# -- metrics and streak ----------------------------------------------------------------------------------
def test_conversation_metrics_deep_merge(store: JsonMemoryStore) -> None:
    store.store_message(USER, "two words")
    assert store.update_conversation_metrics(USER, {"sentiment_score": 0.85, "custom": {"a": 1}}) is True
    assert store.update_conversation_metrics(USER, {"custom": {"b": 2}, "topics": ["ai"]}) is True
    metrics = store.get_conversation_metrics(USER)
    assert (metrics["message_count"], metrics["total_words"]) == (1, 2)
    assert (metrics["sentiment_score"], metrics["custom"], metrics["topics"]) == (0.85, {"a": 1, "b": 2}, ["ai"])
    assert metrics["streak_days"] == 1, "the merge kept the streak the message set"
    assert store.update_conversation_metrics("fresh", {"x": 1}) is True, "creates the user"
    assert store.get_conversation_metrics("fresh")["x"] == 1


def test_update_streak_of_a_known_user(store: JsonMemoryStore) -> None:
    store.create_user(USER)
    streak = store.update_streak(USER)
    assert set(streak) == {"current_streak", "longest_streak", "last_interaction"}
    assert (streak["current_streak"], streak["longest_streak"]) == (1, 1)


# -- users -----------------------------------------------------------------------------------------------
def test_clear_user_data(store: JsonMemoryStore, data_dir: Path) -> None:
    store.store_message(USER, "hello")
    store.store_message("keep", "hello")
    assert store.clear_user_data(USER) is True
    assert store.user_exists(USER) is False
    assert store.get_user_profile(USER) == {}
    assert not (data_dir / USER).exists()
    assert read_json(data_dir / "users_index.json") == {"users": ["keep"]}
    assert store.get_all_users() == ["keep"]
    assert store.clear_user_data(USER) is False


# -- global context --------------------------------------------------------------------------------------
def test_global_context(store: JsonMemoryStore, data_dir: Path) -> None:
    values = {"system_version": "1.0.0", "active_users": 42, "config": {"max_tokens": 1000, "t": 0.7},
              "flags": [True, None]}
    for key, value in values.items():
        assert store.set_global_context(key, value) is True
    for key, value in values.items():
        assert store.get_global_context(key) == value
    assert store.delete_global_context("active_users") is True
    assert store.get_global_context("active_users") is None
    assert store.delete_global_context("active_users") is True, "the older code answered True: nothing left"
    on_disk = read_json(data_dir / "global_context.json")
    assert sorted(on_disk) == ["config", "flags", "system_version"]
    assert on_disk["system_version"]["value"] == "1.0.0"
    _iso(on_disk["system_version"]["updated_at"])


# -- lifecycle -------------------------------------------------------------------------------------------
def test_initialize_and_cleanup_methods(store: JsonMemoryStore, data_dir: Path) -> None:
    assert store.initialize() is True
    assert data_dir.is_dir(), "initialize() makes sure the folder can be written"
    assert store.initialize(user_data_path=str(data_dir)) is True
    assert store.cleanup() is None
    store.store_message(USER, "still usable after cleanup")
    assert len(store.get_recent_messages(USER)) == 1


def test_initialize_with_another_folder_points_the_store_there(store: JsonMemoryStore, tmp_path: Path) -> None:
    """The older ``initialize(user_data_path=...)`` chose the folder; it still does."""
    store.store_message(USER, "in the first folder")
    store.close()
    elsewhere = tmp_path / "elsewhere"
    assert store.initialize(user_data_path=str(elsewhere)) is True
    assert elsewhere.is_dir() and store.user_data_path == str(elsewhere)
    assert store.get_all_users() == []
    store.store_message(USER, "in the second folder")
    assert [m["content"] for m in store.get_recent_messages(USER)] == ["in the second folder"]


def test_the_older_factory_call_sequence(tmp_path: Path) -> None:
    """memory_store_factory.py of the older project: JsonMemoryStore(message_history_limit=...), then
    initialize(user_data_path=...)."""
    store = JsonMemoryStore(message_history_limit=3)
    assert store.message_history_limit == 3
    assert store.initialize(user_data_path=str(tmp_path / "user_data")) is True
    for i in range(5):
        store.store_message(USER, f"m{i}")
    assert [m["content"] for m in store.get_recent_messages(USER)] == ["m2", "m3", "m4"]
    assert (tmp_path / "user_data" / "users_index.json").is_file()
    with pytest.raises(ConfigError, match="MAX_MESSAGES"):
        JsonMemoryStore(message_history_limit=-1)


def test_the_older_test_scripts_call_sequence(fresh_global: Path, tmp_path: Path) -> None:
    """test_json_storage.py of the older project: initialize(DATA_DIR), get_memory_store, store.initialize."""
    data = tmp_path / "test_user_data"
    initialize({"DATA_DIR": str(data)})
    store = get_memory_store()
    assert isinstance(store, JsonMemoryStore)
    assert store.initialize(user_data_path=str(data)) is True
    assert store.create_user(USER, {"name": "Test User"}) is True
    assert store.store_message(USER, "<script>alert('XSS Attack!');</script>") is True
    assert store.get_recent_messages(USER, 1)[0]["content"] == "<script>alert('XSS Attack!');</script>"


def _run_demo_sequence(memory: MemoryStore) -> None:
    """What the older project's demo_json_storage.py did; it wrote the demo fixture."""
    user_id = "demo_user"
    memory.create_user(user_id, {"name": "Demo User", "preferences": {"theme": "light"}})
    memory.store_message(user_id, "Hello Elysia!", is_user=True)
    memory.store_message(user_id, "Hello Demo User! How can I help you today?", is_user=False)
    memory.store_message(user_id, "I'm interested in AI and programming.", is_user=True)
    memory.store_message(user_id, "That's great! I can help you with AI and programming topics.", is_user=False)
    memory.store_user_fact(user_id, "interests", "programming")
    memory.store_user_fact(user_id, "interests", "artificial intelligence")
    memory.store_user_fact(user_id, "location", "New York")
    memory.store_permanent_memory(user_id, "First conversation with Demo User", "first_meeting")
    memory.update_user_profile(user_id, {"bio": "A demo user for testing", "timezone": "UTC-5"})
    memory.update_conversation_metrics(user_id, {"sentiment_score": 0.85, "topics": ["ai", "programming"]})
    memory.set_global_context("system_version", "1.0.0")


TIME_KEYS = {"timestamp", "created_at", "updated_at", "last_updated", "first_interaction", "last_interaction"}


def _mask_times(value: Any) -> Any:
    """The value with every timestamp replaced by a marker (after checking it is ISO 8601)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in TIME_KEYS and item is not None:
                _iso(item)
                out[key] = "<time>"
            else:
                out[key] = _mask_times(item)
        return out
    if isinstance(value, list):
        return [_mask_times(v) for v in value]
    return value


def _contains(big: Any, small: Any, where: str = "") -> None:
    """``big`` holds everything ``small`` holds (dicts may have more keys; lists match item by item)."""
    if isinstance(small, dict):
        assert isinstance(big, dict), where
        for key, value in small.items():
            assert key in big, f"{where}.{key} is missing"
            _contains(big[key], value, f"{where}.{key}")
    elif isinstance(small, list):
        assert isinstance(big, list) and len(big) == len(small), where
        for i, (b, s) in enumerate(zip(big, small, strict=True)):
            _contains(b, s, f"{where}[{i}]")
    else:
        assert big == small, f"{where}: {big!r} != {small!r}"


def test_the_older_demo_sequence_writes_the_demo_fixture(
    fresh_global: Path, tmp_path: Path, fixture_dir: Path
) -> None:
    data = tmp_path / "demo_data"
    initialize({"DATA_DIR": str(data)})
    memory = get_memory_store()
    _run_demo_sequence(memory)
    memory.close()
    files = ["users_index.json", "global_context.json", *(f"demo_user/{p.name}" for p in
                                                           sorted((fixture_dir / "demo_user").iterdir()))]
    for name in files:
        expected = _mask_times(read_json(fixture_dir / name))
        written = _mask_times(read_json(data / name))
        if name.endswith("interaction_metrics.json"):
            # The dates are the day the test runs; the fixture's counts and merged keys are the same.
            expected.pop("interaction_dates")
            assert len(written["interaction_dates"]) == 1
        _contains(written, expected, name)


def test_the_older_factory_keyword_and_reset(fresh_global: Path, tmp_path: Path) -> None:
    """create_memory_store(storage={"message_history_limit": n}) and reset(keep_data=...) of the older package."""
    from memgui.store import create_memory_store, reset

    store = create_memory_store({"DATA_DIR": str(tmp_path / "d")}, storage={"message_history_limit": 2})
    assert store.config.MAX_MESSAGES == 2
    with pytest.raises(ConfigError, match="colour"):
        create_memory_store({"DATA_DIR": str(tmp_path / "d")}, colour="blue")
    initialize({"DATA_DIR": str(tmp_path / "kept")})
    get_memory_store().store_message(USER, "hello")
    reset(keep_data=True)
    assert (tmp_path / "kept").is_dir()
    initialize({"DATA_DIR": str(tmp_path / "kept")})
    assert get_memory_store().get_recent_messages(USER)[0]["content"] == "hello"
    reset()
    assert not (tmp_path / "kept").exists()
