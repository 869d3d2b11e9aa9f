"""``RowOrder``: the users list's rows in the order of one column.

Each user has a slot, a small int. The sort keys live in one list per column, indexed by slot, and ``by_id``
holds every slot in id order. Rows are ordered by ``(key of the sorted column, user id)``. Sorting by another
column is then one stable sort of ``by_id`` by that column's list: the keys of one column are all of one type,
so the sort compares them in C with no tuple built per row. On 100,000 users that is ~30 ms, where sorting
``(key, id)`` tuples took ~230 ms (benchmarks/bench_gui.py). Lists, not dicts: growing seven 100,000-entry
dicts rehashes them all at once (a 50 ms pause while the list loads), growing a list only copies it.

A batch of new or moved rows is merged in: its places are found by bisection and the list is copied once in
slices, so the cost is the batch size times log n, plus one copy. A removed user's slot is not reused (its
keys stay behind, unreferenced, until the list is cleared: a few bytes per removal).

Plain Python, no Qt: ``UsersModel`` turns each change into row inserts, removals and layout changes.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from typing import Any


def merged(base: list[int], new: Sequence[int], key: Callable[[int], Any]) -> list[int]:
    """``base`` and ``new`` (disjoint, each ascending by ``key``) as one ascending list."""
    if not base:
        return list(new)
    if not new or key(new[0]) > key(base[-1]):
        return base + list(new)
    out: list[int] = []
    at = 0
    for item in new:
        where = bisect.bisect_left(base, key(item), at, key=key)
        out += base[at:where]
        out.append(item)
        at = where
    out += base[at:]
    return out


class RowOrder:
    """The users shown, ascending by ``(key of the sorted column, user id)``; ``by_id`` has every user."""

    def __init__(self, columns: int) -> None:
        self._columns = columns
        self.column = 0
        self.clear()

    def clear(self) -> None:
        """Forget every user (the sorted column stays)."""
        self.ids: list[str] = []  # slot -> user id
        self.slots: dict[str, int] = {}  # user id -> slot
        self.cols: list[list[Any]] = [[] for _ in range(self._columns)]  # column -> slot -> key
        self.by_id: list[int] = []  # every user's slot, ascending by id
        self.shown: list[int] = []  # the slots shown, ascending by key()

    def __len__(self) -> int:
        return len(self.shown)

    def key(self, slot: int) -> tuple[Any, str]:
        return (self.cols[self.column][slot], self.ids[slot])

    def value(self, user_id: str, column: int) -> Any:
        return self.cols[column][self.slots[user_id]]

    def uid_at(self, i: int) -> str:
        return self.ids[self.shown[i]]

    # -- users ---------------------------------------------------------------------------------------------
    def set_keys(self, user_ids: Sequence[str], columns: Sequence[Sequence[Any]]) -> None:
        """Record users' sort keys: ``columns[c][i]`` is column c's key of ``user_ids[i]`` (a list per column,
        copied in C). New users join ``by_id`` (not ``shown``); users already in ``shown`` whose keys changed
        have to be repositioned."""
        slots = self.slots
        at = [slots.get(u, -1) for u in user_ids]
        known = [i for i, slot in enumerate(at) if slot >= 0]
        for col, values in zip(self.cols, columns, strict=True):
            for i in known:
                col[at[i]] = values[i]
        if len(known) == len(user_ids):
            return
        if known:
            fresh = [i for i, slot in enumerate(at) if slot < 0]
            user_ids = [user_ids[i] for i in fresh]
            columns = [[values[i] for i in fresh] for values in columns]
        self.add(user_ids, columns)

    def add(self, user_ids: Sequence[str], columns: Sequence[Sequence[Any]]) -> None:
        """``set_keys`` of users none of whom is known yet."""
        first = len(self.ids)
        new = range(first, first + len(user_ids))
        self.slots.update(zip(user_ids, new, strict=True))
        self.ids.extend(user_ids)
        for col, values in zip(self.cols, columns, strict=True):
            col.extend(values)
        name = self.ids.__getitem__
        self.by_id = merged(self.by_id, sorted(new, key=name), name)

    def forget(self, user_id: str) -> None:
        """Drop a user who is not in ``shown``."""
        self.slots.pop(user_id)
        del self.by_id[bisect.bisect_left(self.by_id, user_id, key=self.ids.__getitem__)]

    # -- the rows shown ------------------------------------------------------------------------------------
    def index(self, user_id: str) -> int:
        """Where ``user_id`` is in ``shown``; -1 when it is not there."""
        slot = self.slots.get(user_id)
        if slot is None:
            return -1
        i = bisect.bisect_left(self.shown, self.key(slot), key=self.key)
        return i if i < len(self.shown) and self.shown[i] == slot else -1

    def ascending(self, user_ids: Iterable[str]) -> list[int]:
        """The slots of ``user_ids`` in the order of the sorted column."""
        by_name = sorted(map(self.slots.__getitem__, user_ids), key=self.ids.__getitem__)
        return sorted(by_name, key=self.cols[self.column].__getitem__)  # stable: ties stay in id order

    def show(self, user_ids: Iterable[str] | None = None) -> None:
        """Show exactly ``user_ids`` (every user when None)."""
        if user_ids is None:
            self.shown = sorted(self.by_id, key=self.cols[self.column].__getitem__)
        else:
            self.shown = self.ascending(user_ids)

    def sort_by(self, column: int) -> None:
        """Order ``shown`` by ``column``."""
        if column == self.column:
            return
        self.column = column
        everyone = len(self.shown) == len(self.by_id)
        self.show(None if everyone else map(self.ids.__getitem__, self.shown))

    def after(self, slots: list[int], descending: bool) -> bool:
        """Whether ``slots`` (ascending) all come after every row shown, in the order read."""
        if not self.shown:
            return True
        if descending:
            return self.key(slots[-1]) < self.key(self.shown[0])
        return self.key(slots[0]) > self.key(self.shown[-1])

    def place(self, slot: int) -> int:
        """Where ``slot`` (not shown) belongs in ``shown``."""
        return bisect.bisect_left(self.shown, self.key(slot), key=self.key)

    def merge(self, slots: Sequence[int], tail: int = 0, head: int = 0) -> None:
        """Put ``slots`` (ascending; not in ``shown``, or appended at its end or start: ``tail``/``head`` of
        them) in their places."""
        body = self.shown[head : len(self.shown) - tail] if tail or head else self.shown
        self.shown = merged(body, slots, self.key)

    def reposition(self, user_ids: Iterable[str]) -> None:
        """Users in ``shown`` whose keys changed: moved to their new places."""
        moved = set(map(self.slots.__getitem__, user_ids))
        self.shown = [s for s in self.shown if s not in moved]
        self.merge(self.ascending(self.ids[s] for s in moved))
