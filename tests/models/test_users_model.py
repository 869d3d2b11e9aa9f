"""UsersModel: rows sorted and filtered by the model itself; changes applied per row, never a reset."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import QModelRoleData, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QTableView

from memgui.models.roles import ERROR_ROLE, FILTER_ROLE, ROW_ROLE, SORT_ROLE
from memgui.models.store_worker import summarize
from memgui.models.users_model import COL_ID, COL_MESSAGES, COL_NAME, UsersModel, UserSummary
from memgui.store import JsonMemoryStore


def _summary(uid: str, name: str, messages: int, error: str | None = None) -> UserSummary:
    return UserSummary(uid, name, "2026-01-02 10:00", 1.0, messages, 3, 1, 2, "UTC", error)


def test_model_passes_the_tester_while_rows_change(qtmodeltester: object, owner: object) -> None:
    model = UsersModel()
    model.append_users([_summary("a", "Ann", 5), _summary("b", "Bob", 50)])
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    model.apply_user(_summary("a", "Ann Lee", 6))
    model.append_users([_summary("c", "Cy", 1)])
    model.remove_user("b")
    model.apply_users([_summary("c", "Cy", 2), _summary("d", "Di", 0, error="bad file")])
    assert model.user_ids() == ["c", "d"]
    assert model.index(0, COL_MESSAGES).data() == "2"
    assert model.index(1, COL_ID).data(ERROR_ROLE) == "bad file"
    assert not model.index(1, COL_ID).data(Qt.ItemDataRole.DecorationRole).isNull()
    model.sort(COL_MESSAGES, Qt.SortOrder.DescendingOrder)
    model.set_filter("d")
    model.apply_users([_summary(u, u.upper(), i) for i, u in enumerate("efgh")])
    qtmodeltester.check(model)  # type: ignore[attr-defined]


def test_update_keeps_rows_and_persistent_indexes(qapp: object) -> None:
    model = UsersModel()
    model.append_users([_summary(u, u.upper(), i) for i, u in enumerate("abcde")])
    keep = QPersistentModelIndex(model.index(3, COL_NAME))
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    model.apply_users([_summary(u, u.upper(), i * 10) for i, u in enumerate("bcdef")])
    assert resets == []
    assert keep.isValid() and keep.data() == "D"
    assert model.summary("f") is not None and model.summary("a") is None


def test_an_update_says_which_rows_changed(qapp: object) -> None:
    model = UsersModel()
    model.append_users([_summary(f"u{i:03d}", f"N{i}", i) for i in range(200)])
    spans: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(lambda a, b, *_: spans.append((a.row(), b.row(), a.column(), b.column())))
    model.fill_users([_summary("u010", "Ten", 10), _summary("u020", "Twenty", 20)])  # a few: their span
    assert spans == [(10, 20, 0, 6)]
    spans.clear()
    model.fill_users([_summary(f"u{i:03d}", f"M{i}", i) for i in range(50, 150)])  # many: every row
    assert spans == [(0, 199, 0, 6)]
    assert [model.index(r, COL_NAME).data() for r in (49, 50, 149, 150)] == ["N49", "M50", "M149", "N150"]


def test_sorts_numbers_as_numbers_and_filters_id_and_name(qapp: object) -> None:
    model = UsersModel()
    model.append_users([_summary("u1", "Zed", 9), _summary("u2", "Amy", 10), _summary("x3", "Bea", 100)])
    model.sort(COL_MESSAGES, Qt.SortOrder.DescendingOrder)
    assert [model.index(r, COL_ID).data() for r in range(3)] == ["x3", "u2", "u1"]  # 100 > 10 > 9, not text order
    assert [model.index(r, COL_MESSAGES).data(SORT_ROLE) for r in range(3)] == [100, 10, 9]
    model.sort(COL_NAME)
    assert [model.index(r, COL_NAME).data() for r in range(3)] == ["Amy", "Bea", "Zed"]
    model.set_filter("BEA")
    assert model.rowCount() == 1 and model.index(0, COL_ID).data(ROW_ROLE).user_id == "x3"
    assert model.total_count() == 3 and model.row_of("u1") == -1 and model.knows("u1")
    model.set_filter("u")
    assert model.rowCount() == 2
    assert model.index(model.row_of("u1"), COL_ID).data(FILTER_ROLE) == "u1\nzed"


def test_a_sorted_value_that_changes_moves_its_row_and_the_selection_follows(qapp: object) -> None:
    model = UsersModel()
    model.append_users([_summary(u, u.upper(), n) for u, n in (("a", 1), ("b", 2), ("c", 3))])
    model.sort(COL_MESSAGES, Qt.SortOrder.DescendingOrder)
    keep = QPersistentModelIndex(model.index(model.row_of("a"), COL_NAME))
    assert keep.row() == 2
    model.apply_user(_summary("a", "A", 50))  # a writes a lot: first now
    assert [model.index(r, COL_ID).data() for r in range(3)] == ["a", "c", "b"]
    assert keep.row() == 0 and keep.data() == "A"
    model.append_users([_summary(f"n{i}", "N", i) for i in range(100)])  # a batch merged into place
    counts = [model.index(r, COL_MESSAGES).data(SORT_ROLE) for r in range(model.rowCount())]
    assert counts == sorted(counts, reverse=True) and keep.data() == "A"


def test_a_hundred_thousand_users_sort_and_filter_as_plain_lists(qapp: object) -> None:
    model = UsersModel()
    model.append_users([UserSummary(f"user_{i:06d}", loaded=False) for i in range(100_000)])
    model.fill_users([_summary(f"user_{i:06d}", f"Person {i}", (i * 7919) % 1000) for i in range(100_000)])
    model.sort(COL_MESSAGES)
    counts = [model.index(r, COL_MESSAGES).data(SORT_ROLE) for r in range(0, 100_000, 997)]
    assert counts == sorted(counts)
    model.set_filter("person 4242")
    assert {model.index(r, COL_ID).data() for r in range(model.rowCount())} == {"user_004242", *(
        f"user_{i:06d}" for i in range(42420, 42430))}


def test_summaries_of_a_generated_store(demo: JsonMemoryStore) -> None:
    now = datetime.now(timezone.utc)
    rows = {uid: summarize(demo, uid, now) for uid in demo.get_all_users()}
    assert rows["mallory"].error and "user_facts.json" in rows["mallory"].error
    assert rows["mallory"].name  # the rest of a damaged user still reads
    good = rows["elysia_fan"]
    assert good.error is None and good.messages == demo.get_conversation_metrics("elysia_fan")["message_count"]
    assert good.current_streak == demo.get_streak("elysia_fan").current > 0
    assert good.zone == "Europe/Paris"


def test_a_painted_cell_is_one_call_into_python_with_every_role_as_data_gives_it(qtbot: Any) -> None:
    model = UsersModel()
    model.append_users([_summary("a", "Ann", 5), _summary("b", "Bob", 1_500, error="bad file")])
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    roles = [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ForegroundRole,
             Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.FontRole,
             ERROR_ROLE, SORT_ROLE, FILTER_ROLE]
    for row in range(2):
        for column in range(model.columnCount()):
            for index in (model.index(row, column), proxy.index(row, column)):
                for role in roles:
                    entry = QModelRoleData(role)
                    index.multiData(entry)  # through the proxy too, as a view's delegate asks
                    got, want = entry.data(), index.data(role)
                    if isinstance(want, QIcon):  # icons compare by the image they share
                        got, want = got.cacheKey(), want.cacheKey()
                    assert got == want, (row, column, role)
    assert model.index(1, COL_MESSAGES).data() == "1,500"
    calls = {"data": 0, "multi": 0}

    class Counted(UsersModel):
        def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
            calls["data"] += 1
            return super().data(index, role)

        def multiData(self, index: Any, roles: Any) -> None:
            calls["multi"] += 1
            super().multiData(index, roles)

    counted = Counted()
    counted.append_users([_summary(f"u{i}", f"User {i}", i) for i in range(50)])
    view = QTableView()
    view.setModel(counted)
    view.resize(600, 300)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    calls.update(data=0, multi=0)
    view.grab()  # renders every visible cell now
    assert calls["multi"] >= 7 * 5, calls  # every visible cell
    assert calls["data"] < calls["multi"]  # not one call a role
