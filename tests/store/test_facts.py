"""Facts: add, update, recategorize, remove; provenance (who and when, the message it came from); the
version log and restoring a version; ConflictError for a fact no longer there; duplicates and validation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from contract_helpers import read_json, read_jsonl

from memgui.store import ConflictError, JsonMemoryStore, MemoryStore, ValidationError

RECORD_KEYS = {"id", "category", "text", "added_at", "added_by", "changed_at", "changed_by",
               "source_message_id", "context_message_id"}


def _record(store: MemoryStore, category: str, text: str) -> dict[str, Any]:
    found = [r for r in store.get_fact_records("u") if (r["category"], r["text"]) == (category, text)]
    assert len(found) == 1, (category, text, store.get_fact_records("u"))
    return found[0]


def _recent(stamp: str) -> None:
    moment = datetime.fromisoformat(stamp)
    assert moment.tzinfo is not None, stamp
    assert abs(datetime.now(timezone.utc) - moment) < timedelta(minutes=5)


# -- add, update, recategorize, remove ----------------------------------------------------------------------
def test_add_with_provenance(any_store: MemoryStore) -> None:
    message = any_store.add_message("u", "user", "I live in Paris now")
    assert any_store.add_user_fact("u", "Lives in Paris", "location") is True
    assert any_store.add_user_fact("u", "Speaks French", "languages", by="import", source_message_id="m-42") is True
    first = _record(any_store, "location", "Lives in Paris")
    assert set(first) == RECORD_KEYS
    assert (first["added_by"], first["changed_by"], first["source_message_id"]) == ("assistant", "assistant", None)
    assert first["context_message_id"] == message["id"], "the message the assistant was answering"
    _recent(first["added_at"])
    assert first["changed_at"] == first["added_at"]
    second = _record(any_store, "languages", "Speaks French")
    assert (second["added_by"], second["source_message_id"], second["context_message_id"]) == (
        "import", "m-42", "m-42")
    assert first["id"] != second["id"]


def test_add_duplicate_is_false_and_logs_nothing(any_store: MemoryStore) -> None:
    assert any_store.add_user_fact("u", "likes tea", "food") is True
    versions = any_store.get_fact_versions("u")
    assert any_store.add_user_fact("u", "likes tea", "food") is False
    assert any_store.get_user_facts("u") == {"food": ["likes tea"]}
    assert any_store.get_fact_versions("u") == versions
    assert any_store.add_user_fact("u", "likes tea", "drinks") is True, "another category is another fact"


def test_update_keeps_identity_position_and_origin(any_store: MemoryStore) -> None:
    for text in ("a", "b", "c"):
        any_store.add_user_fact("u", text, "letters")
    before = _record(any_store, "letters", "b")
    updated = any_store.update_user_fact("u", "letters", "b", "B")
    assert any_store.get_user_facts("u") == {"letters": ["a", "B", "c"]}
    assert updated == _record(any_store, "letters", "B")
    assert (updated["id"], updated["added_at"], updated["added_by"]) == (
        before["id"], before["added_at"], before["added_by"])
    assert updated["changed_by"] == "admin"
    assert datetime.fromisoformat(updated["changed_at"]) >= datetime.fromisoformat(before["changed_at"])
    by_assistant = any_store.update_user_fact("u", "letters", "B", "bee", by="assistant")
    assert by_assistant["changed_by"] == "assistant"


def test_recategorize(any_store: MemoryStore) -> None:
    any_store.add_user_fact("u", "tea", "food")
    any_store.add_user_fact("u", "water", "drinks")
    before = _record(any_store, "food", "tea")
    moved = any_store.update_user_fact("u", "food", "tea", "tea", new_category="drinks")
    assert any_store.get_user_facts("u") == {"drinks": ["water", "tea"]}, "the emptied category disappears"
    assert (moved["id"], moved["category"], moved["added_at"]) == (before["id"], "drinks", before["added_at"])
    both = any_store.update_user_fact("u", "drinks", "tea", "green tea", new_category="favourites")
    assert (both["category"], both["text"], both["id"]) == ("favourites", "green tea", before["id"])
    assert any_store.get_user_facts("u") == {"drinks": ["water"], "favourites": ["green tea"]}


def test_update_to_the_same_state_changes_nothing(any_store: MemoryStore) -> None:
    any_store.add_user_fact("u", "tea", "food")
    versions = any_store.get_fact_versions("u")
    record = _record(any_store, "food", "tea")
    assert any_store.update_user_fact("u", "food", "tea", "tea", new_category="food") == record
    assert any_store.get_fact_versions("u") == versions


def test_remove(any_store: MemoryStore) -> None:
    any_store.add_user_fact("u", "tea", "food")
    any_store.add_user_fact("u", "cake", "food")
    record = _record(any_store, "food", "tea")
    assert any_store.remove_user_fact("u", "food", "tea") == record
    assert any_store.get_user_facts("u") == {"food": ["cake"]}
    any_store.remove_user_fact("u", "food", "cake", by="assistant")
    assert any_store.get_user_facts("u") == {}
    assert any_store.get_user_facts("u", "food") == []


def test_results_are_copies(any_store: MemoryStore) -> None:
    any_store.add_user_fact("u", "tea", "food")
    facts = any_store.get_user_facts("u")
    facts["food"].append("injected")
    any_store.get_fact_records("u")[0]["text"] = "changed"
    assert any_store.get_user_facts("u") == {"food": ["tea"]}


# -- conflicts, duplicates, validation -------------------------------------------------------------------
def test_editing_a_fact_that_is_not_there_is_a_conflict(any_store: MemoryStore) -> None:
    any_store.add_user_fact("u", "tea", "food")
    with pytest.raises(ConflictError, match="coffee"):
        any_store.update_user_fact("u", "food", "coffee", "espresso")
    with pytest.raises(ConflictError, match="tea"):
        any_store.remove_user_fact("u", "drinks", "tea")
    with pytest.raises(ConflictError):
        any_store.update_user_fact("ghost", "food", "tea", "x")
    with pytest.raises(ConflictError):
        any_store.remove_user_fact("ghost", "food", "tea")
    assert not any_store.user_exists("ghost")
    any_store.remove_user_fact("u", "food", "tea")
    with pytest.raises(ConflictError):
        any_store.remove_user_fact("u", "food", "tea")
    assert any_store.get_user_facts("u") == {}


def test_a_stale_edit_from_another_store_is_a_conflict(make_store: Any, data_dir: Path) -> None:
    assistant, admin = make_store(), make_store()
    assistant.add_user_fact("u", "Lives in Paris", "location")
    assert admin.get_user_facts("u") == {"location": ["Lives in Paris"]}   # the admin window reads it
    assistant.update_user_fact("u", "location", "Lives in Paris", "Lives in Lyon", by="assistant")
    with pytest.raises(ConflictError):
        admin.update_user_fact("u", "location", "Lives in Paris", "Lives in Nice")
    with pytest.raises(ConflictError):
        admin.remove_user_fact("u", "location", "Lives in Paris")
    assistant.add_user_fact("u", "Has a cat", "pets")          # appended meanwhile: (category, text) still holds
    admin.update_user_fact("u", "location", "Lives in Lyon", "Lives in Lyon (2025)")
    assert read_json(data_dir / "u" / "user_facts.json")["categories"] == {
        "location": ["Lives in Lyon (2025)"], "pets": ["Has a cat"]}


def test_update_onto_an_existing_fact_is_refused(any_store: MemoryStore) -> None:
    any_store.add_user_fact("u", "tea", "food")
    any_store.add_user_fact("u", "cake", "food")
    any_store.add_user_fact("u", "tea", "drinks")
    with pytest.raises(ValidationError, match="cake"):
        any_store.update_user_fact("u", "food", "tea", "cake")
    with pytest.raises(ValidationError, match="drinks"):
        any_store.update_user_fact("u", "food", "tea", "tea", new_category="drinks")
    assert any_store.get_user_facts("u") == {"food": ["tea", "cake"], "drinks": ["tea"]}


@pytest.mark.parametrize(("call", "match"), [
    (lambda s: s.add_user_fact("u", "", "food"), "fact"),
    (lambda s: s.add_user_fact("u", "   \n", "food"), "empty"),
    (lambda s: s.add_user_fact("u", 42, "food"), "text"),
    (lambda s: s.add_user_fact("u", None, "food"), "fact"),
    (lambda s: s.add_user_fact("u", "tea", ""), "category"),
    (lambda s: s.add_user_fact("u", "tea", None), "category"),
    (lambda s: s.add_user_fact("u", "tea", "food", by="robot"), "robot"),
    (lambda s: s.store_user_fact("u", "food", ""), "fact"),
])
def test_invalid_new_fact_names_what_was_wrong(any_store: MemoryStore, call: Any, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        call(any_store)
    assert not any_store.user_exists("u"), "a refused write creates no user"


@pytest.mark.parametrize(("call", "match"), [
    (lambda s: s.update_user_fact("u", "food", "tea", ""), "fact"),
    (lambda s: s.update_user_fact("u", "food", "tea", "x", new_category=" "), "category"),
    (lambda s: s.update_user_fact("u", "food", "tea", "x", by="someone"), "someone"),
    (lambda s: s.remove_user_fact("u", "food", "tea", by="nobody"), "nobody"),
    (lambda s: s.restore_fact_version("u", "whatever", by="x"), "source"),
])
def test_invalid_edit_names_what_was_wrong(any_store: MemoryStore, call: Any, match: str) -> None:
    any_store.add_user_fact("u", "tea", "food")
    versions = any_store.get_fact_versions("u")
    with pytest.raises(ValidationError, match=match):
        call(any_store)
    assert any_store.get_user_facts("u") == {"food": ["tea"]}
    assert any_store.get_fact_versions("u") == versions


# -- versions and restore ----------------------------------------------------------------------------------
def test_every_change_is_a_version(any_store: MemoryStore) -> None:
    any_store.add_user_fact("u", "tea", "food", by="assistant")
    fact_id = _record(any_store, "food", "tea")["id"]
    any_store.update_user_fact("u", "food", "tea", "green tea")
    any_store.update_user_fact("u", "food", "green tea", "green tea", new_category="drinks", by="assistant")
    any_store.remove_user_fact("u", "drinks", "green tea")
    any_store.add_user_fact("u", "other", "misc")
    versions = any_store.get_fact_versions("u", fact_id)
    assert [(v["action"], v["by"], v["before"], v["after"]) for v in versions] == [
        ("add", "assistant", None, {"category": "food", "text": "tea"}),
        ("update", "admin", {"category": "food", "text": "tea"}, {"category": "food", "text": "green tea"}),
        ("recategorize", "assistant", {"category": "food", "text": "green tea"},
         {"category": "drinks", "text": "green tea"}),
        ("remove", "admin", {"category": "drinks", "text": "green tea"}, None),
    ]
    assert len({v["id"] for v in versions}) == 4
    assert all(v["fact_id"] == fact_id for v in versions)
    for v in versions:
        _recent(v["at"])
    assert len(any_store.get_fact_versions("u")) == 5


def test_restore_an_earlier_version(any_store: MemoryStore) -> None:
    any_store.add_user_fact("u", "tea", "food")
    any_store.add_user_fact("u", "cake", "food")
    fact_id = _record(any_store, "food", "tea")["id"]
    any_store.update_user_fact("u", "food", "tea", "green tea")
    added = any_store.get_fact_versions("u", fact_id)[0]
    restored = any_store.restore_fact_version("u", added["id"])
    assert (restored["id"], restored["category"], restored["text"], restored["changed_by"]) == (
        fact_id, "food", "tea", "admin")
    assert any_store.get_user_facts("u") == {"food": ["tea", "cake"]}, "restored in place"
    last = any_store.get_fact_versions("u", fact_id)[-1]
    assert (last["action"], last["before"], last["after"]) == (
        "restore", {"category": "food", "text": "green tea"}, {"category": "food", "text": "tea"})
    assert any_store.restore_fact_version("u", added["id"]) == restored, "already in that state: no change"
    assert len(any_store.get_fact_versions("u", fact_id)) == 3


def test_restore_a_removed_fact(any_store: MemoryStore) -> None:
    any_store.add_user_fact("u", "tea", "food", source_message_id="m-1")
    record = _record(any_store, "food", "tea")
    removal = any_store.remove_user_fact("u", "food", "tea")
    assert removal["id"] == record["id"]
    [version] = [v for v in any_store.get_fact_versions("u", record["id"]) if v["action"] == "remove"]
    back = any_store.restore_fact_version("u", version["id"], by="admin")
    assert (back["id"], back["category"], back["text"], back["added_by"]) == (record["id"], "food", "tea", "admin")
    assert any_store.get_user_facts("u") == {"food": ["tea"]}


def test_restore_across_categories(any_store: MemoryStore) -> None:
    any_store.add_user_fact("u", "tea", "food")
    fact_id = _record(any_store, "food", "tea")["id"]
    any_store.update_user_fact("u", "food", "tea", "tea", new_category="drinks")
    first = any_store.get_fact_versions("u", fact_id)[0]
    any_store.restore_fact_version("u", first["id"])
    assert any_store.get_user_facts("u") == {"food": ["tea"]}


def test_restore_conflicts_and_duplicates(any_store: MemoryStore) -> None:
    any_store.add_user_fact("u", "tea", "food")
    fact_id = _record(any_store, "food", "tea")["id"]
    any_store.update_user_fact("u", "food", "tea", "green tea")
    any_store.add_user_fact("u", "tea", "food")                   # another fact now has the old text
    first = any_store.get_fact_versions("u", fact_id)[0]
    with pytest.raises(ValidationError, match="tea"):
        any_store.restore_fact_version("u", first["id"])
    with pytest.raises(ConflictError, match="no-such-version"):
        any_store.restore_fact_version("u", "no-such-version")
    with pytest.raises(ConflictError):
        any_store.restore_fact_version("ghost", first["id"])
    assert not any_store.user_exists("ghost")


# -- facts written by the older implementation ---------------------------------------------------------
def test_v1_facts_have_stable_ids_and_can_be_edited(fixture_copy: Path) -> None:
    store = JsonMemoryStore({"DATA_DIR": fixture_copy, "DEFAULT_TIMEZONE": "UTC"})
    records = store.get_fact_records("demo_user")
    assert [(r["category"], r["text"]) for r in records] == [
        ("interests", "programming"), ("interests", "artificial intelligence"), ("location", "New York")]
    assert all(r["added_at"] is None and r["added_by"] is None for r in records)
    ids = [r["id"] for r in records]
    assert len(set(ids)) == 3
    store.close()
    store = JsonMemoryStore({"DATA_DIR": fixture_copy, "DEFAULT_TIMEZONE": "UTC"})
    assert [r["id"] for r in store.get_fact_records("demo_user")] == ids, "derived ids are stable"
    edited = store.update_user_fact("demo_user", "location", "New York", "Brooklyn, New York")
    assert edited["id"] == ids[2]
    store.remove_user_fact("demo_user", "interests", "programming")
    versions = store.get_fact_versions("demo_user")
    # The first change of a v1 fact first records its original state (by "import"), so it can be restored.
    assert [(v["fact_id"], v["action"], v["by"], v["after"]) for v in versions] == [
        (ids[2], "add", "import", {"category": "location", "text": "New York"}),
        (ids[2], "update", "admin", {"category": "location", "text": "Brooklyn, New York"}),
        (ids[0], "add", "import", {"category": "interests", "text": "programming"}),
        (ids[0], "remove", "admin", None),
    ]
    store.update_user_fact("demo_user", "location", "Brooklyn, New York", "Queens")
    assert len(store.get_fact_versions("demo_user", ids[2])) == 3, "the original is recorded once"
    store.restore_fact_version("demo_user", versions[0]["id"])
    store.restore_fact_version("demo_user", versions[3]["id"])
    store.close()
    doc = read_json(fixture_copy / "demo_user" / "user_facts.json")
    assert doc["categories"] == {"interests": ["artificial intelligence", "programming"], "location": ["New York"]}
    logged = read_jsonl(fixture_copy / "demo_user" / "fact_versions.jsonl")
    assert [v["action"] for v in logged] == ["add", "update", "add", "remove", "update", "restore", "restore"]
