"""The editable models under the tester while edits go through them, and the edits themselves: inverses,
rollback of a refused multi-edit, rebasing for "Reapply", and the move preview."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt

from memgui.models.edit_commands import EditController
from memgui.models.edits import CompositeEdit, FactAdd, FactRemove, FactUpdate, fact_move_plan, find_fact
from memgui.models.fact_history_model import FactHistoryModel, version_rows
from memgui.models.facts_model import COL_CATEGORY, COL_TEXT, FactsModel
from memgui.models.json_edits import GlobalEdit, MemoryUpdate, ProfileEdit
from memgui.models.json_tree_model import COL_VALUE, GlobalContextModel, ProfileModel
from memgui.models.memories_model import COL_CONTENT, MemoriesModel
from memgui.models.roles import ROW_ROLE
from memgui.models.store_worker import global_entries, load_details
from memgui.store import ABSENT, ConflictError, JsonMemoryStore, build_config

UID = "bruno"


@pytest.fixture
def editor(demo: JsonMemoryStore, owner: QObject) -> EditController:
    controller = EditController(demo, owner)
    controller.user_id = UID
    return controller


def _follow(controller: EditController, store: JsonMemoryStore, models: dict[str, Any]) -> None:
    """Show every change again as the window does: diffs through the apply methods."""

    def show(scope: str) -> None:
        if scope == "":
            models["global"].apply_entries(global_entries(store))
            return
        details = load_details(store, scope)
        models["facts"].apply_rows(details.facts or [])
        models["memories"].apply_rows(details.memories or [])
        models["profile"].apply_entries(details.profile or [])

    controller.changed.connect(show)


def test_models_pass_the_tester_while_edited(demo: JsonMemoryStore, editor: EditController, owner: QObject,
                                             qtmodeltester: Any) -> None:
    demo.store_permanent_memory(UID, "Prefers short answers", "style")
    details = load_details(demo, UID)
    facts, memories = FactsModel(owner), MemoriesModel(owner)
    profile, context = ProfileModel(owner), GlobalContextModel(owner)
    facts.replace_rows(details.facts or [])
    memories.replace_rows(details.memories or [])
    profile.replace_entries(details.profile or [])
    context.replace_entries(global_entries(demo))
    for model in (facts, memories, profile, context):
        model.editor = editor
        qtmodeltester.check(model)
    _follow(editor, demo, {"facts": facts, "memories": memories, "profile": profile, "global": context})
    assert facts.flags(facts.index(0, COL_TEXT)) & Qt.ItemFlag.ItemIsEditable
    assert not facts.flags(facts.index(0, 2)) & Qt.ItemFlag.ItemIsEditable
    text, category = facts.index(0, COL_TEXT).data(), facts.index(0, COL_CATEGORY).data()
    fact_id = facts.index(0, 0).data(ROW_ROLE).id
    assert facts.setData(facts.index(0, COL_TEXT), text + " (checked)")
    assert facts.setData(facts.index(0, COL_CATEGORY), "checked")
    row = next(r for r in range(memories.rowCount())
               if memories.index(r, COL_CONTENT).data() == "Prefers short answers")
    assert memories.setData(memories.index(row, COL_CONTENT), "Prefers long answers")
    name = next(r for r in range(profile.rowCount()) if profile.index(r, 0).data() == "name")
    assert profile.setData(profile.index(name, COL_VALUE), "Renamed")
    key = next(r for r in range(context.rowCount()) if context.index(r, 0).data() == "known_users")
    assert context.setData(context.index(key, COL_VALUE), "13")
    assert demo.get_global_context("known_users") == 13
    while editor.stack.canUndo():
        editor.undo()
    for model in (facts, memories, profile, context):
        qtmodeltester.check(model)
    row = facts.row_of_id(fact_id)  # back in its category (at its end, after the move and the move back)
    assert (facts.index(row, COL_CATEGORY).data(), facts.index(row, COL_TEXT).data()) == (category, text)
    editor.read_only = True
    assert not facts.flags(facts.index(0, COL_TEXT)) & Qt.ItemFlag.ItemIsEditable
    assert not facts.setData(facts.index(0, COL_TEXT), "refused")
    history = FactHistoryModel(owner)
    history.replace_rows(version_rows(demo.get_fact_versions(UID, fact_id), demo.default_zone, demo.default_zone))
    qtmodeltester.check(history)
    assert history.rowCount() >= 3


def test_a_refused_multi_edit_is_rolled_back(demo: JsonMemoryStore, tmp_path: Path) -> None:
    facts = demo.get_fact_records(UID)
    before = demo.get_user_facts(UID)
    other = JsonMemoryStore(build_config({"DATA_DIR": demo.root, "DEFAULT_TIMEZONE": "UTC"}, environ={}))
    last = facts[-1]
    other.remove_user_fact(UID, last["category"], last["text"])  # someone removes the last one first
    edit = CompositeEdit([FactUpdate(UID, f["id"], f["category"], f["text"], "moved", f["text"]) for f in facts],
                         "Move")
    with pytest.raises(ConflictError):
        edit.apply(demo)
    expected = {k: [t for t in v if (k, t) != (last["category"], last["text"])] for k, v in before.items()}
    assert {k: sorted(v) for k, v in demo.get_user_facts(UID).items()} == \
           {k: sorted(v) for k, v in expected.items() if v}
    assert "removed meanwhile" in edit.explain(demo, ConflictError("x"))
    rebased = edit.rebased(demo)  # "Reapply": the removed one is written as the edit wanted it
    assert isinstance(rebased, CompositeEdit) and len(rebased.edits) == len(facts)
    assert isinstance(rebased.edits[-1], FactAdd)
    rebased.apply(demo)
    assert demo.get_user_facts(UID) == {"moved": [f["text"] for f in facts]}
    other.close()


def test_rebase_and_inverses(demo: JsonMemoryStore) -> None:
    add = FactAdd(UID, "notes", "Likes puzzles")
    remove = add.apply(demo)
    assert isinstance(remove, FactRemove) and add.rebased(demo) is None  # it is there now
    fact_id = remove.fact_id
    update = FactUpdate(UID, fact_id, "notes", "Likes puzzles", "notes", "Likes hard puzzles")
    demo.update_user_fact(UID, "notes", "Likes puzzles", "Loves puzzles")
    with pytest.raises(ConflictError):
        update.apply(demo)
    rebased = update.rebased(demo)
    assert isinstance(rebased, FactUpdate) and (rebased.category, rebased.text) == ("notes", "Loves puzzles")
    back = rebased.apply(demo)
    assert find_fact(demo, UID, fact_id) == ("notes", "Likes hard puzzles")
    back.apply(demo)
    assert find_fact(demo, UID, fact_id) == ("notes", "Loves puzzles")

    set_key = GlobalEdit("", "motd", "hello", ABSENT)
    unset = set_key.apply(demo)
    assert isinstance(unset, GlobalEdit) and unset.value is ABSENT and unset.expected == "hello"
    demo.set_global_context("motd", "changed")
    with pytest.raises(ConflictError):
        unset.apply(demo)
    assert "changed meanwhile to “changed”" in unset.explain(demo, ConflictError("x"))
    again = unset.rebased(demo)
    assert again is not None
    again.apply(demo)
    assert demo.get_global_context("motd") is None
    assert ProfileEdit(UID, "mood", ABSENT, ABSENT).rebased(demo) is None

    demo.store_permanent_memory(UID, "Walks the dog", "habits")
    entry = demo.get_permanent_memories(UID, "habits")[0]
    undo = MemoryUpdate(UID, "habits", 0, entry, "Walks the dog at six").apply(demo)
    demo.store_permanent_memory(UID, "Reads at night", "habits")
    demo.delete_permanent_memory(UID, 0, "habits")
    with pytest.raises(ConflictError):  # it was deleted: the undo has nothing to restore
        undo.apply(demo)


def test_move_plan() -> None:
    moving, lines = fact_move_plan([("1", "a", "x"), ("2", "b", "y"), ("3", "c", "z"), ("4", "d", "x")], "c",
                                   [("a", "x"), ("b", "y"), ("c", "z"), ("c", "y"), ("d", "x")])
    assert moving == [("1", "a", "x")]
    assert lines == ["[a] x   →   [c]", "[b] y   (skipped: c has the same fact)", "[c] z   (already there: unchanged)",
                     "[d] x   (skipped: c has the same fact)"]
