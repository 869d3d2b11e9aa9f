"""Export (lossless bundle, Markdown, CSV), import with a dry-run plan and a choice for conflicts, verified erase."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from memgui.store import ConflictError, JsonMemoryStore, ValidationError, build_config


def _store(path: Path, **extra: object) -> JsonMemoryStore:
    return JsonMemoryStore(build_config({"DATA_DIR": path, "MAX_MESSAGES": 5, "DEFAULT_TIMEZONE": "UTC", **extra},
                                        environ={}))


def _fill(store: JsonMemoryStore, user: str = "bob", count: int = 12) -> None:
    store.get_or_create_user(user, "Bob")
    store.update_user_profile(user, {"timezone": "Europe/Paris", "preferences": {"theme": "dark"}, "x-custom": [1]})
    for i in range(count):
        store.add_message(user, "user" if i % 2 == 0 else "assistant", f"message {i} <3 List<int>",
                          timestamp=f"2024-01-{i + 1:02d}T10:00:00+00:00", metadata={"n": i})
    store.add_user_fact(user, "Lives in Paris", "location")
    store.update_user_fact(user, "location", "Lives in Paris", "Lives in Lyon")
    store.store_permanent_memory(user, "met in January", "first_meeting")


def _tree_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_bundle_round_trip_restores_everything(tmp_path: Path) -> None:
    source = _store(tmp_path / "a")
    _fill(source)
    bundle = source.export_user_bundle("bob")
    assert len(bundle["logs"]["archive"]) == 7 and len(bundle["documents"]["history"]["messages"]) == 5
    target = _store(tmp_path / "b")
    plan = target.import_user_bundle(json.loads(json.dumps(bundle)), dry_run=False)
    assert plan.action == "create" and plan.applied
    assert target.get_message_history("bob", include_archived=True) == source.get_message_history(
        "bob", include_archived=True)
    assert target.get_user_profile("bob") == source.get_user_profile("bob")
    assert target.get_fact_records("bob") == source.get_fact_records("bob")
    assert target.get_fact_versions("bob") == source.get_fact_versions("bob")
    assert target.get_permanent_memories("bob") == source.get_permanent_memories("bob")
    assert target.get_conversation_metrics("bob") == source.get_conversation_metrics("bob")


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    source = _store(tmp_path / "a")
    _fill(source)
    target = _store(tmp_path / "b")
    _fill(target, count=4)
    target.close()
    before = _tree_hashes(tmp_path / "b")
    plan = target.import_user_bundle(source.export_user_bundle("bob"), on_conflict="merge", dry_run=True)
    assert plan.action == "merge" and not plan.applied
    assert plan.messages_added == 12  # the ids differ: every source message is new to the target
    assert _tree_hashes(tmp_path / "b") == before


def test_merge_adds_missing_in_time_order_and_keeps_existing_values(tmp_path: Path) -> None:
    source = _store(tmp_path / "a")
    _fill(source)
    source.update_user_profile("bob", {"name": "Robert", "city": "Lyon"})
    source.add_user_fact("bob", "Likes tea", "food")
    target = _store(tmp_path / "b")
    target.get_or_create_user("bob", "Bob")
    target.add_message("bob", "user", "mid-January", timestamp="2024-01-15T09:00:00+00:00")
    plan = target.import_user_bundle(source.export_user_bundle("bob"), on_conflict="merge", dry_run=False)
    assert plan.applied and plan.messages_added == 12 and plan.facts_added == 2
    assert "name" in plan.profile_conflicts and any("city" in line for line in plan.changes)
    history = target.get_message_history("bob", include_archived=True)
    stamps = [m["timestamp"] for m in history]
    assert stamps == sorted(stamps) and len(history) == 13
    assert target.get_user_profile("bob")["name"] == "Bob" and target.get_user_profile("bob")["city"] == "Lyon"
    assert target.get_conversation_metrics("bob")["message_count"] == 13
    again = target.import_user_bundle(source.export_user_bundle("bob"), on_conflict="merge", dry_run=True)
    assert again.messages_added == 0 and again.facts_added == 0


def test_replace_and_skip(tmp_path: Path) -> None:
    source = _store(tmp_path / "a")
    _fill(source)
    target = _store(tmp_path / "b")
    target.add_message("bob", "user", "only here")
    skipped = target.import_user_bundle(source.export_user_bundle("bob"), on_conflict="skip", dry_run=False)
    assert skipped.action == "skip" and [m["content"] for m in target.get_message_history("bob")] == ["only here"]
    replaced = target.import_user_bundle(source.export_user_bundle("bob"), on_conflict="replace", dry_run=False)
    assert replaced.action == "replace"
    contents = [m["content"] for m in target.get_message_history("bob", include_archived=True)]
    assert "only here" not in contents and len(contents) == 12


def test_import_under_another_id_and_bad_bundles(tmp_path: Path) -> None:
    source = _store(tmp_path / "a")
    _fill(source)
    bundle = source.export_user_bundle("bob")
    target = _store(tmp_path / "b")
    target.import_user_bundle(bundle, user_id="robert@example.com", dry_run=False)
    assert target.get_all_users() == ["robert@example.com"]
    with pytest.raises(ValidationError, match="not a memgui user bundle"):
        target.import_user_bundle({"format": "other"})
    broken = json.loads(json.dumps(bundle))
    broken["documents"]["history"] = {"messages": "nope"}
    with pytest.raises(ValidationError, match="messages"):
        target.import_user_bundle(broken)


def test_markdown_and_csv_are_readable_and_complete(tmp_path: Path) -> None:
    store = _store(tmp_path / "a")
    _fill(store)
    markdown = store.export_markdown("bob")
    assert markdown.startswith("# Bob (bob)")
    assert "Lives in Lyon" in markdown and "met in January" in markdown
    assert "message 0 <3 List<int>" in markdown and "### 2024-01-12" in markdown
    rows = list(csv.DictReader(io.StringIO(store.export_csv("bob"))))
    assert [r["content"] for r in rows] == [f"message {i} <3 List<int>" for i in range(12)]
    assert rows[0]["local_time"] == "2024-01-01T11:00:00+01:00"  # the user's zone, Europe/Paris
    target = store.write_export("bob", tmp_path / "bob.json", "json")
    assert store.read_bundle(target)["user_id"] == "bob"
    with pytest.raises(ValidationError, match="format"):
        store.write_export("bob", tmp_path / "x", "pdf")  # type: ignore[arg-type]


def test_erase_leaves_no_byte_of_the_user(tmp_path: Path) -> None:
    root = tmp_path / "a"
    store = _store(root)
    _fill(store, user="victim")
    _fill(store, user="bystander", count=3)
    store.flush()  # the trimmed messages into the archive file, so the report names it
    report = store.erase_user("victim")
    assert report.verified and report.leftovers == []
    assert any("conversation_archive.jsonl" in item for item in report.removed)
    assert any("users_index.json" in item for item in report.removed)
    assert store.get_all_users() == ["bystander"]
    for path in root.rglob("*"):
        assert "victim" not in path.name
        if path.is_file():
            data = path.read_bytes()
            assert b"victim" not in data, path
            assert b"met in January" not in data or "bystander" in str(path), path
    with pytest.raises(ConflictError):
        store.erase_user("victim")
    assert store.get_message_history("bystander")
