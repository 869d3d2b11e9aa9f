"""The selected user's facts: category, text, and when, by whom and from where each came (read-only here;
editing through ``setData`` comes with the editing issue)."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from typing import Any

from PySide6.QtCore import Qt

from memgui.models.keyed_table import KeyedTableModel
from memgui.models.roles import FILTER_ROLE, SORT_ROLE

COL_CATEGORY, COL_TEXT, COL_ADDED, COL_BY, COL_SOURCE = range(5)


@dataclasses.dataclass(frozen=True, slots=True)
class FactRow:
    """One fact as shown; times already in the user's zone."""

    id: str
    category: str
    text: str
    added: str
    added_by: str
    changed: str
    changed_by: str
    source: str
    added_sort: str = ""


class FactsModel(KeyedTableModel):
    HEADERS = ("Category", "Fact", "Added", "By", "From")

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
                return row.source
        if role == FILTER_ROLE:
            return f"{row.category}\n{row.text}".casefold()
        return None
