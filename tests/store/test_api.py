"""The seed's usage example, verbatim, and the documented API of STORE.md ("Package API", "Documented API")."""

from __future__ import annotations

import inspect
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from contract_helpers import config_for, read_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seed_text import SEED_CONFIG_EXAMPLE, SEED_USAGE_EXAMPLE, seed_document

import memgui.store as store_pkg
from memgui.store import (
    ConfigError,
    ConflictError,
    CorruptDataError,
    EncryptionError,
    InvalidUserIdError,
    JsonMemoryStore,
    MemoryStore,
    MemoryStoreError,
    ValidationError,
    create_memory_store,
    get_memory_store,
    initialize,
)

MESSAGE_KEYS = {"id", "role", "content", "timestamp", "is_user", "metadata", "word_count"}


def _run_seed_example() -> dict[str, Any]:
    code = SEED_USAGE_EXAMPLE.replace(
        "from memory_management import initialize, get_memory_store",
        "from memgui.store import initialize, get_memory_store",
    )
    assert "memory_management" not in code
    namespace: dict[str, Any] = {}
    exec(compile(code, "seed-usage-example", "exec"), namespace)
    return namespace


def test_the_embedded_example_is_the_seeds_text_verbatim() -> None:
    seed = seed_document()
    if seed is None:
        pytest.skip("the seed document is not beside this checkout")
    assert SEED_USAGE_EXAMPLE in seed
    assert SEED_CONFIG_EXAMPLE in seed


def test_seed_usage_example_runs_and_answers_as_documented(fresh_global: Path) -> None:
    days = {date.today()}
    ns = _run_seed_example()
    days.add(date.today())  # the example may straddle local midnight

    memory = ns["memory"]
    assert isinstance(memory, JsonMemoryStore)
    assert memory is get_memory_store()
    assert ns["user"]["name"] == "JohnDoe"
    datetime.fromisoformat(ns["user"]["created_at"])
    [message] = ns["messages"]
    assert set(message) >= MESSAGE_KEYS
    assert (message["role"], message["content"], message["is_user"], message["word_count"]) == (
        "user", "Hello, Elysia!", True, 2)
    assert ns["facts"] == {"location": ["Lives in New York"]}
    streak = ns["streak_data"]
    assert set(streak) == {"current_streak", "longest_streak", "last_interaction"}
    assert (streak["current_streak"], streak["longest_streak"]) == (1, 1)
    assert date.fromisoformat(streak["last_interaction"]) in days

    # DATA_DIR defaults to ./data, in the v1 layout that older readers expect.
    memory.flush()
    folder = fresh_global / "data" / "user123"
    assert read_json(fresh_global / "data" / "users_index.json") == {"users": ["user123"]}
    assert read_json(folder / "user_profile.json")["name"] == "JohnDoe"
    history = read_json(folder / "conversation_history.json")["messages"]
    assert [m["content"] for m in history] == ["Hello, Elysia!"]
    assert read_json(folder / "user_facts.json")["categories"] == {"location": ["Lives in New York"]}
    metrics = read_json(folder / "interaction_metrics.json")
    assert (metrics["message_count"], metrics["total_words"], metrics["streak_days"]) == (1, 2, 1)


def test_seed_configuration_example(fresh_global: Path, tmp_path: Path) -> None:
    target = tmp_path / "custom" / "path" / "to" / "data"
    code = SEED_CONFIG_EXAMPLE.replace("from memory_management import", "from memgui.store import").replace(
        '"/custom/path/to/data"', repr(str(target)))
    exec(compile(code, "seed-config-example", "exec"), {})
    store = get_memory_store()
    assert store.config.MAX_MESSAGES == 100
    assert target == store.config.DATA_DIR
    assert not target.exists(), "configuring must not create DATA_DIR"
    store.add_message("u", "user", "hi")
    assert (target / "u" / "user_profile.json").is_file()


