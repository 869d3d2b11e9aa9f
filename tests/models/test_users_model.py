"""UsersModel: C++ items sorted and filtered by a proxy through roles; changes applied per row."""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import QPersistentModelIndex, QSortFilterProxyModel, Qt

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
    assert model.item(0, COL_MESSAGES).text() == "2"
    assert model.item(1, COL_ID).data(ERROR_ROLE) == "bad file"
    assert not model.item(1, COL_ID).icon().isNull()


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


def test_proxy_sorts_numbers_as_numbers_and_filters_id_and_name(qapp: object) -> None:
    model = UsersModel()
    model.append_users([_summary("u1", "Zed", 9), _summary("u2", "Amy", 10), _summary("x3", "Bea", 100)])
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterRole(FILTER_ROLE)
    proxy.setFilterKeyColumn(COL_ID)
    proxy.sort(COL_MESSAGES, Qt.SortOrder.DescendingOrder)
    assert [proxy.index(r, COL_ID).data() for r in range(3)] == ["x3", "u2", "u1"]  # 100 > 10 > 9, not text order
    proxy.sort(COL_NAME)
    assert [proxy.index(r, COL_NAME).data() for r in range(3)] == ["Amy", "Bea", "Zed"]
    proxy.setFilterFixedString("bea")
    assert proxy.rowCount() == 1 and proxy.index(0, COL_ID).data(ROW_ROLE).user_id == "x3"
    proxy.setFilterFixedString("u")
    assert proxy.rowCount() == 2


def test_summaries_of_a_generated_store(demo: JsonMemoryStore) -> None:
    now = datetime.now(timezone.utc)
    rows = {uid: summarize(demo, uid, now) for uid in demo.get_all_users()}
    assert rows["mallory"].error and "user_facts.json" in rows["mallory"].error
    assert rows["mallory"].name  # the rest of a damaged user still reads
    good = rows["elysia_fan"]
    assert good.error is None and good.messages == demo.get_conversation_metrics("elysia_fan")["message_count"]
    assert good.current_streak == demo.get_streak("elysia_fan").current > 0
    assert good.zone == "Europe/Paris"
