"""Every user of the store, one row each, in a ``QStandardItemModel``.

The data lives in C++ items so that ``QSortFilterProxyModel`` sorts and filters 10,000 users in
milliseconds (through ``SORT_ROLE`` / ``FILTER_ROLE``): with a Python ``data()`` the proxy makes a Python
call per comparison, 3 s for one sort here. Changes arrive as summaries and are applied per row
(``apply_user``, ``apply_users``, ``remove_user``), never as a reset.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QStandardItem, QStandardItemModel

from memgui.models.roles import ERROR_ROLE, FILTER_ROLE, ROW_ROLE, SORT_ROLE

COL_ID, COL_NAME, COL_LAST_ACTIVE, COL_MESSAGES, COL_FACTS, COL_CURRENT, COL_LONGEST = range(7)
HEADERS = ("User id", "Name", "Last active", "Messages", "Facts", "Streak", "Longest")
ICONS = Path(__file__).resolve().parents[2] / "resources" / "icons"
_ERROR_BRUSH = QBrush(QColor("#b3261e"))
_NUMBER_ALIGNMENT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


@dataclasses.dataclass(frozen=True, slots=True)
class UserSummary:
    """What the users list shows about one user; ``error`` says why some of it could not be read."""

    user_id: str
    name: str = ""
    last_active: str = ""  # in the user's zone
    last_active_epoch: float = -1.0
    messages: int = 0
    facts: int = 0
    current_streak: int = 0
    longest_streak: int = 0
    zone: str = ""
    error: str | None = None
    loaded: bool = True  # False while only the id is known


class UsersModel(QStandardItemModel):
    """The users list. Row order is arrival order; sorting and filtering belong to the proxy."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(0, len(HEADERS), parent)
        self.setHorizontalHeaderLabels(list(HEADERS))
        self._items: dict[str, QStandardItem] = {}  # user id -> its id-column item
        # The model's C++ side deletes its items with it; Python wrappers still held here would then point at
        # freed memory, and shiboken hands such a stale wrapper out for a new QObject built at the same address
        # (pyqtgraph walking children() then met a "QStandardItem"). Drop them the moment the model goes.
        self.destroyed.connect(self._items.clear)
        self._damaged: set[str] = set()  # users whose summary has an error (counted on every row insert)
        self._warning = QIcon(str(ICONS / "warning.svg"))
        self._prototypes = [QStandardItem() for _ in HEADERS]
        for column, proto in enumerate(self._prototypes):
            proto.setEditable(False)
            if column >= COL_MESSAGES:
                proto.setTextAlignment(_NUMBER_ALIGNMENT)

    # -- reading -------------------------------------------------------------------------------------
    def user_ids(self) -> list[str]:
        return list(self._items)

    def summary(self, user_id: str) -> UserSummary | None:
        item = self._items.get(user_id)
        return None if item is None else item.data(ROW_ROLE)

    def row_of(self, user_id: str) -> int:
        item = self._items.get(user_id)
        return -1 if item is None else item.row()

    def error_count(self) -> int:
        return len(self._damaged)

    def _note_error(self, summary: UserSummary) -> None:
        if summary.error:
            self._damaged.add(summary.user_id)
        else:
            self._damaged.discard(summary.user_id)

    # -- changing ------------------------------------------------------------------------------------
    def apply_user(self, summary: UserSummary) -> None:
        """Insert the user, or update the cells of their row that changed."""
        item = self._items.get(summary.user_id)
        if item is None:
            self.append_users([summary])
            return
        self._update_row(item.row(), summary)

    def append_users(self, summaries: Iterable[UserSummary]) -> None:
        """Add users not in the list yet (known ones are updated instead, through ``fill_users``).

        New rows arrive as one ``rowsInserted`` and one ``dataChanged`` per batch: the proxy sorts and filters
        a batch once instead of once per row (100,000 rows in batches of thousands stay within a frame each)."""
        known = [s for s in summaries if s.user_id in self._items]
        fresh = [s for s in summaries if s.user_id not in self._items]
        if known:
            self.fill_users(known)
        if not fresh:
            return
        fresh = list({s.user_id: s for s in fresh}.values())
        first = self.rowCount()
        self.insertRows(first, len(fresh))
        blocked = self.blockSignals(True)
        try:
            for row, summary in enumerate(fresh, first):
                for column, (text, sort) in enumerate(_cells(summary)):
                    item = self._prototypes[column].clone()  # flags and alignment copied in C++: cheaper
                    item.setText(text)
                    item.setData(sort, SORT_ROLE)
                    item.setData(summary, ROW_ROLE)
                    if column == COL_ID:
                        item.setData(f"{summary.user_id}\n{summary.name}".casefold(), FILTER_ROLE)
                        self._items[summary.user_id] = item
                    if summary.error or (column == COL_LAST_ACTIVE and summary.last_active):
                        _decorate(item, summary, column, self._warning)  # a fresh cell needs no more
                    self.setItem(row, column, item)
                self._note_error(summary)
        finally:
            self.blockSignals(blocked)
        self.dataChanged.emit(self.index(first, 0), self.index(first + len(fresh) - 1, len(HEADERS) - 1))

    def fill_users(self, summaries: Iterable[UserSummary]) -> None:
        """Update the rows of known users (unknown ones are skipped) with one ``dataChanged`` over the rows
        touched: a batch of columns filled in after the first paint costs the proxy one re-sort."""
        rows: list[int] = []
        blocked = self.blockSignals(True)
        try:
            for summary in summaries:
                item = self._items.get(summary.user_id)
                if item is None:
                    continue
                row = item.row()
                rows.append(row)
                self._update_row(row, summary)
        finally:
            self.blockSignals(blocked)
        if rows:
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), len(HEADERS) - 1))

    def _update_row(self, row: int, summary: UserSummary) -> None:
        self._note_error(summary)
        for column, (text, sort) in enumerate(_cells(summary)):
            cell = self.item(row, column)
            if cell.text() != text:
                cell.setText(text)
            if cell.data(SORT_ROLE) != sort:
                cell.setData(sort, SORT_ROLE)
            if column == COL_ID:
                cell.setData(f"{summary.user_id}\n{summary.name}".casefold(), FILTER_ROLE)
            _decorate(cell, summary, column, self._warning)

    def remove_user(self, user_id: str) -> None:
        item = self._items.pop(user_id, None)
        self._damaged.discard(user_id)
        if item is not None:
            self.removeRow(item.row())

    def apply_users(self, summaries: Sequence[UserSummary]) -> None:
        """Make the list hold exactly ``summaries``: removals, updates and inserts, no reset."""
        wanted = {s.user_id for s in summaries}
        for user_id in [u for u in self._items if u not in wanted]:
            self.remove_user(user_id)
        for summary in summaries:
            self.apply_user(summary)

    def clear_users(self) -> None:
        """Forget every user (another folder was opened)."""
        self._items.clear()
        self._damaged.clear()
        self.removeRows(0, self.rowCount())


