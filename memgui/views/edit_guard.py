"""Keeps a record that is being edited as it was shown while newer data arrives from disk (live refresh).

A model's edit is a compare-and-set against the row it holds when the editor commits. If live refresh put the
new row under an open editor, the commit would expect the new value and silently overwrite the change made on
disk; a tree would even close the editor when a changed value's children are replaced. So while an editor is
open, fresh data is applied with that one record as it was shown, and the banner says it changed: the editor
stays, Reload drops the edit and shows the stored record, Reapply saves the edit on top of it (through the
store's own conflict check and the edit controller's rebase). When the editor closes, ``released`` asks for
the pane's data again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractProxyModel, QModelIndex, QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QAbstractItemDelegate, QAbstractItemView, QWidget

from memgui.models.edit_commands import EditController
from memgui.models.edits import quote
from memgui.models.facts_model import FactRow
from memgui.models.json_tree_model import GlobalContextModel, JsonTreeModel
from memgui.models.keyed_table import KeyedTableModel
from memgui.models.memories_model import MemoryRow
from memgui.views.conflict_banner import EditBanner

Entries = Sequence[tuple[str, Any, str]]


class EditGuard(QObject):
    """Holds back on-disk changes to the record under an open editor of the views it guards."""

    released = Signal(object)  # a view whose data was held: its editor closed, read its data again

    def __init__(self, banner: EditBanner, controller: EditController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.banner = banner
        self.controller = controller
        self._held: list[QAbstractItemView] = []  # views whose shown data differs from the disk's
        self._asking: QAbstractItemView | None = None  # the view whose open editor the banner is about
        self._hooked: set[int] = set()
        self._closed: list[QAbstractItemView] = []
        self._release = QTimer(self)  # after the slot that closed the editor is done (Reapply writes first)
        self._release.setSingleShot(True)
        self._release.setInterval(0)
        self._release.timeout.connect(self._on_release)
        banner.reload_requested.connect(self._on_reload)
        banner.reapply_requested.connect(self._on_reapply)
        banner.dismissed.connect(self._on_dismissed)

    def guard(self, view: QAbstractItemView) -> None:
        """Follow the editors of ``view`` (its delegates' ``closeEditor``)."""
        model = view.model()
        delegates = [view.itemDelegate(), *(view.itemDelegateForColumn(c) for c in range(model.columnCount()))]
        for delegate in delegates:
            if delegate is not None and id(delegate) not in self._hooked:
                self._hooked.add(id(delegate))
                delegate.closeEditor.connect(self._on_editor_closed)

    def is_holding(self) -> bool:
        return bool(self._held)

    def reset(self) -> None:
        """Another user or folder is shown: what was held and the question about it go away."""
        if self._asking is not None and self.banner.kind == "conflict" and self.controller.conflict is None:
            self.banner.clear()
        self._asking = None
        self._held.clear()

    # -- filtering fresh data --------------------------------------------------------------------------
    def rows(self, view: QAbstractItemView, model: KeyedTableModel, rows: Sequence[Any]) -> list[Any]:
        """``rows`` for ``model``, with the row under an open editor of ``view`` as it is shown."""
        out = list(rows)
        index = self.edited(view)
        if index is None or index.model() is not model or not 0 <= index.row() < model.rowCount():
            return out
        shown = model.rows[index.row()]
        key = model.key(shown)
        at = next((i for i, r in enumerate(out) if model.key(r) == key), -1)
        if at >= 0 and out[at] == shown:
            return out
        if at >= 0:
            out[at] = shown
        else:
            out.insert(min(index.row(), len(out)), shown)
        self._hold(view, f"{_row_name(shown)} was {'changed' if at >= 0 else 'removed'} on disk while you were "
                         "editing it.")
        return out

    def entries(self, view: QAbstractItemView, model: JsonTreeModel, entries: Entries) -> list[tuple[str, Any, str]]:
        """``entries`` for ``model``, with the top-level entry under an open editor of ``view`` as shown."""
        out = list(entries)
        index = self.edited(view)
        node = model.node_at(index) if index is not None and index.model() is model else None
        if node is None:
            return out
        top = model.top_node(node)
        at = next((i for i, e in enumerate(out) if e[0] == top.key), -1)
        if at >= 0 and out[at][1] == top.value and type(out[at][1]) is type(top.value):
            return out
        if at >= 0:
            out[at] = (top.key, top.value, top.extra)
        else:
            out.insert(min(top.row, len(out)), (top.key, top.value, top.extra))
        noun = "global context key" if isinstance(model, GlobalContextModel) else "profile field"
        self._hold(view, f"The {noun} {quote(top.key)} was {'changed' if at >= 0 else 'removed'} on disk while "
                         "you were editing it.")
        return out

    @staticmethod
    def edited(view: QAbstractItemView) -> QModelIndex | None:
        """The source-model index of the editor open in ``view``, or None."""
        if view.state() != QAbstractItemView.State.EditingState:
            return None
        index = view.currentIndex()
        if not index.isValid() or view.indexWidget(index) is None:
            return None
        model = view.model()
        while isinstance(model, QAbstractProxyModel):
            index = model.mapToSource(index)
            model = model.sourceModel()
        return index if index.isValid() else None

    def _hold(self, view: QAbstractItemView, message: str) -> None:
        if view not in self._held:
            self._held.append(view)
        if self.controller.conflict is not None:
            return  # a refused edit waits for an answer in the banner; the commit will be refused in turn
        self._asking = view
        self.banner.show_changed_while_editing(message)

    # -- the editor closes; the banner's answers -------------------------------------------------------
    @Slot(QWidget)
    def _on_editor_closed(self, _editor: QWidget) -> None:
        """Runs after the view closed the editor (and committed it, which may have shown a conflict)."""
        held = [v for v in self._held if self.edited(v) is None]
        if self._asking is not None and self._asking in held:
            self._asking = None
            if self.banner.kind == "conflict" and self.controller.conflict is None:
                self.banner.clear()  # cancelled, or saved without a conflict: the question is moot
        for view in held:
            self._held.remove(view)
            self._closed.append(view)
        if self._closed:
            self._release.start()

    @Slot()
    def _on_release(self) -> None:
        closed, self._closed = self._closed, []
        for view in closed:
            self.released.emit(view)

    def _open_editor(self) -> tuple[QAbstractItemView, QWidget, QAbstractItemDelegate] | None:
        view = self._asking
        if view is None or self.edited(view) is None:
            return None
        index = view.currentIndex()
        editor, delegate = view.indexWidget(index), view.itemDelegateForIndex(index)
        return (view, editor, delegate) if editor is not None and delegate is not None else None

    @Slot()
    def _on_reload(self) -> None:
        """Drop the open edit; closing the editor releases the held record, which is then read again."""
        found = self._open_editor()
        if found is not None:
            _view, editor, delegate = found
            delegate.closeEditor.emit(editor, QAbstractItemDelegate.EndEditHint.RevertModelCache)

    @Slot()
    def _on_reapply(self) -> None:
        """Save the open edit: it is refused against the record as shown, then made again on top."""
        found = self._open_editor()
        if found is None:
            return
        _view, editor, delegate = found
        delegate.commitData.emit(editor)
        delegate.closeEditor.emit(editor, QAbstractItemDelegate.EndEditHint.NoHint)
        if self.controller.conflict is not None:
            self.controller.reapply()

    @Slot()
    def _on_dismissed(self) -> None:
        self._asking = None


def _row_name(row: object) -> str:
    if isinstance(row, FactRow):
        return f"The fact {quote(row.text)}"
    if isinstance(row, MemoryRow):
        return f"The memory {quote(row.content)}"
    return "The record"
