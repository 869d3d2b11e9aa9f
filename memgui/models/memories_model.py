"""The selected user's permanent memories, by type."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from typing import Any

from PySide6.QtCore import Qt

from memgui.models.keyed_table import KeyedTableModel
from memgui.models.roles import SORT_ROLE

COL_TYPE, COL_CONTENT, COL_CREATED, COL_UPDATED = range(4)


@dataclasses.dataclass(frozen=True, slots=True)
class MemoryRow:
    """One memory: its type and position in that type's list (how the store addresses it), its text."""

    memory_type: str
    index: int
    content: str
    created: str
    updated: str


class MemoriesModel(KeyedTableModel):
    HEADERS = ("Type", "Memory", "Created", "Updated")

    def key(self, row: MemoryRow) -> Hashable:
        return (row.memory_type, row.index)

    def cell(self, row: MemoryRow, column: int, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole, SORT_ROLE):
            return (row.memory_type, row.content, row.created, row.updated)[column]
        if role == Qt.ItemDataRole.ToolTipRole and column == COL_CONTENT:
            return row.content
        return None
