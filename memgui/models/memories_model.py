"""The selected user's permanent memories, by type. The content cell is editable (see ``FactsModel``): text
stays text, other JSON content is edited as JSON and checked before anything is written."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from memgui.models.json_edits import MemoryUpdate, parse_json
from memgui.models.keyed_table import KeyedTableModel
from memgui.models.roles import SORT_ROLE
from memgui.store import ValidationError

if TYPE_CHECKING:
    from memgui.models.edit_commands import EditController

COL_TYPE, COL_CONTENT, COL_CREATED, COL_UPDATED = range(4)


@dataclasses.dataclass(frozen=True, slots=True)
class MemoryRow:
    """One memory: its type and position in that type's list (how the store addresses it), its text, and
    the entry as stored (what an edit expects to find)."""

    memory_type: str
    index: int
    content: str
    created: str
    updated: str
    entry: dict[str, Any] | None = dataclasses.field(default=None, hash=False)


class MemoriesModel(KeyedTableModel):
    HEADERS = ("Type", "Memory", "Created", "Updated")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.editor: EditController | None = None

    def key(self, row: MemoryRow) -> Hashable:
        return (row.memory_type, row.index)

    def cell(self, row: MemoryRow, column: int, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole, SORT_ROLE):
            return (row.memory_type, row.content, row.created, row.updated)[column]
        if role == Qt.ItemDataRole.ToolTipRole and column == COL_CONTENT:
            return row.content
        return None

    def types(self) -> list[str]:
        return list(dict.fromkeys(r.memory_type for r in self._rows))

    # -- editing ---------------------------------------------------------------------------------------
    def editable(self) -> bool:
        return self.editor is not None and self.editor.can_edit()

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == COL_CONTENT and self.editable():
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Write the edited content to the store now, expecting the memory as shown."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() != COL_CONTENT:
            return False
        if not 0 <= index.row() < len(self._rows) or self.editor is None:
            return False
        row: MemoryRow = self._rows[index.row()]
        if row.entry is None:
            return False
        if not isinstance(value, str):  # a JSON value already (a caller other than the delegate)
            return value == row.entry.get("content") or self.editor.submit(
                MemoryUpdate(self.editor.user_id, row.memory_type, row.index, row.entry, value))
        text = value
        if text == row.content:
            return True
        old = row.entry.get("content")
        try:
            content = text if isinstance(old, str) else parse_json(text, "The memory")
        except ValidationError as exc:
            if self.editor.can_edit():
                self.editor.refused.emit(f"Not saved: {exc}")
                return False
            content = text
        return self.editor.submit(MemoryUpdate(self.editor.user_id, row.memory_type, row.index, row.entry, content))
