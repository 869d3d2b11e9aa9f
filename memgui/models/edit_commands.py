"""Every edit of the window goes through ``EditController``: it writes through the store at once, keeps the
session's undo stack, and turns refusals into news for the window (a message, or a conflict to resolve).

An ``EditCommand`` holds an edit and its inverse. Undo and redo are store writes with their own stale-read
checks: when one is refused (the data changed since), nothing is written, the stack stays where it was and
the conflict is reported like any other, with "Reload" (show what is there now) and "Reapply" (make the
same change on top of it, as a new step of the stack).
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QUndoCommand, QUndoStack

from memgui.models.edits import Edit
from memgui.store import ConflictError, MemoryStore, MemoryStoreError

READ_ONLY_TEXT = "This window is read-only (--read-only): nothing was written."


@dataclasses.dataclass(frozen=True)
class Conflict:
    """An edit the store refused because what it was based on changed; ``message`` says what changed."""

    edit: Edit
    message: str

    @property
    def scope(self) -> str:
        return self.edit.scope


class EditCommand(QUndoCommand):
    """One step of the undo stack. The first ``redo`` (on push) does nothing: the edit was already made."""

    def __init__(self, controller: EditController, forward: Edit, backward: Edit) -> None:
        super().__init__(forward.label)
        self.controller = controller
        self.forward, self.backward = forward, backward
        self.fresh = True
        self.skip = False  # the next undo/redo only moves the stack (after a refused one)
        self.failed = False

    def redo(self) -> None:
        if self.fresh or self.skip:
            self.fresh = self.skip = False
            return
        inverse = self.controller.run(self.forward)
        self.failed = inverse is None
        if inverse is not None:
            self.backward = inverse

    def undo(self) -> None:
        if self.skip:
            self.skip = False
            return
        inverse = self.controller.run(self.backward, undoing=True)
        self.failed = inverse is None
        if inverse is not None:
            self.forward = inverse


class EditController(QObject):
    """Writes edits to ``store`` for the window. ``user_id`` is the user whose panes are shown."""

    changed = Signal(str)  # a scope to show again from the store: a user id, or '' for the global context
    refused = Signal(str)  # why an edit was not made (invalid input, read-only, an error); nothing was written
    conflicted = Signal(object)  # a Conflict, or None once it is resolved
    notice = Signal(str)  # a remark for the status bar

    def __init__(self, store: MemoryStore, parent: QObject | None = None, *, read_only: bool = False) -> None:
        super().__init__(parent)
        self.store = store
        self.read_only = read_only
        self.user_id = ""
        self.stack = QUndoStack(self)
        self.conflict: Conflict | None = None

    def can_edit(self) -> bool:
        return not self.read_only

    # -- making edits ------------------------------------------------------------------------------------
    def submit(self, edit: Edit) -> bool:
        """Make ``edit`` now and add it to the undo stack; False (and a signal saying why) when refused."""
        if self.read_only:
            self.refused.emit(READ_ONLY_TEXT)
            return False
        try:
            edit.validate()
        except MemoryStoreError as exc:
            self.refused.emit(f"Not saved: {exc}")
            return False
        inverse = self.run(edit)
        if inverse is None:
            return False
        self.stack.push(EditCommand(self, edit, inverse))
        return True

    def run(self, edit: Edit, *, undoing: bool = False) -> Edit | None:
        """Write ``edit``; its inverse, or None when the store refused it (reported, nothing written)."""
        try:
            inverse = edit.apply(self.store)
        except ConflictError as exc:
            self._report_conflict(edit, exc, undoing)
            return None
        except MemoryStoreError as exc:
            self.refused.emit(f"Not saved: {exc}")
            return None
        self.changed.emit(edit.scope)
        return inverse

    def _report_conflict(self, edit: Edit, error: ConflictError, undoing: bool) -> None:
        try:
            message = edit.explain(self.store, error)
        except MemoryStoreError:
            message = str(error)
        if undoing:
            edit.label = f"Undo: {edit.label}"
        self.conflict = Conflict(edit, message)
        self.conflicted.emit(self.conflict)

    # -- undo and redo -------------------------------------------------------------------------------------
    @Slot()
    def undo(self) -> None:
        """Undo the last edit of the session, through the store; a refusal leaves the stack as it was."""
        if self.read_only or not self.stack.canUndo():
            return
        command = self.stack.command(self.stack.index() - 1)
        self.stack.undo()
        if isinstance(command, EditCommand) and command.failed:
            command.skip = True
            self.stack.redo()

    @Slot()
    def redo(self) -> None:
        if self.read_only or not self.stack.canRedo():
            return
        command = self.stack.command(self.stack.index())
        self.stack.redo()
        if isinstance(command, EditCommand) and command.failed:
            command.skip = True
            self.stack.undo()

    # -- resolving a conflict -------------------------------------------------------------------------------
    @Slot()
    def reload(self) -> None:
        """Forget the refused edit and show what the store holds now."""
        conflict, self.conflict = self.conflict, None
        self.conflicted.emit(None)
        if conflict is not None:
            self.changed.emit(conflict.scope)

    @Slot()
    def dismiss(self) -> None:
        """Leave the refused edit unmade without reloading."""
        if self.conflict is not None:
            self.conflict = None
            self.conflicted.emit(None)

    @Slot()
    def reapply(self) -> None:
        """Make the refused edit again, on top of what the store holds now."""
        conflict = self.conflict
        if conflict is None:
            return
        try:
            edit = conflict.edit.rebased(self.store)
        except MemoryStoreError as exc:
            self.refused.emit(f"Not saved: {exc}")
            return
        if edit is None:
            self.reload()
            self.notice.emit("Nothing to reapply: the store already holds that change.")
            return
        edit.label = conflict.edit.label
        self.conflict = None
        if self.submit(edit):
            self.conflicted.emit(None)

    # -- switching -------------------------------------------------------------------------------------------
    def set_store(self, store: MemoryStore) -> None:
        """Edit another store (another folder): the undo history belongs to the old one."""
        self.store = store
        self.forget_history()

    def forget_history(self) -> None:
        """Clear the undo stack (after an erase or an import that replaced a user, old steps could bring
        erased data back) and any pending conflict."""
        self.stack.clear()
        if self.conflict is not None:
            self.conflict = None
            self.conflicted.emit(None)
