"""``diff_steps``: how a list of keyed rows becomes another by removals, inserts and moves — the one diff the
table and tree models apply (as napari's container models do), so selection, scroll position and open
editors survive a refresh instead of a reset throwing them away. Plain Python: the models turn each step
into ``beginRemoveRows``/``beginInsertRows``/``beginMoveRows`` and ``dataChanged``."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterator, Sequence


@dataclasses.dataclass(frozen=True)
class Remove:
    """Rows ``first`` to ``last`` (inclusive) go."""

    first: int
    last: int


@dataclasses.dataclass(frozen=True)
class Insert:
    """The new row ``new`` is inserted at ``row``."""

    row: int
    new: int


@dataclasses.dataclass(frozen=True)
class Move:
    """The row at ``source`` moves to ``row`` (a ``Update`` of it follows)."""

    source: int
    row: int


@dataclasses.dataclass(frozen=True)
class Update:
    """The row at ``row`` is the new row ``new``: its cells show the new data where it differs."""

    row: int
    new: int


Step = Remove | Insert | Move | Update


def diff_steps(old: Sequence[Hashable], new: Sequence[Hashable]) -> Iterator[Step]:
    """The steps that turn rows keyed ``old`` into rows keyed ``new`` (keys unique in each), each step's
    positions as they stand after the steps before it: removals bottom up in contiguous runs, then, top down,
    each new row kept, moved up from below, or inserted."""
    keys = list(old)
    wanted = set(new)
    i = len(keys) - 1
    while i >= 0:
        if keys[i] in wanted:
            i -= 1
            continue
        last = i
        while i >= 0 and keys[i] not in wanted:
            i -= 1
        yield Remove(i + 1, last)
        del keys[i + 1 : last + 1]
    for i, key in enumerate(new):
        if i < len(keys) and keys[i] == key:
            yield Update(i, i)
            continue
        j = next((j for j in range(i + 1, len(keys)) if keys[j] == key), -1)
        if j < 0:
            yield Insert(i, i)
            keys.insert(i, key)
        else:
            yield Move(j, i)
            keys.insert(i, keys.pop(j))
            yield Update(i, i)