# -- package API ---------------------------------------------------------------------------------------
def test_package_exports_the_contract_names() -> None:
    for name in ("initialize", "get_memory_store", "create_memory_store", "MemoryStore", "JsonMemoryStore",
                 "MemoryStoreError", "ConfigError", "InvalidUserIdError", "CorruptDataError",
                 "EncryptionError", "ConflictError"):
        assert name in store_pkg.__all__, name
        assert hasattr(store_pkg, name), name


def test_memory_store_is_abstract() -> None:
    assert inspect.isabstract(MemoryStore)
    with pytest.raises(TypeError):
        MemoryStore()  # type: ignore[abstract]
    assert issubclass(JsonMemoryStore, MemoryStore)


def test_error_hierarchy() -> None:
    for error in (ConfigError, InvalidUserIdError, CorruptDataError, EncryptionError, ConflictError,
                  ValidationError):
        assert issubclass(error, MemoryStoreError), error
    assert issubclass(InvalidUserIdError, ValueError)
    err = CorruptDataError(Path("/x/user_facts.json"), "not JSON")
    assert err.path == Path("/x/user_facts.json")
    assert "/x/user_facts.json" in str(err)


def test_initialize_builds_and_replaces_the_process_wide_store(fresh_global: Path, tmp_path: Path) -> None:
    first = initialize({"DATA_DIR": tmp_path / "one"})
    assert get_memory_store() is first
    second = initialize({"data_dir": tmp_path / "two", "max_messages": 7})
    assert get_memory_store() is second is not first
    assert (tmp_path / "two", 7) == (second.config.DATA_DIR, second.config.MAX_MESSAGES)


def test_get_memory_store_initializes_with_defaults_on_first_use(fresh_global: Path) -> None:
    store = get_memory_store()
    assert isinstance(store, JsonMemoryStore)
    assert Path("data") == store.config.DATA_DIR
    assert get_memory_store() is store


def test_create_memory_store_returns_new_stores(tmp_path: Path) -> None:
    a = create_memory_store({"DATA_DIR": tmp_path, "DEFAULT_TIMEZONE": "UTC"})
    b = create_memory_store({"DATA_DIR": tmp_path, "DEFAULT_TIMEZONE": "UTC"})
    assert isinstance(a, JsonMemoryStore) and a is not b
    a.add_message("u", "user", "seen by both")
    assert [m["content"] for m in b.get_message_history("u")] == ["seen by both"]


# -- documented API --------------------------------------------------------------------------------------
def test_add_message_returns_the_stored_message(any_store: MemoryStore) -> None:
    stamp = "2025-05-01T10:00:00+02:00"
    msg = any_store.add_message("u", "assistant", "two words", timestamp=stamp, metadata={"mood": "calm"})
    assert set(msg) >= MESSAGE_KEYS
    assert (msg["role"], msg["is_user"], msg["timestamp"], msg["metadata"], msg["word_count"]) == (
        "assistant", False, stamp, {"mood": "calm"}, 2)
    assert any_store.get_message_history("u") == [msg]


@pytest.mark.parametrize("role", ["user", "assistant", "system"])
def test_every_role_is_stored(any_store: MemoryStore, role: str) -> None:
    any_store.add_message("u", role, "x")
    [msg] = any_store.get_message_history("u")
    assert msg["role"] == role
    assert msg["is_user"] is (role == "user")


@pytest.mark.parametrize("role", ["User", "bot", "", None])
def test_unknown_role_is_a_validation_error(any_store: MemoryStore, role: Any) -> None:
    with pytest.raises(ValidationError, match="role"):
        any_store.add_message("u", role, "x")
    assert not any_store.user_exists("u")


