"""The selected user's facts: category, text, and when, by whom and from where each came.

The category and text cells are editable when an ``EditController`` is attached and the window is not
read-only: ``setData`` (what the delegate calls on commit) writes through the store at once, checked against
the fact as shown; the row then changes like any other change read back from the store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from memgui.models.edits import FactUpdate, quote
from memgui.models.keyed_table import KeyedTableModel
from memgui.models.roles import FILTER_ROLE, SORT_ROLE

if TYPE_CHECKING:
    from memgui.models.edit_commands import EditController

COL_CATEGORY, COL_TEXT, COL_ADDED, COL_BY, COL_SOURCE = range(5)
EDITABLE_COLUMNS = (COL_CATEGORY, COL_TEXT)


@dataclasses.dataclass(frozen=True, slots=True)
class FactRow:
    """One fact as shown; times already in the user's zone. ``source_message_id`` is the message the fact
    was extracted from; ``context_message_id`` the newest message when it was added (the next best)."""

    id: str
    category: str
    text: str
    added: str
    added_by: str
    changed: str
    changed_by: str
    source: str
    added_sort: str = ""
    source_message_id: str | None = None
    context_message_id: str | None = None

    @property
    def message_id(self) -> str | None:
        """The message to show for this fact: its source, else the context it was added in."""
        return self.source_message_id or self.context_message_id


class FactsModel(KeyedTableModel):
    HEADERS = ("Category", "Fact", "Added", "By", "From")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.editor: EditController | None = None

    def key(self, row: FactRow) -> Hashable:
        return row.id

    def cell(self, row: FactRow, column: int, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole, SORT_ROLE):
            if column == COL_ADDED and role == SORT_ROLE:
                return row.added_sort
            return (row.category, row.text, row.added, row.added_by, row.source)[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == COL_TEXT:
                return row.text
            if column in (COL_ADDED, COL_BY):
                return f"added {row.added or 'at an unknown time'} by {row.added_by or 'unknown'}\n" \
                       f"changed {row.changed or '-'} by {row.changed_by or '-'}"
            if column == COL_SOURCE:
                if row.source_message_id:
                    return f"From message {row.source_message_id}"
                if row.context_message_id:
                    return f"Added after message {row.context_message_id} (the newest at the time)"
                return row.source
        if role == FILTER_ROLE:
            return f"{row.category}\n{row.text}".casefold()
        return None

    # -- editing ---------------------------------------------------------------------------------------
    def editable(self) -> bool:
        return self.editor is not None and self.editor.can_edit()

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() in EDITABLE_COLUMNS and self.editable():
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Write the edited category or text to the store now (refused when read-only or invalid)."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() not in EDITABLE_COLUMNS:
            return False
        if not 0 <= index.row() < len(self._rows) or self.editor is None:
            return False
        row: FactRow = self._rows[index.row()]
        new = str(value) if value is not None else ""
        category, text = (new, row.text) if index.column() == COL_CATEGORY else (row.category, new)
        if (category, text) == (row.category, row.text):
            return True
        problem = self.problem(category, text, row.id)
        if problem and self.editor.can_edit():
            self.editor.refused.emit(f"Not saved: {problem}")
            return False
        return self.editor.submit(FactUpdate(self.editor.user_id, row.id, row.category, row.text, category, text))

    def problem(self, category: str, text: str, ignore_id: str | None = None) -> str | None:
        """Why (category, text) cannot be stored as a fact beside the facts shown, or None."""
        if not text.strip():
            return "a fact can't be empty. Type what the assistant should remember, or delete the fact."
        if not category.strip():
            return "a fact needs a category. Pick one or type a new one."
        if any(r.category == category and r.text == text and r.id != ignore_id for r in self._rows):
            return f"{quote(text)} is already a fact in {quote(category)}."
        return None

    def categories(self) -> list[str]:
        """The categories shown, in order of first appearance."""
        return list(dict.fromkeys(r.category for r in self._rows))

    def row_of_id(self, fact_id: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == fact_id), -1)
