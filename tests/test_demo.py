"""memgui.demo.generate: a realistic, deterministic store, with one damaged user."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from memgui.demo import DAMAGED_USER, generate
from memgui.store import CorruptDataError, JsonMemoryStore

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)


def _content(path: Path, seed: int) -> list[object]:
    store = generate(path, users=10, seed=seed, now=NOW)
    out: list[object] = []
    for uid in store.get_all_users():
        profile = store.get_user_profile(uid)
        out.append((uid, profile["name"], profile["timezone"],
                    [(m["role"], m["content"], m["timestamp"]) for m in
                     store.get_message_history(uid, include_archived=True)]))
        if uid != DAMAGED_USER:
            out.append(store.get_user_facts(uid))
    store.close()
    return out


def test_same_seed_same_store(tmp_path: Path) -> None:
    assert _content(tmp_path / "a", 1) == _content(tmp_path / "b", 1)
    assert _content(tmp_path / "c", 2) != _content(tmp_path / "d", 1)


def test_default_store_is_realistic(tmp_path: Path) -> None:
    store = generate(tmp_path / "d", now=NOW)
    users = store.get_all_users()
    assert len(users) == 50
    total = 0
    streaks, lapsed, zones, categories = [], 0, set(), set()
    for uid in users:
        zones.add(store.get_user_profile(uid)["timezone"])
        metrics = store.get_conversation_metrics(uid)
        total += metrics["message_count"]
        streak = store.get_streak(uid, NOW)
        streaks.append(streak.current)
        lapsed += streak.current == 0 and streak.longest > 0
        if uid != DAMAGED_USER:
            categories |= set(store.get_user_facts(uid))
    assert 2000 <= total <= 10_000
    assert max(streaks) >= 30 and lapsed >= 5
    assert any("/" in z for z in zones) and any(z.startswith(("UTC", "GMT", "+")) for z in zones)
    assert len(categories) >= 4
    assert any(store.get_permanent_memories(u) for u in users)
    assert isinstance(store.get_global_context("assistant"), dict)
    history = store.get_message_history("elysia_fan", include_archived=True)
    assert len(history) > 100 and (store.layout.user_dir("elysia_fan") / "conversation_archive.jsonl").exists()
    assert all(datetime.fromisoformat(m["timestamp"]) <= NOW for m in history)
    with pytest.raises(CorruptDataError) as info:
        store.get_user_facts(DAMAGED_USER)
    assert "user_facts.json" in str(info.value)
    assert store.get_user_profile(DAMAGED_USER)["name"]


def test_fixed_count_per_user(tmp_path: Path) -> None:
    store = generate(tmp_path / "e", users=3, messages_per_user=700, damaged=False, now=NOW)
    for uid in store.get_all_users():
        assert len(store.get_message_history(uid, include_archived=True)) == 700
        assert store.get_conversation_metrics(uid)["message_count"] == 700


def _words(text: str) -> set[str]:
    """The words of four letters or more (and numbers), lowercased: what a fact and its message share."""
    return {w for w in re.findall(r"\w+", text.casefold()) if len(w) >= 4 or w.isdigit()}


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JsonMemoryStore]:
    store = generate(tmp_path_factory.mktemp("demo") / "full", now=NOW)
    yield store
    store.close()


def _users(store: JsonMemoryStore) -> list[str]:
    return [u for u in store.get_all_users() if u != DAMAGED_USER]


def test_facts_come_from_user_messages_over_months(full: JsonMemoryStore) -> None:
    moments: list[datetime] = []
    for uid in _users(full):
        history = {m["id"]: m for m in full.get_message_history(uid, include_archived=True)}
        records = full.get_fact_records(uid)
        assert records, uid
        for record in records:
            message = history.get(record["source_message_id"])
            assert message is not None and message["role"] == "user", (uid, record)
            assert record["context_message_id"] == record["source_message_id"]
            first = full.get_fact_versions(uid, record["id"])[0]
            assert (first["action"], first["by"], first["at"]) == ("add", "assistant", record["added_at"])
            said = _words(message["content"])
            assert _words(first["after"]["text"]) & said and _words(record["text"]) & said, (record, message)
            added, sent = _at(record["added_at"]), _at(message["timestamp"])
            assert record["added_by"] == "assistant"
            assert sent < added <= min(sent + timedelta(minutes=1), NOW), (record, message)
            moments.append(added)
        days = {_at(r["added_at"]).date() for r in records}
        assert len(days) > 1 or len(records) == 1, (uid, records)  # not all at one moment
    assert len({(m.year, m.month) for m in moments}) >= 4  # spread over months
    assert max(moments) - min(moments) > timedelta(days=90)
    assert all(m < NOW - timedelta(seconds=1) for m in moments[:-1]) and NOW not in moments


def test_some_facts_are_corrected_by_an_admin_later(full: JsonMemoryStore) -> None:
    corrected, total = 0, 0
    for n, uid in enumerate(_users(full)):
        records = full.get_fact_records(uid)
        total += len(records)
        by_admin = [r for r in records if r["changed_by"] == "admin"]
        corrected += len(by_admin)
        if n < 2:  # the first users (elysia_fan, alice.smith) show one at least
            assert by_admin, uid
        for record in by_admin:
            add, update = full.get_fact_versions(uid, record["id"])
            assert (add["action"], add["by"], update["action"], update["by"]) == ("add", "assistant", "update",
                                                                                  "admin")
            assert update["before"]["text"] == add["after"]["text"] != update["after"]["text"] == record["text"]
            assert _at(record["added_at"]) < _at(update["at"]) == _at(record["changed_at"]) < NOW
        unchanged = [r for r in records if r["changed_by"] != "admin"]
        assert all(r["changed_at"] == r["added_at"] and r["changed_by"] == "assistant" for r in unchanged)
        log = [_at(v["at"]) for v in full.get_fact_versions(uid)]
        assert log == sorted(log), uid  # written in the order it happened
    assert 0.04 <= corrected / total <= 0.3, (corrected, total)


def test_memories_are_stored_when_a_user_mentioned_them(full: JsonMemoryStore) -> None:
    moments = []
    for uid in _users(full):
        said = [m for m in full.get_message_history(uid, include_archived=True) if m["role"] == "user"]
        for entries in full.get_permanent_memories(uid).values():
            for memory in entries:
                created = _at(memory["created_at"])
                assert memory["updated_at"] == memory["created_at"] and created <= NOW
                assert any(_at(m["timestamp"]) < created <= _at(m["timestamp"]) + timedelta(minutes=1)
                           and _words(memory["content"]) & _words(m["content"]) for m in said), (uid, memory)
                moments.append(created)
    assert len(moments) >= 10
    assert max(moments) - min(moments) > timedelta(days=60)


def test_the_store_keeps_the_real_clock_after_generation(tmp_path: Path) -> None:
    store = generate(tmp_path / "f", users=2, damaged=False, now=NOW)
    assert abs(store.clock() - datetime.now(timezone.utc)) < timedelta(minutes=5)
    store.add_user_fact("elysia_fan", "Likes the demo", "preferences")
    added = next(r["added_at"] for r in store.get_fact_records("elysia_fan") if r["text"] == "Likes the demo")
    assert abs(_at(added) - datetime.now(timezone.utc)) < timedelta(minutes=5)
    store.close()


@pytest.mark.parametrize("hour", [0, 3, 6, 12, 16, 21])
def test_no_message_is_in_the_future_at_any_hour(tmp_path: Path, hour: int) -> None:
    """Where the user's day has just begun (Tokyo at 16:00 UTC is 01:00), their messages of today fall
    between midnight and now, not at the usual hour of the morning still to come."""
    now = datetime(2026, 12, 7, hour, 9, tzinfo=timezone.utc)
    store = generate(tmp_path / "s", users=24, now=now)
    for uid in store.get_all_users():
        if uid == DAMAGED_USER:
            continue
        history = store.get_message_history(uid, include_archived=True)
        assert all(datetime.fromisoformat(m["timestamp"]) <= now for m in history), uid
    store.close()