def _cells(s: UserSummary) -> list[tuple[str, object]]:
    """(text, sort key) per column."""
    if not s.loaded:
        return [(s.user_id, s.user_id.casefold()), ("…", ""), ("", -1.0), ("", -1), ("", -1), ("", -1), ("", -1)]
    return [
        (s.user_id, s.user_id.casefold()),
        (s.name, s.name.casefold()),
        (s.last_active, s.last_active_epoch),
        (f"{s.messages:,}", s.messages),
        (f"{s.facts:,}", s.facts),
        (str(s.current_streak), s.current_streak),
        (str(s.longest_streak), s.longest_streak),
    ]


def _decorate(item: QStandardItem, s: UserSummary, column: int, warning: QIcon) -> None:
    """Row object, error mark and tooltips of one cell (only what changed is set, to spare signals)."""
    if item.data(ROW_ROLE) != s:
        item.setData(s, ROW_ROLE)
    if item.data(ERROR_ROLE) != s.error:
        item.setData(s.error, ERROR_ROLE)
        item.setData(_ERROR_BRUSH if s.error else None, Qt.ItemDataRole.ForegroundRole)
        if column == COL_ID:
            item.setIcon(warning if s.error else QIcon())
    tip = f"Damaged: {s.error}" if s.error else (f"{s.last_active} ({s.zone})" if column == COL_LAST_ACTIVE
                                                  and s.last_active else "")
    if item.toolTip() != tip:
        item.setToolTip(tip)
