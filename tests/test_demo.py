"""memgui.demo.generate: a realistic, deterministic store, with one damaged user."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from memgui.demo import DAMAGED_USER, generate
from memgui.store import CorruptDataError

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
