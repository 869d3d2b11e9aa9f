"""``diff_steps``: applied in order, the steps turn any list of unique keys into any other, and rows whose key
stays are kept (updated, never removed and inserted again)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from memgui.models.row_diff import Insert, Move, Remove, Update, diff_steps

unique_keys = st.lists(st.integers(0, 30), unique=True, max_size=20)


def apply(old: list[int], new: list[int]) -> tuple[list[int], set[int]]:
    rows = list(old)
    removed: set[int] = set()
    for step in diff_steps(old, new):
        if isinstance(step, Remove):
            assert 0 <= step.first <= step.last < len(rows)
            removed.update(rows[step.first : step.last + 1])
            del rows[step.first : step.last + 1]
        elif isinstance(step, Insert):
            rows.insert(step.row, new[step.new])
        elif isinstance(step, Move):
            assert step.source > step.row
            rows.insert(step.row, rows.pop(step.source))
        else:
            assert isinstance(step, Update) and rows[step.row] == new[step.new]
    return rows, removed


@given(unique_keys, unique_keys)
def test_the_steps_turn_old_into_new(old: list[int], new: list[int]) -> None:
    rows, removed = apply(old, new)
    assert rows == new
    assert removed == set(old) - set(new)  # a kept key is never removed


def test_a_swap_is_one_move() -> None:
    steps = list(diff_steps(["a", "b", "c"], ["a", "c", "b"]))
    assert [s for s in steps if not isinstance(s, Update)] == [Move(2, 1)]
