"""ConversationModel over a worker thread: newest rows first, older rows in front, blocks on demand."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from PySide6.QtCore import QObject

from memgui.models.conversation_worker import BLOCK
from memgui.models.roles import ROW_ROLE
from memgui.store import JsonMemoryStore, build_config
from tests.models.conftest import conversation_model


def _store(path: Path, count: int) -> JsonMemoryStore:
    store = JsonMemoryStore(build_config({"DATA_DIR": path, "DEFAULT_TIMEZONE": "UTC", "DURABLE_WRITES": False},
                                         environ={}))
    store.create_user("ann", {"timezone": "Asia/Tokyo"})
    t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
    store.add_messages("ann", [{"role": "user" if i % 2 == 0 else "assistant", "content": f"text {i} <img src=x>",
                                "timestamp": (t0 + timedelta(minutes=7 * i)).isoformat()} for i in range(count)])
    return store


def test_model_loads_the_whole_conversation(qtbot: object, qtmodeltester: object, owner: QObject,
                                            tmp_path: Path) -> None:
    store = _store(tmp_path / "d", 60_000)
    model = conversation_model(store, owner)
    with qtbot.waitSignal(model.ready, timeout=10_000):  # type: ignore[attr-defined]
        model.set_user("ann")
    assert 0 < model.rowCount() < 60_000  # the newest rows first
    newest = model.index(model.rowCount() - 1, 0)
    assert newest.data() == "text 59999 <img src=x>"
    qtbot.waitUntil(lambda: not model.is_loading, timeout=10_000)  # type: ignore[attr-defined]
    assert model.rowCount() == 60_000
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.index(0, 0).data(ROW_ROLE) is None  # not fetched yet: a placeholder, a fetch is on its way
    with qtbot.waitSignal(model.dataChanged, timeout=5_000):  # type: ignore[attr-defined]
        pass
    first = model.index(0, 0).data(ROW_ROLE)
    assert first.content == "text 0 <img src=x>" and first.role == "user"
    assert first.time == "2026-03-01 09:00"  # 00:00 UTC in the user's zone (Tokyo, UTC+9)
    assert model.index(BLOCK, 0).data(ROW_ROLE) is None or model.index(BLOCK, 0).data() == f"text {BLOCK} <img src=x>"


def test_find_and_jump_answer_with_rows(qtbot: object, owner: QObject, tmp_path: Path) -> None:
    store = _store(tmp_path / "d", 3000)
    model = conversation_model(store, owner)
    model.set_user("ann")
    qtbot.waitUntil(lambda: not model.is_loading and model.rowCount() == 3000, timeout=10_000)  # type: ignore
    with qtbot.waitSignal(model.found, timeout=5_000) as blocker:  # type: ignore[attr-defined]
        token = model.find("TEXT 1234 ", 2999)
    assert blocker.args == [token, 1234]
    with qtbot.waitSignal(model.found, timeout=5_000) as blocker:  # type: ignore[attr-defined]
        token = model.jump_to(date(2026, 3, 2))
    # 2026-03-02 00:00 in Tokyo is 2026-03-01 15:00 UTC = minute 900 = message 129 (7-minute steps, rounded up)
    assert blocker.args == [token, 129]
    with qtbot.waitSignal(model.found, timeout=5_000) as blocker:  # type: ignore[attr-defined]
        token = model.find("no such words", 0)
    assert blocker.args == [token, -1]


def test_new_user_drops_stale_answers_and_growth_appends(qtbot: object, owner: QObject, tmp_path: Path) -> None:
    store = _store(tmp_path / "d", 500)
    store.add_messages("bob", [{"role": "user", "content": f"bob {i}"} for i in range(5)])
    model = conversation_model(store, owner)
    model.set_user("ann")
    model.set_user("bob")  # ann's answers may still arrive: they must be dropped
    qtbot.waitUntil(lambda: not model.is_loading and model.rowCount() == 5, timeout=10_000)  # type: ignore
    assert [model.index(r, 0).data() for r in range(5)] == [f"bob {i}" for i in range(5)]
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    store.add_message("bob", "assistant", "bob 5")
    model.refresh()
    qtbot.waitUntil(lambda: model.rowCount() == 6, timeout=5_000)  # type: ignore[attr-defined]
    assert inserted == [(5, 5)]
    qtbot.waitUntil(lambda: model.index(5, 0).data() == "bob 5", timeout=5_000)  # type: ignore[attr-defined]


def test_damaged_history_is_reported(qtbot: object, owner: QObject, tmp_path: Path) -> None:
    store = _store(tmp_path / "d", 10)
    (store.layout.user_dir("ann") / "conversation_history.json").write_text("{not json")
    store.close()
    model = conversation_model(store, owner)
    with qtbot.waitSignal(model.failed, timeout=5_000) as blocker:  # type: ignore[attr-defined]
        model.set_user("ann")
    assert "conversation_history.json" in blocker.args[0]
    assert not model.is_loading and model.rowCount() == 0
