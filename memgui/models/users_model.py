"""Every user of the store, one row each, sorted and filtered by the model itself.

A ``QSortFilterProxyModel`` over a Python model calls ``data()`` from C++ for every comparison (3 s to sort
10,000 users); over C++ items it needs one ``QStandardItem`` per cell (700,000 for 100,000 users: 14 s to build
and 1.4 GiB, benchmarks/bench_gui.py). Here the rows are plain ``UserSummary`` objects and what the view shows is
a ``RowOrder``: the ids of the users shown, in ascending order of the sorted column (the descending order reads
it backwards). Sorting is one stable sort of the ids by one column's keys, a batch of new users is merged in one
pass, a user's row is found by bisection, and the filter is a pass over folded text. Changes arrive as
summaries and are applied as row inserts, removals, ``dataChanged`` and sorting layout changes, so selection and
scroll position survive; only a new filter text resets (the users pane selects the current user again).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QIcon

from memgui.models.roles import ERROR_ROLE, FILTER_ROLE, ROW_ROLE, SORT_ROLE
from memgui.models.row_order import RowOrder

COL_ID, COL_NAME, COL_LAST_ACTIVE, COL_MESSAGES, COL_FACTS, COL_CURRENT, COL_LONGEST = range(7)
HEADERS = ("User id", "Name", "Last active", "Messages", "Facts", "Streak", "Longest")
ICONS = Path(__file__).resolve().parents[2] / "resources" / "icons"
_ERROR_BRUSH = QBrush(QColor("#b3261e"))
_NUMBER_ALIGNMENT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_ROOT = QModelIndex()
# Roles as plain ints: ``Qt.ItemDataRole.X`` is an attribute lookup through the binding on every comparison, and
# ``_value`` runs for every role of every painted cell.
_DISPLAY, _FOREGROUND, _DECORATION, _TOOLTIP, _ALIGNMENT = (int(r) for r in (
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.DecorationRole,
    Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.TextAlignmentRole))
_FEW = 32  # new users inserted one by one up to this many; more are appended and merged in one layout change
Index = QModelIndex | QPersistentModelIndex


@dataclasses.dataclass(slots=True)
class UserSummary:
    """What the users list shows about one user; ``error`` says why some of it could not be read. Never changed
    once made (a new summary replaces it), but not frozen: a frozen dataclass's ``__init__`` sets each field
    through ``object.__setattr__``, 2.3 µs a row, and the list makes 100,000 of them on every start."""

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


def sort_keys(s: UserSummary) -> tuple[Any, ...]:
    """The sort key of each column (numbers as numbers; a row not loaded yet sorts first)."""
    if not s.loaded:
        return (s.user_id.casefold(), "", -1.0, -1, -1, -1, -1)
    return (s.user_id.casefold(), s.name.casefold(), s.last_active_epoch, s.messages, s.facts, s.current_streak,
            s.longest_streak)


def key_columns(summaries: Sequence[UserSummary]) -> list[list[Any]]:
    """``sort_keys`` of ``summaries`` as a list per column: a comprehension a column when every row is loaded
    (no tuple built per row and taken apart again: the list loads 100,000 rows on every start)."""
    if not all(s.loaded for s in summaries):
        return [list(column) for column in zip(*map(sort_keys, summaries), strict=True)]
    return [[s.user_id.casefold() for s in summaries], [s.name.casefold() for s in summaries],
            [s.last_active_epoch for s in summaries], [s.messages for s in summaries], [s.facts for s in summaries],
            [s.current_streak for s in summaries], [s.longest_streak for s in summaries]]


def cell_texts(s: UserSummary) -> tuple[str, ...]:
    if not s.loaded:
        return (s.user_id, "…", "", "", "", "", "")
    return (s.user_id, s.name, s.last_active, f"{s.messages:,}", f"{s.facts:,}", str(s.current_streak),
            str(s.longest_streak))


def folded(s: UserSummary) -> str:
    """What the filter box matches: id and name (of a row loaded), case folded."""
    return f"{s.user_id}\n{s.name if s.loaded else ''}".casefold()


class UsersModel(QAbstractTableModel):
    """The users list. ``rowCount`` counts the users shown (the filter applied); ``total_count`` all of them."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._all: dict[str, UserSummary] = {}  # arrival order
        self._order = RowOrder(len(HEADERS))
        self._folded: dict[str, str] = {}
        self._descending = False
        self._filter = ""
        self._damaged: set[str] = set()
        self._warning = QIcon(str(ICONS / "warning.svg"))

    # -- Qt interface ----------------------------------------------------------------------------------
    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._order):
            return None
        return self._value(self._all[self._uid_at(index.row())], index.column(), role)

    def multiData(self, index: Index, roles: QModelRoleDataSpan | QModelRoleData) -> None:
        """Every role a delegate asks for of one cell in one call (Qt's own ``multiData`` calls ``data`` once a
        role: seven calls into Python a cell, each waiting for the GIL while a worker runs Python)."""
        span: Any = roles  # the type stubs know neither a span's length nor its items
        entries = [span] if isinstance(span, QModelRoleData) else [span[i] for i in range(len(span))]
        valid = index.isValid() and 0 <= index.row() < len(self._order)
        s = self._all[self._uid_at(index.row())] if valid else None
        for entry in entries:
            value = None if s is None else self._value(s, index.column(), entry.role())
            if value is None:
                entry.clearData()
            else:
                entry.setData(value)

    def _value(self, s: UserSummary, column: int, role: int) -> Any:
        if role == _DISPLAY:
            return cell_texts(s)[column]
        if role == ROW_ROLE:
            return s
        if role == SORT_ROLE:
            return self._order.value(s.user_id, column)
        if role == ERROR_ROLE:
            return s.error
        if role == _FOREGROUND:
            return _ERROR_BRUSH if s.error else None
        if role == _DECORATION:
            return self._warning if s.error and column == COL_ID else None
        if role == _TOOLTIP:
            if s.error:
                return f"Damaged: {s.error}"
            return f"{s.last_active} ({s.zone})" if column == COL_LAST_ACTIVE and s.last_active else None
        if role == _ALIGNMENT:
            return _NUMBER_ALIGNMENT if column >= COL_MESSAGES else None
        if role == FILTER_ROLE:
            return self._folded[s.user_id]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Show the rows ordered by ``column`` (the view calls this on a header click)."""
        if not 0 <= column < len(HEADERS):
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if (column, descending) == (self._order.column, self._descending):
            return

        def reorder() -> None:
            self._order.sort_by(column)
            self._descending = descending
        self._relayout(reorder)

    # -- reading -------------------------------------------------------------------------------------
    def user_ids(self) -> list[str]:
        """Every user, shown or not, in arrival order."""
        return list(self._all)

    def summary(self, user_id: str) -> UserSummary | None:
        return self._all.get(user_id)

    def knows(self, user_id: str) -> bool:
        return user_id in self._all

    def row_of(self, user_id: str) -> int:
        """The row showing ``user_id``; -1 for a user unknown or hidden by the filter."""
        i = self._order.index(user_id)
        return len(self._order) - 1 - i if self._descending and i >= 0 else i

    def total_count(self) -> int:
        return len(self._all)

    def error_count(self) -> int:
        return len(self._damaged)

    def filter_text(self) -> str:
        return self._filter

    def _uid_at(self, row: int) -> str:
        order = self._order
        return order.uid_at(len(order) - 1 - row if self._descending else row)

    def _visible(self, user_id: str) -> bool:
        return not self._filter or self._filter in self._folded[user_id]

    # -- changing ------------------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        """Show only users whose id or name holds ``text`` (case-insensitive); '' shows every user."""
        text = text.casefold()
        if text == self._filter:
            return
        self.beginResetModel()
        self._filter = text
        # One comprehension a pass, no call per user (100,000 users: 59 ms with two calls a user, 18 ms so).
        self._order.show([u for u, f in self._folded.items() if text in f] if text else None)
        self.endResetModel()

    def apply_user(self, summary: UserSummary) -> None:
        """Insert the user, or update their row."""
        if summary.user_id in self._all:
            self.fill_users([summary])
        else:
            self.append_users([summary])

    def append_users(self, summaries: Iterable[UserSummary]) -> None:
        """Add users not in the list yet (known ones are updated instead, through ``fill_users``)."""
        batch = list({s.user_id: s for s in summaries}.values())
        fresh = [s for s in batch if s.user_id not in self._all]
        if len(fresh) < len(batch):
            self.fill_users([s for s in batch if s.user_id in self._all])
        ids = self._store(fresh, new=True)
        self._insert([u for u in ids if self._filter in self._folded[u]] if self._filter else ids)

    def fill_users(self, summaries: Iterable[UserSummary]) -> None:
        """Update the rows of known users (unknown ones are skipped): rows leaving or joining the filter removed
        or inserted, one sorting layout change when sorted values moved, one ``dataChanged`` over the rest."""
        unique = {s.user_id: s for s in summaries}.values()
        changed = [s for s in unique if (old := self._all.get(s.user_id)) is not None and old != s]
        # Rows leaving the filter go first, found while every shown row still has the keys it is ordered by.
        gone = [s.user_id for s in changed if self._visible(s.user_id) and not self._filter_holds(s)]
        for user_id in gone:
            self._remove_row(user_id)
        joined: list[str] = []
        moved: list[str] = []
        touched: list[str] = []
        order, column = self._order, self._order.column
        # Visible before and the key the row is ordered by (a row removed above is skipped: not visible now).
        before = [(self._visible(s.user_id), order.value(s.user_id, column)) for s in changed]
        self._store(changed)
        for s, (was_visible, old_key) in zip(changed, before, strict=True):
            if not self._visible(s.user_id):
                continue
            if not was_visible:
                joined.append(s.user_id)
                continue
            if order.value(s.user_id, column) != old_key:
                moved.append(s.user_id)
            touched.append(s.user_id)
        if moved:
            self._relayout(lambda: self._order.reposition(moved))
        self._insert(joined)
        if len(touched) > _FEW:  # the rows' span is not worth finding (a bisection each): the view repaints anyway
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._order) - 1, len(HEADERS) - 1))
        elif touched:
            rows = [self.row_of(u) for u in touched]
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), len(HEADERS) - 1))

    def remove_user(self, user_id: str) -> None:
        if user_id not in self._all:
            return
        if self._visible(user_id):
            self._remove_row(user_id)
        self._order.forget(user_id)
        del self._all[user_id], self._folded[user_id]
        self._damaged.discard(user_id)

    def apply_users(self, summaries: Sequence[UserSummary]) -> None:
        """Make the list hold exactly ``summaries``: removals, updates and inserts, no reset."""
        wanted = {s.user_id for s in summaries}
        for user_id in [u for u in self._all if u not in wanted]:
            self.remove_user(user_id)
        self.append_users(summaries)

    def clear_users(self) -> None:
        """Forget every user (another folder was opened)."""
        self.beginResetModel()
        self._all.clear()
        self._order.clear()
        self._folded.clear()
        self._damaged.clear()
        self.endResetModel()

    # -- the sorted list ---------------------------------------------------------------------------------
    def _store(self, summaries: list[UserSummary], *, new: bool = False) -> list[str]:
        """Keep ``summaries`` (users not in the list yet when ``new``); their ids."""
        ids = [s.user_id for s in summaries]
        self._all.update(zip(ids, summaries, strict=True))
        columns = key_columns(summaries)
        if new:
            self._order.add(ids, columns)
        else:
            self._order.set_keys(ids, columns)
        # What the filter matches, from the folded id and name columns (casefold maps each character alone).
        self._folded.update(zip(ids, [f"{i}\n{n}" for i, n in zip(columns[COL_ID], columns[COL_NAME], strict=True)],
                                strict=True))
        if self._damaged or any(s.error for s in summaries):
            self._damaged.difference_update(ids)
            self._damaged.update(s.user_id for s in summaries if s.error)
        return ids

    def _filter_holds(self, s: UserSummary) -> bool:
        return not self._filter or self._filter in folded(s)

    def _insert(self, user_ids: list[str]) -> None:
        """Show ``user_ids`` (not shown yet): appended when they sort after every row shown, one by one when few,
        else appended and then merged into place."""
        if not user_ids:
            return
        order = self._order
        slots = order.ascending(user_ids)
        at_end = order.after(slots, self._descending)
        if at_end or len(slots) > _FEW:
            n = len(order)
            self.beginInsertRows(_ROOT, n, n + len(slots) - 1)
            if self._descending:
                order.shown[0:0] = slots
            else:
                order.shown.extend(slots)
            self.endInsertRows()
            if not at_end:
                tail, head = (0, len(slots)) if self._descending else (len(slots), 0)
                self._relayout(lambda: order.merge(slots, tail=tail, head=head))
            return
        for slot in slots:
            i = order.place(slot)
            row = len(order) - i if self._descending else i
            self.beginInsertRows(_ROOT, row, row)
            order.shown.insert(i, slot)
            self.endInsertRows()

    def _remove_row(self, user_id: str) -> None:
        row = self.row_of(user_id)
        i = len(self._order) - 1 - row if self._descending else row
        self.beginRemoveRows(_ROOT, row, row)
        del self._order.shown[i]
        self.endRemoveRows()

    def _relayout(self, reorder: Callable[[], None]) -> None:
        """Change the order of the rows by ``reorder()`` as a layout change: persistent indexes (selection,
        current row, editors) follow their users."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        users = [self._uid_at(p.row()) for p in persistent]
        reorder()
        self.changePersistentIndexList(persistent, [self.index(self.row_of(u), p.column())
                                                    for u, p in zip(users, persistent, strict=True)])
        self.layoutChanged.emit()
