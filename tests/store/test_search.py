"""Store-wide search (memgui.store.search) over real stores: every kind of record, filters, updates from this
and another process, hand edits by older code, a damaged or deleted index, read-only and encrypted stores."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from conftest import StoreMaker
from support.writer_process import Writer

from memgui.store import MemoryStore
from memgui.store.search import Filters, Hit, SearchIndex
from memgui.store.search.index import INDEX_NAME, placement


def hits(index: SearchIndex, query: str, filters: Filters | None = None, limit: int = 200) -> list[Hit]:
    return [hit for batch in index.search(query, filters, limit) for hit in batch]


def where(found: list[Hit]) -> set[tuple[str, str]]:
    return {(hit.user, hit.kind) for hit in found}


def fill(store: MemoryStore) -> None:
    store.add_message("alice", "user", "I moved to Lisbon last year, near the Café São Bento",
                      timestamp="2024-03-01T10:00:00+00:00")
    store.add_message("alice", "assistant", "Lisbon is lovely in spring", timestamp="2024-03-02T10:00:00+00:00")
    store.add_message("bob", "user", "私は東京に住んでいます 😀 مَرْحَبًا", timestamp="2024-05-01T10:00:00+00:00")
    store.add_user_fact("bob", "Vegetarian since 2019", "diet")
    store.store_permanent_memory("bob", "Loves the trams of Lisbon", "places")
    store.update_user_profile("carol", {"timezone": "Europe/Lisbon", "name": "Carol"})
    store.set_global_context("motto", "Stay curious, even in Lisbon")


def test_every_kind_of_record_is_found_in_every_backend(any_store: MemoryStore) -> None:
    fill(any_store)
    index = SearchIndex(any_store)
    try:
        report = index.sync()
        assert report.reindexed == report.users == 4  # three users and the global context
        assert where(hits(index, "lisbon")) == {("alice", "message"), ("bob", "memory"), ("carol", "profile"),
                                                 ("", "global")}
        fact = hits(index, "veg*")
        assert [(h.user, h.kind, h.field) for h in fact] == [("bob", "fact", "diet")]
        assert fact[0].ref == any_store.get_fact_records("bob")[0]["id"]
        message = hits(index, '"sao bento"')
        assert message[0].ref == any_store.get_message_history("alice")[0]["id"]
        assert message[0].snippet[message[0].start:message[0].end] == "São Bento"
        for query in ("東京", "مرحبا", "😀", "ＴＯＫＹＯ東京"[5:]):
            assert where(hits(index, query)) == {("bob", "message")}, query
    finally:
        index.close()


def test_filters(make_store: StoreMaker) -> None:
    store = make_store()
    fill(store)
    index = SearchIndex(store)
    index.sync()
    only = Filters(kinds=frozenset({"message"}), role="assistant")
    assert [h.snippet for h in hits(index, "lisbon", only)] == ["Lisbon is lovely in spring"]
    assert where(hits(index, "lisbon", Filters(user="bob"))) == {("bob", "memory")}
    dated = Filters(kinds=frozenset({"message"}), since=date(2024, 3, 2), until=date(2024, 3, 2))
    assert [h.role for h in hits(index, "lisbon", dated)] == ["assistant"]
    assert len(hits(index, "lisbon", limit=2)) == 2
    assert hits(index, "   ") == []
    index.close()


def test_the_index_follows_this_process_and_another_one(make_store: StoreMaker, tmp_path: Path) -> None:
    store = make_store()
    fill(store)
    index = SearchIndex(store)
    index.sync()
    assert index.sync().reindexed == 0  # nothing changed: nothing read
    store.remove_user_fact("bob", "diet", "Vegetarian since 2019")
    writer = Writer(tmp_path / "data")
    try:
        writer.call("add_message", user="dora", content="Zanzibar next summer")
        writer.call("store_memory", user="alice", content="Zanzibar spices")
        writer.call("erase_user", user="carol")
    finally:
        writer.close()
    report = index.sync()
    assert report.reindexed == 4  # bob, dora, alice, and the global bookkeeping; carol dropped
    assert where(hits(index, "zanzibar")) == {("dora", "message"), ("alice", "memory")}
    assert hits(index, "vegetarian") == []
    assert ("carol", "profile") not in where(hits(index, "lisbon"))
    index.close()


def test_hand_edits_of_the_older_code_are_seen(make_store: StoreMaker, tmp_path: Path) -> None:
    store = make_store()
    fill(store)
    index = SearchIndex(store)
    index.sync()
    store.close()
    facts_file = next((tmp_path / "data").glob("*/user_facts.json"))
    doc = json.loads(facts_file.read_text("utf-8"))
    doc["categories"]["diet"] = ["Pescatarian now"]
    facts_file.write_text(json.dumps(doc), "utf-8")
    reopened = make_store()
    again = SearchIndex(reopened)
    assert again.sync().reindexed >= 1
    assert where(hits(again, "pescatarian")) == {("bob", "fact")}
    assert hits(again, "vegetarian") == []
    again.close()
    index.close()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "deleted", "other version"])
def test_a_damaged_or_deleted_index_is_rebuilt(make_store: StoreMaker, tmp_path: Path, damage: str) -> None:
    store = make_store()
    fill(store)
    index = SearchIndex(store)
    index.sync()
    path = tmp_path / "data" / ".memgui" / INDEX_NAME
    assert index.path == path and path.is_file()
    index.close()
    if damage == "garbage":
        path.write_bytes(b"this is not a database at all" * 100)
    elif damage == "truncated":
        with path.open("r+b") as f:
            f.truncate(3000)
    elif damage == "deleted":
        path.unlink()
    else:
        import sqlite3

        conn = sqlite3.connect(path)
        conn.execute("PRAGMA user_version=99")
        conn.commit()
        conn.close()
    fresh = SearchIndex(store)
    report = fresh.sync()
    assert report.reindexed == 4
    assert report.rebuilt == (damage != "deleted")
    assert where(hits(fresh, "lisbon")) == {("alice", "message"), ("bob", "memory"), ("carol", "profile"),
                                             ("", "global")}
    fresh.close()


def test_an_index_deleted_while_open_is_made_again(make_store: StoreMaker, tmp_path: Path) -> None:
    store = make_store()
    fill(store)
    index = SearchIndex(store)
    index.sync()
    index.engine.discard_files()
    assert index.sync().reindexed == 4
    assert (tmp_path / "data" / ".memgui" / INDEX_NAME).is_file()
    assert len(hits(index, "lisbon")) == 5
    index.close()


def test_read_only_writes_nothing_in_the_store(make_store: StoreMaker, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    store = make_store()
    fill(store)
    index = SearchIndex(store, read_only=True)
    index.sync()
    assert not (tmp_path / "data" / ".memgui" / INDEX_NAME).exists()
    assert index.path is not None and index.path.is_relative_to(tmp_path / "cache")
    assert len(hits(index, "lisbon")) == 5
    index.close()


def test_an_encrypted_store_has_no_plaintext_index_unless_asked(make_store: StoreMaker, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    store = make_store(ENCRYPTION_ENABLED=True, ENCRYPTION_KEY="correct horse battery staple")
    fill(store)
    index = SearchIndex(store)
    index.sync()
    assert index.path is None and index.where() == "memory"
    assert len(hits(index, "lisbon")) == 5
    index.close()
    written = [p for p in tmp_path.rglob("*") if p.is_file() and "search" in p.name]
    assert written == []
    assert placement(store, read_only=False, plaintext_ok=True) == tmp_path / "data" / ".memgui" / INDEX_NAME


def test_hostile_text_is_found_and_shown_flat(make_store: StoreMaker) -> None:
    store = make_store()
    big = "filler " * 750_000 + "<script>alert('Lisbon')</script>"
    store.add_message("eve", "user", big)
    store.add_message("eve", "user", "\u202egnp.exe Lisbon <img src=x onerror=alert(1)>")
    index = SearchIndex(store)
    index.sync()
    found = hits(index, "lisbon")
    assert len(found) == 2
    for hit in found:
        assert "\u202e" not in hit.snippet and "\n" not in hit.snippet and len(hit.snippet) < 400
        assert hit.snippet[hit.start:hit.end] == "Lisbon"
    assert any("<img src=x" in hit.snippet for hit in found)
    index.close()


def test_two_processes_share_one_index_file(make_store: StoreMaker, tmp_path: Path) -> None:
    store = make_store()
    fill(store)
    first, second = SearchIndex(store), SearchIndex(make_store())
    first.sync()
    assert second.sync().reindexed == 0  # the other's work is reused
    store.add_message("alice", "user", "Zanzibar")
    assert second.sync().reindexed == 1
    assert first.sync().reindexed == 0
    assert where(hits(first, "zanzibar")) == {("alice", "message")}
    first.close()
    second.close()
    assert os.path.exists(tmp_path / "data" / ".memgui" / INDEX_NAME)
