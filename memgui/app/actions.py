"""The window's menus and what they do: File (folders; export, import and forget a user), Edit (undo and
redo of every edit of the session, edits of the current pane) and View.

Edits go through one ``EditController``; after each, the part of the store it changed is read back and
shown through the models' diffing ``apply_*`` methods, the same path as a change made by another process.
Refusals and conflicts are shown in the banner above the tabs. ``--read-only`` disables all of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from memgui.app.session import WindowSession
from memgui.models.edit_commands import Conflict, EditCommand, EditController
from memgui.models.edits import GLOBAL_SCOPE
from memgui.models.fact_history_model import VersionRow
from memgui.models.store_worker import global_entries, load_details, summarize
from memgui.models.transfer_worker import FORMATS, ImportPreview, TransferController
from memgui.store import EraseReport, ImportPlan, MemoryStore, MemoryStoreError
from memgui.views.dialogs import Dialogs
from memgui.views.json_pane import JsonPane

Shortcut = QKeySequence | QKeySequence.StandardKey | str
EXPORTS = (("json", "&Bundle (JSON, lossless)…", "memgui user bundle (*.json)"),
           ("markdown", "&Markdown (readable)…", "Markdown (*.md)"),
           ("csv", "&Conversation as CSV…", "CSV (*.csv)"))


class WindowActions(QObject):
    _want_versions = Signal(str, str)  # user id, fact id: queued to the store worker

    def __init__(self, session: WindowSession) -> None:
        super().__init__(session.window)
        self.session = session
        self.window = session.window
        self.panes, self.models = session.panes, session.models
        self.read_only = self.session.read_only
        self.editor = EditController(self.session.store, self, read_only=self.session.read_only)
        self.transfer = TransferController(self.session.store, self)
        self.banner = self.panes.banner
        self.last_folder = str(Path.home())
        for model in (self.models.facts, self.models.memories, self.models.profile, self.models.global_context):
            model.editor = self.editor
        for pane in (self.panes.facts, self.panes.memories, self.panes.profile, self.panes.global_context):
            pane.set_editor(self.editor)
        self._build_menus()
        self._connect()
        self._update_actions()

    # -- menus ---------------------------------------------------------------------------------------
    def _action(self, text: str, slot: Callable[[], object], shortcut: Shortcut | None = None, *,
                edits: bool = False, tip: str = "") -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.window.addAction(action)
        if edits:
            self._edit_actions.append(action)
        return action

    def _build_menus(self) -> None:
        w = self.window
        self._edit_actions: list[QAction] = []
        file_menu = w.menuBar().addMenu("&File")
        commands = self.session.commands
        file_menu.addAction(self._action("&Open folder…", commands.choose_folder, QKeySequence.StandardKey.Open))
        file_menu.addAction(self._action("Open &database…", commands.choose_database, "Ctrl+Shift+O",
                                         tip="Open a store kept in PostgreSQL (STORAGE_BACKEND=postgres)"))
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self.session.commands.fill_recent)
        file_menu.addAction(self._action("Re&load", self.session.commands.reload, "Ctrl+R",
                                         tip="Read the whole store again (View > Refresh, F5, only looks for changes)"))
        file_menu.addSeparator()
        self.export_menu = QMenu("&Export user", file_menu)
        self.export_actions: dict[str, QAction] = {}
        for fmt, text, _ in EXPORTS:
            action = self._action(text, self.export_user, edits=True, tip=f"Write the selected user as {fmt}")
            action.setData(fmt)
            self.export_actions[fmt] = action
            self.export_menu.addAction(action)
        file_menu.addMenu(self.export_menu)
        self.import_action = self._action("&Import user…", self.import_user, edits=True,
                                          tip="Read a user bundle; see what would change before importing")
        file_menu.addAction(self.import_action)
        file_menu.addSeparator()
        self.forget_action = self._action("&Forget this user…", self.forget_user, edits=True,
                                          tip="Erase every byte stored for the selected user")
        file_menu.addAction(self.forget_action)
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", w.close, QKeySequence.StandardKey.Quit))

        edit_menu = w.menuBar().addMenu("&Edit")
        self.undo_action = self._action("&Undo", self.editor.undo, QKeySequence.StandardKey.Undo)
        self.redo_action = self._action("&Redo", self.editor.redo, "Ctrl+Shift+Z")
        self.undo_action.setObjectName("undoAction")
        self.redo_action.setObjectName("redoAction")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        self.new_fact_action = self._action("&New fact", self.new_fact, QKeySequence.StandardKey.New, edits=True)
        self.delete_action = self._action("&Delete selected", self.delete_selected, edits=True,
                                          tip="Delete what is selected in the current tab (Del)")
        self.move_action = self._action("&Move facts to category…", self.panes.facts.move_selected, edits=True)
        self.json_action = self._action("Edit value as &JSON…", self.edit_json, edits=True)
        for action in (self.new_fact_action, self.delete_action, self.move_action, self.json_action):
            edit_menu.addAction(action)

        view_menu = self.view_menu = w.menuBar().addMenu("&View")
        view_menu.addAction(self._action("&Filter users", self.panes.users.focus_filter, QKeySequence.StandardKey.Find))
        view_menu.addAction(self._action("&Search the whole store…", self.session.commands.focus_search,
                                         "Ctrl+Shift+F", tip="Every user's messages, facts, memories and profile"))
        view_menu.addAction(self._action("Find in &conversation", self.session.commands.focus_find, "Ctrl+Alt+F"))

    def _connect(self) -> None:
        stack = self.editor.stack
        stack.indexChanged.connect(self._update_undo_texts)
        stack.undoTextChanged.connect(self._update_undo_texts)
        stack.redoTextChanged.connect(self._update_undo_texts)
        stack.canUndoChanged.connect(self._update_undo_texts)
        stack.canRedoChanged.connect(self._update_undo_texts)
        self.editor.changed.connect(self.show_changed)
        self.editor.refused.connect(self._on_refused)
        self.editor.conflicted.connect(self._on_conflict)
        self.editor.notice.connect(self._on_notice)
        self.banner.reload_requested.connect(self.editor.reload)
        self.banner.reapply_requested.connect(self.editor.reapply)
        self.banner.dismissed.connect(self.editor.dismiss)
        self.panes.users.current_changed.connect(self._on_current_user)
        self.panes.facts.versions_wanted.connect(self._on_versions_wanted)
        self.panes.facts.message_wanted.connect(self.show_message)
        self.panes.conversation.status.connect(self._on_notice)
        self._want_versions.connect(self.session.store_worker.load_versions)
        self.session.store_worker.versions_loaded.connect(self._on_versions_loaded)
        self.transfer.finished.connect(self._on_transfer_finished)
        self.transfer.refused.connect(self._on_transfer_refused)

    @Slot()
    def _update_undo_texts(self) -> None:
        stack = self.editor.stack
        undo = self._step_text(stack.index() - 1)
        redo = self._step_text(stack.index())
        self.undo_action.setText(f"&Undo {undo}" if undo else "&Undo")
        self.redo_action.setText(f"&Redo {redo}" if redo else "&Redo")
        self.undo_action.setEnabled(not self.read_only and stack.canUndo())
        self.redo_action.setEnabled(not self.read_only and stack.canRedo())

    def _step_text(self, index: int) -> str:
        """What step ``index`` of the undo stack did, naming the user when it is not the one shown."""
        stack = self.editor.stack
        if not 0 <= index < stack.count():
            return ""
        command = stack.command(index)
        text = stack.text(index)
        scope = command.forward.scope if isinstance(command, EditCommand) else GLOBAL_SCOPE
        return f"{text} ({scope})" if scope not in (GLOBAL_SCOPE, self.editor.user_id) else text

    def _update_actions(self) -> None:
        has_user = bool(self.editor.user_id)
        idle = not self.transfer.busy()
        for action in self._edit_actions:
            action.setEnabled(not self.read_only)
        for action in (*self.export_actions.values(), self.forget_action, self.new_fact_action):
            action.setEnabled(not self.read_only and has_user and idle)
        self.import_action.setEnabled(not self.read_only and idle)
        self._update_undo_texts()

    # -- following the window --------------------------------------------------------------------------
    @Slot(str)
    def _on_current_user(self, user_id: str) -> None:
        """Edits go to the user shown; a message about another user's edit goes away with them."""
        self.editor.user_id = user_id
        conflict = self.editor.conflict
        if conflict is not None and conflict.scope not in (GLOBAL_SCOPE, user_id):
            self.editor.dismiss()
        if self.banner.kind == "refusal":
            self.banner.clear()
        self._update_actions()

    def set_store(self, store: MemoryStore) -> None:
        """Another folder was opened: edits and transfers go to ``store``; the undo history is cleared."""
        self.editor.set_store(store)
        self.transfer.set_store(store)
        self.banner.clear()

    @Slot(str)
    def show_changed(self, scope: str) -> None:
        """Show again what an edit changed, read back from the store (a diff: selection stays)."""
        w = self.window
        if self.banner.kind == "refusal":
            self.banner.clear()
        try:
            if scope == GLOBAL_SCOPE:
                entries = global_entries(self.session.store)
                self.models.global_context.apply_entries(entries)
                self.panes.global_context.set_state(None, len(entries))
                return
            if scope == self.session.shown_user:
                self.session.commands.show_details(load_details(self.session.store, scope))
            if self.session.store.user_exists(scope):
                summary = summarize(self.session.store, scope, datetime.now(timezone.utc))
                self.models.users.apply_user(summary)
                if scope == self.panes.users.current_user():
                    self.panes.header.show_user(summary)
        except MemoryStoreError as exc:
            w.statusBar().showMessage(f"Could not read back the change: {exc}", 15000)

    @Slot(str)
    def _on_refused(self, message: str) -> None:
        self.banner.show_refusal(message)
        self.window.statusBar().showMessage(message, 8000)

    @Slot(object)
    def _on_conflict(self, conflict: Conflict | None) -> None:
        if conflict is not None:
            self.banner.show_conflict(conflict.message)
        elif self.banner.kind == "conflict":
            self.banner.clear()

    @Slot(str)
    def _on_notice(self, text: str) -> None:
        if text:
            self.window.statusBar().showMessage(text, 8000)
        else:
            self.window.statusBar().clearMessage()

    # -- edit menu ---------------------------------------------------------------------------------------
    @Slot()
    def new_fact(self) -> None:
        self.panes.tabs.setCurrentWidget(self.panes.facts)
        self.panes.facts.text_input.setFocus()

    @Slot()
    def delete_selected(self) -> None:
        pane = self.panes.tabs.currentWidget()
        delete = getattr(pane, "delete_selected", None)
        if delete is not None:
            delete()

    @Slot()
    def edit_json(self) -> None:
        pane = self.panes.tabs.currentWidget()
        if isinstance(pane, JsonPane):
            pane.edit_selected()

    # -- provenance ----------------------------------------------------------------------------------------
    @Slot(str)
    def _on_versions_wanted(self, fact_id: str) -> None:
        if self.editor.user_id:
            self._want_versions.emit(self.editor.user_id, fact_id)

    @Slot(str, str, object, str)
    def _on_versions_loaded(self, user_id: str, fact_id: str, rows: list[VersionRow] | None, error: str) -> None:
        if user_id == self.editor.user_id:
            self.panes.facts.set_versions(fact_id, rows, error)

    @Slot(str)
    def show_message(self, message_id: str) -> None:
        """Open the Conversation tab at the message ``message_id`` (selected, scrolled into view)."""
        self.panes.tabs.setCurrentWidget(self.panes.conversation)
        self.panes.conversation.show_message(message_id)

    # -- export, import, erase -----------------------------------------------------------------------------
    @Slot()
    def export_user(self) -> None:
        action = self.sender()
        fmt = str(action.data()) if isinstance(action, QAction) else "json"
        uid = self.editor.user_id
        if self.read_only or not uid or self.transfer.busy():
            return
        ext = FORMATS[fmt]
        name = re.sub(r"[^\w.-]+", "_", uid).strip("._") or "user"
        filters = next(f for k, _, f in EXPORTS if k == fmt)
        path = Dialogs.save_file(self.window, f"Export {uid}", str(Path(self.last_folder) / f"{name}{ext}"), filters)
        if not path:
            return
        target = Path(path) if path.lower().endswith(ext) else Path(path + ext)
        self.last_folder = str(target.parent)
        self.transfer.export_user(uid, str(target), fmt)
        self._busy(f"Exporting {uid}…")

    @Slot()
    def import_user(self) -> None:
        if self.read_only or self.transfer.busy():
            return
        path = Dialogs.open_file(self.window, "Import a user bundle", "memgui user bundle (*.json);;All files (*)")
        if path:
            self.last_folder = str(Path(path).parent)
            self.transfer.preview_import(path)
            self._busy("Reading the bundle (a dry run: nothing is written)…")

    @Slot()
    def forget_user(self) -> None:
        uid = self.editor.user_id
        if self.read_only or not uid or self.transfer.busy():
            return
        summary = self.models.users.summary(uid)
        what = ["the profile, facts, permanent memories and metrics",
                f"the whole conversation ({summary.messages:,} messages, archive included)" if summary else
                "the whole conversation, archive included",
                "the fact history, backups and quarantined files", "the entry in users_index.json"]
        if Dialogs.confirm_erase(self.window, uid, what):
            self.transfer.erase(uid)
            self._busy(f"Erasing {uid}…")

    def _busy(self, text: str) -> None:
        self.window.statusBar().showMessage(text)
        self._update_actions()

    @Slot(str, object)
    def _on_transfer_finished(self, kind: str, result: object) -> None:
        w = self.window
        self._update_actions()
        w.statusBar().clearMessage()
        if kind == "export":
            w.statusBar().showMessage(f"Exported to {result}", 15000)
        elif kind == "preview" and isinstance(result, ImportPreview):
            choice = Dialogs.choose_import(w, result.plans)
            if choice is None or result.plans[choice].action == "skip":
                w.statusBar().showMessage("Import cancelled: nothing was written.", 8000)
                return
            self.transfer.import_bundle(result.bundle, choice)
            self._busy(f"Importing {result.user_id}…")
        elif kind == "import" and isinstance(result, ImportPlan):
            self._imported(result)
        elif kind == "erase" and isinstance(result, EraseReport):
            self._erased(result)

    def _imported(self, plan: ImportPlan) -> None:
        w = self.window
        if plan.action == "replace":
            self.editor.forget_history()  # its steps were about data that is gone
        self.show_changed(plan.user_id)
        if plan.user_id == self.session.shown_user:
            self.models.conversation.set_user(plan.user_id)
        Dialogs.show_lines(w, "Import done", f"{plan.user_id!r}: {plan.action} done.", plan.changes)

    def _erased(self, report: EraseReport) -> None:
        self.editor.forget_history()  # an undo could bring part of the erased user back
        self.models.users.remove_user(report.user_id)
        Dialogs.show_erase_report(self.window, report)

    @Slot(str, str)
    def _on_transfer_refused(self, kind: str, message: str) -> None:
        self._update_actions()
        self.window.statusBar().clearMessage()
        titles = {"export": "Export failed", "preview": "Not a bundle that can be imported",
                  "import": "Import failed", "erase": "Erase failed"}
        Dialogs.warn(self.window, titles.get(kind, "Failed"), message)