def test_history_order_and_limit(any_store: MemoryStore) -> None:
    for i in range(6):
        any_store.add_message("u", "user" if i % 2 == 0 else "assistant", f"m{i}")
    contents = [m["content"] for m in any_store.get_message_history("u")]
    assert contents == [f"m{i}" for i in range(6)]
    assert [m["content"] for m in any_store.get_message_history("u", 2)] == ["m4", "m5"]
    assert [m["content"] for m in any_store.get_message_history("u", limit=0)] == contents
    assert [m["content"] for m in any_store.get_message_history("u", None)] == contents
    assert [m["content"] for m in any_store.get_message_history("u", 60)] == contents
    with pytest.raises(ValidationError, match="limit"):
        any_store.get_message_history("u", -1)


def test_history_without_offset_is_stored_as_given_and_read_in_default_zone(make_store: Any) -> None:
    store = make_store(DEFAULT_TIMEZONE="Asia/Tokyo")
    store.add_message("u", "user", "naive", timestamp="2025-03-01T23:30:00")
    store.add_message("u", "user", "aware", timestamp="2025-03-01T23:30:00+00:00")
    assert [m["timestamp"] for m in store.get_message_history("u")] == [
        "2025-03-01T23:30:00", "2025-03-01T23:30:00+00:00"]
    # naive: 23:30 in Tokyo is 1 March there; aware: 23:30 UTC is 2 March in Tokyo.
    assert store.get_conversation_metrics("u")["interaction_dates"] == ["2025-03-01", "2025-03-02"]


def test_datetime_timestamps_are_accepted(any_store: MemoryStore) -> None:
    moment = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5)))
    msg = any_store.add_message("u", "user", "x", timestamp=moment)
    assert datetime.fromisoformat(msg["timestamp"]) == moment
    with pytest.raises(ValidationError, match="timestamp"):
        any_store.add_message("u", "user", "x", timestamp="yesterday-ish")


@pytest.mark.parametrize("text", [
    "I <3 you", "List<int>", "<script>alert(1)</script>", "<b>bold</b> & &amp;", "  spaced  \n\ttext ",
    "émoji 🎉 ünïcödé", "", "line\r\nbreak", "\u202ertl", "null\x00byte",
])
def test_text_is_stored_verbatim(store: JsonMemoryStore, text: str) -> None:
    store.add_message("u", "user", text, metadata={"note": text})
    [msg] = store.get_message_history("u")
    assert (msg["content"], msg["metadata"]["note"]) == (text, text)
    if text.strip():
        assert store.add_user_fact("u", text, "cat<1>") is True
        assert store.get_user_facts("u") == {"cat<1>": [text]}
    store.set_global_context("k<1>", text)
    assert store.get_global_context("k<1>") == text
    store.update_user_profile("u", {"bio": text})
    store.close()
    again = JsonMemoryStore(store.config)
    assert again.get_message_history("u")[0]["content"] == text
    assert again.get_user_profile("u")["bio"] == text


def test_add_user_fact_true_then_false(any_store: MemoryStore) -> None:
    assert any_store.add_user_fact("u", "Lives in New York", "location") is True
    assert any_store.add_user_fact("u", "Lives in New York", "location") is False
    assert any_store.add_user_fact("u", "Lives in New York", "home") is True
    assert any_store.get_user_facts("u") == {"location": ["Lives in New York"], "home": ["Lives in New York"]}


def test_fact_editing_for_the_gui(any_store: MemoryStore) -> None:
    any_store.add_user_fact("u", "likes tea", "food")
    any_store.update_user_fact("u", "food", "likes tea", "likes green tea")
    any_store.update_user_fact("u", "food", "likes green tea", "likes green tea", new_category="drinks")
    assert any_store.get_user_facts("u") == {"drinks": ["likes green tea"]}
    any_store.remove_user_fact("u", "drinks", "likes green tea")
    assert any_store.get_user_facts("u") == {}
    with pytest.raises(ConflictError):
        any_store.remove_user_fact("u", "drinks", "likes green tea")
    with pytest.raises(ConflictError):
        any_store.update_user_fact("u", "drinks", "likes green tea", "x")


