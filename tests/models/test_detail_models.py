"""Facts, memories, profile and global context models: the tester, and diffs that keep rows and indexes."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex

from memgui.models.facts_model import COL_TEXT, FactRow, FactsModel
from memgui.models.json_tree_model import GlobalContextModel, ProfileModel
from memgui.models.memories_model import MemoriesModel, MemoryRow
from memgui.models.roles import ROW_ROLE
from memgui.models.store_worker import load_details
from memgui.store import JsonMemoryStore


def _fact(fid: str, text: str, category: str = "work") -> FactRow:
    return FactRow(fid, category, text, "2026-01-01 10:00", "assistant", "", "", "")


def _events(model: Any) -> list[str]:
    seen: list[str] = []
    model.rowsInserted.connect(lambda *a: seen.append("insert"))
    model.rowsRemoved.connect(lambda *a: seen.append("remove"))
    model.rowsMoved.connect(lambda *a: seen.append("move"))
    model.dataChanged.connect(lambda *a: seen.append("change"))
    model.modelReset.connect(lambda *a: seen.append("reset"))
    return seen


def test_facts_model_diff(qtmodeltester: object, qapp: object) -> None:
    model = FactsModel()
    model.replace_rows([_fact("1", "Nurse"), _fact("2", "Tea"), _fact("3", "Runs")])
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    keep = QPersistentModelIndex(model.index(2, COL_TEXT))
    events = _events(model)
    model.apply_rows([_fact("3", "Runs daily"), _fact("1", "Nurse"), _fact("4", "Piano")])
    assert "reset" not in events and {"insert", "remove", "move", "change"} <= set(events)
    assert [r.text for r in model.rows] == ["Runs daily", "Nurse", "Piano"]
    assert keep.isValid() and keep.data() == "Runs daily"  # the edited fact kept its index
    assert model.index(2, 0).data(ROW_ROLE).id == "4"


def test_memories_model(qtmodeltester: object, qapp: object) -> None:
    model = MemoriesModel()
    model.apply_rows([MemoryRow("milestone", 0, "Got the job", "a", "b"), MemoryRow("preference", 0, "Tea", "a", "b")])
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    model.apply_rows([MemoryRow("preference", 0, "Coffee", "a", "c")])
    assert model.rowCount() == 1 and model.index(0, 1).data() == "Coffee"


def test_json_tree_models_diff_nested_values(qtmodeltester: object, qapp: object) -> None:
    model = GlobalContextModel()
    model.replace_entries([("assistant", {"name": "Elysia", "model": {"t": 0.7, "stop": ["a", "b"]}}, "x"),
                           ("version", "1.0", "y"), ("flags", [1, 2, 3], "z")])
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assistant = model.index(0, 0)
    assert model.rowCount(assistant) == 2 and model.index(0, 1).data() == "{2 keys}"
    inner = model.index(1, 0, assistant)
    assert inner.data() == "model" and model.index(1, 0, inner).data() == "stop"
    keep = QPersistentModelIndex(model.index(2, 0))
    events = _events(model)
    model.apply_entries([("version", "1.1", "y2"), ("flags", [1, 2, 3], "z"), ("new", {"k": None}, "")])
    assert "reset" not in events
    assert [model.index(r, 0).data() for r in range(3)] == ["version", "flags", "new"]
    assert model.index(0, 1).data() == "1.1" and model.index(0, 2).data() == "y2"
    assert keep.isValid() and keep.data() == "flags"
    new = model.index(2, 0)
    assert model.index(0, 1, new).data() == "null"
    model.apply_entries([("flags", [1], "z")])
    assert model.rowCount(model.index(0, 0)) == 1 and model.rowCount(QModelIndex()) == 1


def test_profile_model_from_details(demo: JsonMemoryStore, qtmodeltester: object) -> None:
    details = load_details(demo, "elysia_fan")
    model = ProfileModel()
    model.replace_entries(details.profile or [])
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    keys = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert {"name", "timezone", "preferences"} <= set(keys)
    assert details.facts and all(f.added for f in details.facts)
    damaged = load_details(demo, "mallory")
    assert damaged.facts is None and "user_facts.json" in damaged.errors["facts"]
    assert damaged.profile is not None  # the rest still reads
