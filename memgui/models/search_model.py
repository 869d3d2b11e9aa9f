"""The results of a store-wide search, one row per hit (``memgui.store.search.Hit``), newest indexed first.

A new query starts an empty list that grows as batches arrive (rows appended); the same query asked again
after a change in the store (``follow``) collects the whole answer first and then applies it as a diff, so
the row the admin selected stays selected and new hits slide in. The snippet is plain text: the delegate
draws it as such, with the match at ``MATCH_ROLE``'s range.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt

from memgui.models.keyed_table import KeyedTableModel
from memgui.models.roles import FILTER_ROLE
from memgui.store.search import Hit

TITLE_ROLE = int(Qt.ItemDataRole.UserRole) + 20  # "alice · message from user · 2026-03-04"
MATCH_ROLE = int(Qt.ItemDataRole.UserRole) + 21  # (start, end) of the match in the snippet

KIND_NAMES = {"message": "Message", "fact": "Fact", "memory": "Memory", "profile": "Profile",
              "global": "Global context"}


def title(hit: Hit) -> str:
    """Where a hit is, in words: who, what, when."""
    who = hit.user or "every user"
    what = KIND_NAMES.get(hit.kind, hit.kind)
    if hit.kind == "message" and hit.role:
        what += f" from {hit.role}"
    elif hit.field:
        what += f" · {hit.field}"
    when = hit.ts[:10]
    return " · ".join(p for p in (who, what, when) if p)


def hit_key(hit: Hit) -> Hashable:
    return (hit.user, hit.kind, hit.ref, hit.field)


class SearchResultsModel(KeyedTableModel):
    HEADERS = ("Result",)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._incoming: list[Hit] | None = None  # collected while following a change

    def key(self, row: Hit) -> Hashable:
        return hit_key(row)

    def cell(self, row: Hit, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return row.snippet
        if role == TITLE_ROLE:
            return title(row)
        if role == MATCH_ROLE:
            return (row.start, row.end)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{title(row)}\n{row.snippet}"
        if role == FILTER_ROLE:
            return row.user
        return None

    def hit(self, row: int) -> Hit | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # -- filling ---------------------------------------------------------------------------------------
    def begin(self, *, follow: bool) -> None:
        """A search starts: ``follow`` for the same query asked again (diffed at ``finish``), else a new
        query (the list is emptied and grows as hits arrive)."""
        if follow:
            self._incoming = []
        else:
            self._incoming = None
            self.replace_rows([])

    def add_hits(self, hits: Iterable[Hit]) -> None:
        if self._incoming is not None:
            self._incoming.extend(hits)
            return
        known = {hit_key(h) for h in self._rows}
        fresh = [h for h in _unique(hits) if hit_key(h) not in known]
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(fresh)
            self.endInsertRows()

    def finish(self) -> None:
        if self._incoming is not None:
            incoming, self._incoming = self._incoming, None
            self.apply_rows(list(_unique(incoming)))


def _unique(hits: Iterable[Hit]) -> Iterable[Hit]:
    seen: set[Hashable] = set()
    for hit in hits:
        key = hit_key(hit)
        if key not in seen:
            seen.add(key)
            yield hit