def test_update_streak_documented_shape(any_store: MemoryStore) -> None:
    any_store.get_or_create_user("u")
    got = any_store.update_streak("u", datetime(2025, 6, 1, 12, tzinfo=timezone.utc))
    assert got == {"current_streak": 1, "longest_streak": 1, "last_interaction": "2025-06-01"}


def test_rename_user_moves_everything(any_store: MemoryStore) -> None:
    any_store.get_or_create_user("old", "Ann")
    any_store.add_message("old", "user", "hello")
    any_store.add_user_fact("old", "likes tea", "food")
    any_store.store_permanent_memory("old", "met in May", "first_meeting")
    any_store.rename_user("old", "new.id@example")
    assert any_store.get_all_users() == ["new.id@example"]
    assert not any_store.user_exists("old")
    assert any_store.get_user_profile("new.id@example")["name"] == "Ann"
    assert [m["content"] for m in any_store.get_message_history("new.id@example")] == ["hello"]
    assert any_store.get_user_facts("new.id@example") == {"food": ["likes tea"]}
    assert any_store.get_permanent_memories("new.id@example", "first_meeting")[0]["content"] == "met in May"
    with pytest.raises(ConflictError):
        any_store.rename_user("old", "other")
    any_store.get_or_create_user("other")
    with pytest.raises(ConflictError):
        any_store.rename_user("new.id@example", "other")


def test_rename_reattaches_data_the_older_code_filed_under_a_stripped_id(fixture_copy: Path) -> None:
    # The older implementation stored "demo.user" as "demouser"; an admin re-attaches it to the real id.
    (fixture_copy / "demo_user").rename(fixture_copy / "demouser")
    store = JsonMemoryStore({"DATA_DIR": fixture_copy, "DEFAULT_TIMEZONE": "UTC"})
    try:
        assert store.get_all_users() == ["demouser"]
        store.rename_user("demouser", "demo.user")
        assert store.get_all_users() == ["demo.user"]
        assert store.get_user_profile("demo.user")["name"] == "Demo User"
        assert len(store.get_message_history("demo.user")) == 4
        assert "demouser" not in read_json(fixture_copy / "users_index.json")["users"]
    finally:
        store.close()


@pytest.mark.parametrize("bad", ["", "   ", None, 42, "a\nb", "x" * 129])
def test_ids_that_cannot_be_stored_raise(any_store: MemoryStore, bad: Any) -> None:
    with pytest.raises(InvalidUserIdError):
        any_store.add_message(bad, "user", "x")
    with pytest.raises(ValueError):  # InvalidUserIdError is also a ValueError, as the older code raised
        any_store.get_user_profile(bad)


def test_ids_are_stripped_and_kept_apart(any_store: MemoryStore) -> None:
    any_store.add_message("  alice.smith ", "user", "dot")
    any_store.add_message("alicesmith", "user", "no dot")
    assert any_store.get_all_users() == ["alice.smith", "alicesmith"]
    assert [m["content"] for m in any_store.get_message_history("alice.smith")] == ["dot"]
    assert [m["content"] for m in any_store.get_message_history("alicesmith")] == ["no dot"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200), metadata=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=3))
def test_any_text_round_trips_verbatim(tmp_path: Path, text: str, metadata: dict[str, str]) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    store = JsonMemoryStore(config_for(folder))
    stored = store.add_message("u", "user", text, metadata=metadata)
    assert (stored["content"], stored["metadata"]) == (text, metadata)
    if text.strip():
        store.add_user_fact("u", text, text)
    store.close()
    again = JsonMemoryStore(config_for(folder))
    [msg] = again.get_message_history("u")
    assert (msg["content"], msg["metadata"], msg["word_count"]) == (text, metadata, len(text.split()))
    assert again.get_user_facts("u") == ({text: [text]} if text.strip() else {})
    again.close()
