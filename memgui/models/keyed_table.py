"""A table model over a list of row objects with stable keys, changed by diffs instead of resets.

``apply_rows`` turns fresh data into row removals, moves, inserts and ``dataChanged`` (as napari's
container models do), so selection, scroll position and open editors survive a refresh. ``replace_rows``
resets: it is for a different subject (another user), where no diff relates old and new rows.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from memgui.models.roles import ROW_ROLE
from memgui.models.row_diff import Insert, Move, Remove, diff_steps

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


class KeyedTableModel(QAbstractTableModel):
    """Rows are objects (frozen dataclasses); subclasses name the columns and say what each cell shows."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    # -- what subclasses define ----------------------------------------------------------------------
    def key(self, row: Any) -> Hashable:
        """The identity of a row across refreshes."""
        raise NotImplementedError

    def cell(self, row: Any, column: int, role: int) -> Any:
        """What ``row`` shows in ``column`` for ``role`` (None: nothing)."""
        raise NotImplementedError

    # -- Qt interface ----------------------------------------------------------------------------------
    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == ROW_ROLE:
            return row
        return self.cell(row, index.column(), role)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    # -- changing ----------------------------------------------------------------------------------
    @property
    def rows(self) -> list[Any]:
        return list(self._rows)

    def replace_rows(self, rows: Sequence[Any]) -> None:
        """Show other rows altogether (another subject): a reset."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def apply_rows(self, rows: Sequence[Any]) -> None:
        """Make the model hold ``rows`` (unique keys) through removals, moves, inserts and dataChanged."""
        for step in diff_steps([self.key(r) for r in self._rows], [self.key(r) for r in rows]):
            if isinstance(step, Remove):
                self.beginRemoveRows(_ROOT, step.first, step.last)
                del self._rows[step.first : step.last + 1]
                self.endRemoveRows()
            elif isinstance(step, Insert):
                self.beginInsertRows(_ROOT, step.row, step.row)
                self._rows.insert(step.row, rows[step.new])
                self.endInsertRows()
            elif isinstance(step, Move):
                self.beginMoveRows(_ROOT, step.source, step.source, _ROOT, step.row)
                self._rows.insert(step.row, self._rows.pop(step.source))
                self.endMoveRows()
            else:
                self._set_row(step.row, rows[step.new])

    def _set_row(self, i: int, row: Any) -> None:
        if self._rows[i] != row:
            self._rows[i] = row
            self.dataChanged.emit(self.index(i, 0), self.index(i, max(0, len(self.HEADERS) - 1)))
