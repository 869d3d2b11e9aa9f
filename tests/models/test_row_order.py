"""RowOrder and UsersModel against the plain rule they keep: rows are the users the filter shows, ascending by
(key of the sorted column, user id), read backwards when descending, whatever sequence of changes led there."""

from __future__ import annotations

import random

from PySide6.QtCore import QPersistentModelIndex, Qt

from memgui.models.row_order import RowOrder, merged
from memgui.models.users_model import COL_ID, HEADERS, UsersModel, UserSummary, folded, key_columns, sort_keys


def test_merged_interleaves_two_ascending_lists() -> None:
    rng = random.Random(3)
    for _ in range(200):
        both = rng.sample(range(1000), rng.randrange(0, 60))
        cut = rng.randrange(0, len(both) + 1)
        key = lambda x: -x if x % 2 else x  # noqa: E731  # an order that is not the ints' own
        base, new = sorted(both[:cut], key=key), sorted(both[cut:], key=key)
        assert merged(base, new, key) == sorted(both, key=key)


def test_sort_by_is_a_stable_sort_with_ties_broken_by_id() -> None:
    order = RowOrder(2)
    order.set_keys("badc", [list("badc"), [1, 1, 1, 0]])
    order.show()
    order.sort_by(1)
    assert [order.uid_at(i) for i in range(len(order))] == ["c", "a", "b", "d"]
    assert [order.index(u) for u in "abcdx"] == [1, 2, 0, 3, -1]
    order.shown.remove(order.slots["a"])
    order.forget("a")
    order.set_keys(["a"], [["a"], [5]])  # back, in a new slot
    order.merge(order.ascending(["a"]))
    assert [order.uid_at(i) for i in range(len(order))] == ["c", "b", "d", "a"]


def test_key_columns_are_the_sort_keys_of_each_row_and_the_filter_text_follows_from_them() -> None:
    rows = [UserSummary("Ärger", "Straße", "", 2.0, 3, 1, 0, 4, "UTC"), UserSummary("ΣΊΣΥΦΟΣ", "Ǆemal ß", "", 1.0),
            UserSummary("x_1", "İstanbul ﬀ", "", -1.0, error="bad"), UserSummary("later", loaded=False)]
    for batch in (rows[:3], rows, rows[3:], []):
        columns = key_columns(batch)
        assert len(columns) == len(HEADERS)
        assert [tuple(row) for row in zip(*columns, strict=True)] == [sort_keys(s) for s in batch]
        assert [f"{i}\n{n}" for i, n in zip(columns[0], columns[1], strict=True)] == [folded(s) for s in batch]


def _random_summary(rng: random.Random, uid: str) -> UserSummary:
    if rng.random() < 0.1:
        return UserSummary(uid, loaded=False)
    return UserSummary(uid, rng.choice(["Ann", "Bob", "Cy", "Dee"]), "", rng.choice([1.0, 2.0, 3.0]),
                       rng.randrange(0, 4), rng.randrange(0, 3), rng.randrange(0, 3), rng.randrange(0, 3), "UTC",
                       "bad" if rng.random() < 0.05 else None)


def _expected(users: dict[str, UserSummary], column: int, descending: bool, text: str) -> list[str]:
    shown = [u for u, s in users.items() if text in folded(s)]
    ordered = sorted(shown, key=lambda u: (sort_keys(users[u])[column], u))
    return ordered[::-1] if descending else ordered


def _drive(model: UsersModel, seed: int, steps: int) -> None:
    """Random batches, updates, removals, sorts and filters; after each, the rows are what the rule says."""
    rng = random.Random(seed)
    users: dict[str, UserSummary] = {}
    column, descending, text = COL_ID, False, ""
    ids = [f"u{i:03d}" for i in range(150)]
    for step in range(steps):
        action = rng.random()
        if action < 0.35:  # a batch of new and known users, of any size (one by one, or merged)
            batch = [_random_summary(rng, u) for u in rng.sample(ids, rng.choice([1, 3, 40, 90]))]
            model.append_users(batch)
            users.update({s.user_id: s for s in batch})
        elif action < 0.6:
            batch = [_random_summary(rng, u) for u in rng.sample(sorted(users), min(len(users), rng.choice([1, 50])))]
            model.fill_users(batch)
            users.update({s.user_id: s for s in batch})
        elif action < 0.68 and users:
            gone = rng.choice(sorted(users))
            model.remove_user(gone)
            del users[gone]
        elif action < 0.7:  # another store opened: the sorted column and the filter stay
            model.clear_users()
            users.clear()
        elif action < 0.85:
            column, descending = rng.randrange(len(HEADERS)), rng.random() < 0.5
            model.sort(column, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
        else:
            text = rng.choice(["", "", "u0", "ann", "1", "b"])
            model.set_filter(text)
        want = _expected(users, column, descending, text)
        rows = [model.index(r, COL_ID).data() for r in range(model.rowCount())]
        assert rows == want, step
        assert all(model.row_of(u) == r for r, u in enumerate(want)), step


def test_users_model_keeps_the_rule_through_random_changes(qapp: object) -> None:
    for seed in range(3):
        _drive(UsersModel(), seed, 300)


def test_random_changes_pass_the_model_tester(qtmodeltester: object, owner: object) -> None:
    model = UsersModel()
    qtmodeltester.check(model)  # type: ignore[attr-defined]  # the tester stays on and checks every change
    _drive(model, 7, 60)


def test_persistent_index_follows_its_user_through_a_merged_batch_and_resorts(qapp: object) -> None:
    model = UsersModel()
    model.append_users([UserSummary(f"u{i:03d}", "N", "", 1.0, i % 7) for i in range(200)])
    model.sort(3, Qt.SortOrder.DescendingOrder)
    keep = QPersistentModelIndex(model.index(model.row_of("u100"), COL_ID))
    model.append_users([UserSummary(f"v{i:03d}", "N", "", 1.0, i % 5) for i in range(100)])  # merged, not reset
    model.fill_users([UserSummary(f"u{i:03d}", "N", "", 1.0, (i * 3) % 11) for i in range(0, 200, 2)])  # moved
    assert keep.data() == "u100" and keep.row() == model.row_of("u100")
    model.sort(COL_ID)
    assert keep.data() == "u100" and keep.row() == model.row_of("u100")
