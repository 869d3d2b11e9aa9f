"""Export, import and erase from the File menu, with the dialogs patched: exports written by the store in
three formats, an import that shows its dry run (nothing written) before applying, and an erase after which
no byte of the user is left anywhere under DATA_DIR."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from edit_helpers import fact_index, select, tree_digest

from memgui.app import MainWindow
from memgui.models.transfer_worker import ImportPreview
from memgui.store import EraseReport, ImportPlan, JsonMemoryStore, build_config
from memgui.views.dialogs import Dialogs
from memgui.views.transfer_dialogs import EraseDialog, ImportDialog, erase_report_dialog

MakeWindow = Callable[..., MainWindow]
UID = "alice.smith"


def _run_action(window: MainWindow, qtbot: Any, trigger: Callable[[], None], kind: str) -> Any:
    """Trigger an action and wait for the transfer of ``kind`` to finish; its result."""
    transfer = window.window_actions.transfer
    with qtbot.waitSignal(transfer.finished, check_params_cb=lambda k, _r: k == kind, timeout=20_000) as blocker:
        trigger()
    return blocker.args[1]


def test_export_in_three_formats(make_window: MakeWindow, demo: JsonMemoryStore, qtbot: Any, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    window = make_window(demo, select=UID)
    select(window, qtbot, UID)
    asked: list[str] = []

    def save_file(_cls: Any, _parent: Any, _title: str, suggested: str, _filters: str) -> str:
        asked.append(suggested)
        return str(tmp_path / "out" / Path(suggested).stem)  # no suffix: the format's is added

    (tmp_path / "out").mkdir()
    monkeypatch.setattr(Dialogs, "save_file", classmethod(save_file))
    actions = window.window_actions
    bundle_path = _run_action(window, qtbot, actions.export_actions["json"].trigger, "export")
    assert Path(asked[0]).name == "alice.smith.json" and bundle_path == tmp_path / "out" / "alice.smith.json"
    bundle = json.loads(bundle_path.read_text("utf-8"))
    expected = demo.export_user_bundle(UID)
    assert bundle["user_id"] == UID and bundle["documents"] == expected["documents"]
    assert bundle["logs"] == expected["logs"]
    markdown = _run_action(window, qtbot, actions.export_actions["markdown"].trigger, "export").read_text("utf-8")
    assert all(fact in markdown for facts in demo.get_user_facts(UID).values() for fact in facts)
    rows = list(csv.reader(io.StringIO(
        _run_action(window, qtbot, actions.export_actions["csv"].trigger, "export").read_text("utf-8"))))
    assert len(rows) - 1 == len(demo.get_message_history(UID, include_archived=True))
    assert "Exported to" in window.statusBar().currentMessage()


def test_import_shows_a_dry_run_then_merges(make_window: MakeWindow, demo: JsonMemoryStore, qtbot: Any,
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(demo.root)
    bundle_path = demo.write_export(UID, tmp_path / "alice.json", "json")
    removed = next(r for r in demo.get_fact_records(UID))
    demo.remove_user_fact(UID, removed["category"], removed["text"])
    window = make_window(demo, select=UID, tab="facts")
    select(window, qtbot, UID, "facts")
    monkeypatch.setattr(Dialogs, "open_file", classmethod(lambda cls, *a: str(bundle_path)))
    seen: list[dict[str, ImportPlan]] = []
    choice: list[str | None] = [None]

    def choose(_cls: Any, _parent: Any, plans: dict[str, ImportPlan]) -> str | None:
        seen.append(plans)
        return choice[0]

    monkeypatch.setattr(Dialogs, "choose_import", classmethod(choose))
    reports: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(Dialogs, "show_lines",
                        classmethod(lambda cls, _p, _t, text, lines: reports.append((text, list(lines)))))
    digest = tree_digest(root)
    preview = _run_action(window, qtbot, window.window_actions.import_action.trigger, "preview")
    assert isinstance(preview, ImportPreview) and set(seen[0]) == {"merge", "replace", "skip"}
    assert f"+ fact [{removed['category']}] {removed['text']}" in seen[0]["merge"].changes
    assert tree_digest(root) == digest  # the dry run and the cancelled import changed nothing
    assert "nothing was written" in window.statusBar().currentMessage()
    choice[0] = "merge"
    window.window_actions.import_action.trigger()
    plan = _run_action(window, qtbot, lambda: None, "import")
    assert plan.applied and plan.action == "merge"
    assert removed["text"] in demo.get_user_facts(UID)[removed["category"]]
    assert fact_index(window, removed["text"]).isValid()  # the window shows it
    assert reports and f"+ fact [{removed['category']}] {removed['text']}" in reports[0][1]


def test_import_into_another_store_creates_the_user(make_window: MakeWindow, demo: JsonMemoryStore, qtbot: Any,
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle_path = demo.write_export(UID, tmp_path / "alice.json", "json")
    other = JsonMemoryStore(build_config({"DATA_DIR": tmp_path / "other", "DEFAULT_TIMEZONE": "UTC"}, environ={}))
    other.add_message("zed", "user", "hi")
    window = make_window(other)
    monkeypatch.setattr(Dialogs, "open_file", classmethod(lambda cls, *a: str(bundle_path)))
    monkeypatch.setattr(Dialogs, "choose_import", classmethod(lambda cls, _p, plans: next(iter(plans))))
    monkeypatch.setattr(Dialogs, "show_lines", classmethod(lambda cls, *a: None))
    window.window_actions.import_action.trigger()
    plan = _run_action(window, qtbot, lambda: None, "import")
    assert plan.action == "create"
    assert other.export_user_bundle(UID)["documents"] == demo.export_user_bundle(UID)["documents"]
    assert UID in window.users_model.user_ids()
    other.close()


def _traces(root: Path, needles: Sequence[str]) -> list[str]:
    """Files under ``root`` whose name or bytes contain any of ``needles``."""
    found = []
    for path in root.rglob("*"):
        rel = str(path.relative_to(root))
        if any(n in rel for n in needles):
            found.append(rel)
        elif path.is_file():
            data = path.read_bytes()
            found += [f"{rel}: {n}" for n in needles if n.encode() in data]
    return found


def test_forget_user_leaves_nothing(make_window: MakeWindow, demo: JsonMemoryStore, qtbot: Any,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(demo.root)
    message_ids = [m["id"] for m in demo.get_message_history(UID, include_archived=True)]
    fact_ids = [r["id"] for r in demo.get_fact_records(UID)]
    needles = [UID, *message_ids, *fact_ids]
    assert _traces(root, needles)  # the scan finds the user before the erase
    window = make_window(demo, select=UID, tab="facts")
    select(window, qtbot, UID, "facts")
    index = fact_index(window, window.facts_pane.proxy.index(0, 1).data())
    assert index.model().setData(index, "something to undo")
    asked: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(Dialogs, "confirm_erase",
                        classmethod(lambda cls, _p, uid, what: asked.append((uid, list(what))) or len(asked) > 1))
    reports: list[EraseReport] = []
    monkeypatch.setattr(Dialogs, "show_erase_report", classmethod(lambda cls, _p, report: reports.append(report)))
    digest = tree_digest(root)
    window.window_actions.forget_action.trigger()  # answered No
    assert asked[0][0] == UID and tree_digest(root) == digest
    report = _run_action(window, qtbot, window.window_actions.forget_action.trigger, "erase")
    assert reports == [report] and report.verified and report.removed
    assert any("user_facts.json" in item for item in report.removed)
    assert _traces(root, needles) == []
    assert UID not in window.users_model.user_ids()
    qtbot.waitUntil(lambda: window.window_actions.editor.user_id not in ("", UID), timeout=10_000)
    assert not window.window_actions.undo_action.isEnabled()  # an undo could have brought part of it back


def test_transfer_dialogs(qtbot: Any, demo: JsonMemoryStore, tmp_path: Path) -> None:
    bundle = demo.export_user_bundle(UID)
    plans = {mode: demo.import_user_bundle(bundle, on_conflict=mode, dry_run=True)  # type: ignore[arg-type]
             for mode in ("merge", "replace", "skip")}
    dialog = ImportDialog(plans)
    qtbot.addWidget(dialog)
    assert dialog.choice() == "merge" and dialog.shown_changes() == plans["merge"].changes
    dialog.buttons["replace"].setChecked(True)
    assert dialog.shown_changes() == plans["replace"].changes and dialog.ok.text() == "Replace and import"
    dialog.buttons["skip"].setChecked(True)
    assert not dialog.ok.isEnabled()
    erase = EraseDialog(UID, ["the whole conversation"])
    qtbot.addWidget(erase)
    assert not erase.ok.isEnabled()
    erase.confirm_edit.setText("alice")
    assert not erase.ok.isEnabled()
    erase.confirm_edit.setText(UID)
    assert erase.ok.isEnabled()
    left = erase_report_dialog(EraseReport(UID, ["a/b.json"], ["a/"]))
    qtbot.addWidget(left)
    assert left.lines()[0] == "LEFT: a/" and "traces left" in left.text.text()
