"""One fact's version history (newest first) and the word-level difference between two states of it."""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Hashable
from datetime import tzinfo
from typing import Any

from PySide6.QtCore import Qt

from memgui.models.keyed_table import KeyedTableModel
from memgui.models.roles import SORT_ROLE
from memgui.models.timefmt import local_moment, local_text

COL_WHEN, COL_BY, COL_CHANGE = range(3)
State = tuple[str, str]  # (category, text)
ACTIONS = {"add": "added", "update": "changed", "recategorize": "moved", "remove": "removed",
           "restore": "restored"}


@dataclasses.dataclass(frozen=True, slots=True)
class VersionRow:
    """One entry of the version log: the state before and after a change (None: the fact did not exist)."""

    id: str
    when: str
    when_sort: str
    by: str
    action: str
    before: State | None
    after: State | None

    @property
    def state(self) -> State | None:
        """The state "restore this version" brings back: the one after the change (for a removal, before)."""
        return self.after or self.before

    def summary(self) -> str:
        verb = ACTIONS.get(self.action, self.action)
        if self.before and self.after and self.before[0] != self.after[0] and self.before[1] == self.after[1]:
            return f"moved from {self.before[0]} to {self.after[0]}"
        state = self.state
        return f"{verb}: [{state[0]}] {state[1]}" if state else verb


def version_rows(entries: list[dict[str, Any]], zone: tzinfo, default: tzinfo) -> list[VersionRow]:
    """Rows for the log entries of one fact, newest first."""
    rows = []
    for entry in entries:
        moment = local_moment(entry.get("at"), zone, default)
        rows.append(VersionRow(
            id=str(entry.get("id")), when=local_text(entry.get("at"), zone, default),
            when_sort=moment.isoformat() if moment else "", by=str(entry.get("by") or ""),
            action=str(entry.get("action") or ""), before=_state(entry.get("before")),
            after=_state(entry.get("after"))))
    return rows[::-1]


def _state(value: Any) -> State | None:
    if isinstance(value, dict) and isinstance(value.get("category"), str) and isinstance(value.get("text"), str):
        return value["category"], value["text"]
    return None


class FactHistoryModel(KeyedTableModel):
    HEADERS = ("When", "By", "Change")

    def key(self, row: VersionRow) -> Hashable:
        return row.id

    def row_of(self, version_id: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == version_id), -1)

    def cell(self, row: VersionRow, column: int, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
            if column == COL_WHEN and role == SORT_ROLE:
                return row.when_sort
            return (row.when, row.by, row.summary())[column]
        if role == Qt.ItemDataRole.ToolTipRole and column == COL_CHANGE:
            return row.summary()
        return None


_TOKENS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """``after`` compared with ``before`` as (op, text) runs: ``=`` kept, ``-`` removed, ``+`` added."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    out: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(("=", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            out.append(("-", "".join(old[i1:i2])))
        if j2 > j1:
            out.append(("+", "".join(new[j1:j2])))
    return [(op, text) for op, text in out if text]
