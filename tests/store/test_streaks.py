"""Streaks in the user's own calendar (STORE.md): IANA zones and offsets, DST changes (a 30-minute one
included), skipped days, clocks going backwards, messages out of order, midnight edges; ``update_streak(now)``,
``get_streak`` and the rule the older code broke: the streak update inside ``add_message`` is never lost.

Every table row is chosen so that a wrong zone (UTC, or a fixed offset that ignores DST) gives another answer.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from contract_helpers import read_json

from memgui.store import JsonMemoryStore, MemoryStore, StreakInfo, ValidationError


@dataclasses.dataclass(frozen=True)
class Case:
    zone: str
    messages: list[tuple[str, str]]  # (timestamp, role), in the order they are stored
    dates: list[str]  # interaction_dates: local days of every message
    current: int
    longest: int
    last: str  # last_interaction_date: the latest local day with a user message


U, A, S = "user", "assistant", "system"

CASES: dict[str, Case] = {
    "new-york-spring-forward": Case("America/New_York", [
        ("2025-03-08T23:30:00-05:00", U), ("2025-03-09T07:30:00Z", U),   # 03:30 EDT, just after the change
        ("2025-03-10T03:30:00Z", U), ("2025-03-10T04:30:00Z", U),        # 23:30 on the 9th, 00:30 on the 10th
    ], ["2025-03-08", "2025-03-09", "2025-03-10"], 3, 3, "2025-03-10"),
    "new-york-fall-back": Case("America/New_York", [
        ("2025-11-01T03:59:00Z", U),                                     # 23:59 EDT on 31 October
        ("2025-11-02T05:30:00Z", U), ("2025-11-02T06:30:00Z", U),        # 01:30 twice (EDT then EST)
        ("2025-11-03T04:59:00Z", U), ("2025-11-03T05:00:00Z", U),        # 23:59 EST, then midnight
    ], ["2025-10-31", "2025-11-02", "2025-11-03"], 2, 2, "2025-11-03"),
    "paris-fall-back": Case("Europe/Paris", [
        ("2025-10-25T21:59:00Z", U), ("2025-10-25T22:00:00Z", U),        # 23:59 and 00:00 CEST
        ("2025-10-26T22:59:00Z", U), ("2025-10-27T22:30:00Z", U),        # 23:59 and 23:30 CET
    ], ["2025-10-25", "2025-10-26", "2025-10-27"], 3, 3, "2025-10-27"),
    "paris-spring-forward": Case("Europe/Paris", [
        ("2025-03-29T22:59:00Z", U), ("2025-03-29T23:00:00Z", U),        # 23:59 CET, 00:00 on the 30th
        ("2025-03-30T21:59:00Z", U), ("2025-03-30T22:00:00Z", U),        # 23:59 CEST, 00:00 on the 31st
    ], ["2025-03-29", "2025-03-30", "2025-03-31"], 3, 3, "2025-03-31"),
    "lord-howe-dst-ends-30-minutes": Case("Australia/Lord_Howe", [
        ("2025-04-05T13:00:00Z", U),                                     # 00:00 +11:00 on 6 April
        ("2025-04-06T13:15:00Z", U),                                     # 23:45 +10:30, still 6 April
    ], ["2025-04-06"], 1, 1, "2025-04-06"),
    "lord-howe-dst-starts-30-minutes": Case("Australia/Lord_Howe", [
        ("2025-10-04T13:15:00Z", U),                                     # 23:45 +10:30 on 4 October
        ("2025-10-05T12:45:00Z", U),                                     # 23:45 +11:00 on 5 October
        ("2025-10-05T13:15:00Z", U),                                     # 00:15 +11:00 on 6 October
    ], ["2025-10-04", "2025-10-05", "2025-10-06"], 3, 3, "2025-10-06"),
    "offset-utc-minus-5": Case("UTC-5", [
        ("2025-01-01T04:00:00Z", U), ("2025-01-01T06:00:00Z", U),        # 23:00 on 31 Dec, 01:00 on 1 Jan
    ], ["2024-12-31", "2025-01-01"], 2, 2, "2025-01-01"),
    "offset-plus-05-30": Case("+05:30", [
        ("2025-01-01T18:29:00Z", U), ("2025-01-01T18:30:00Z", U),        # 23:59, then midnight
    ], ["2025-01-01", "2025-01-02"], 2, 2, "2025-01-02"),
    "offset-gmt-plus-2": Case("GMT+2", [
        ("2025-01-01T21:59:59.999999+00:00", U), ("2025-01-01T22:00:00+00:00", U),
    ], ["2025-01-01", "2025-01-02"], 2, 2, "2025-01-02"),
    "midnight-utc": Case("UTC", [
        ("2025-01-01T23:59:59.999999+00:00", U), ("2025-01-02T00:00:00+00:00", U),
    ], ["2025-01-01", "2025-01-02"], 2, 2, "2025-01-02"),
    "days-skipped": Case("UTC", [
        ("2025-01-01T10:00:00Z", U), ("2025-01-02T10:00:00Z", U), ("2025-01-03T10:00:00Z", U),
        ("2025-01-05T10:00:00Z", U),
    ], ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-05"], 1, 3, "2025-01-05"),
    "longer-run-after-a-gap": Case("UTC", [
        ("2025-01-01T10:00:00Z", U), ("2025-01-02T10:00:00Z", U), ("2025-01-10T10:00:00Z", U),
        ("2025-01-11T10:00:00Z", U), ("2025-01-12T10:00:00Z", U),
    ], ["2025-01-01", "2025-01-02", "2025-01-10", "2025-01-11", "2025-01-12"], 3, 3, "2025-01-12"),
    "clock-goes-backwards": Case("UTC", [
        ("2025-01-01T10:00:00Z", U), ("2025-01-02T10:00:00Z", U), ("2025-01-03T10:00:00Z", U),
        ("2025-01-02T09:00:00Z", U),                                     # the clock jumped back a day
        ("2025-01-04T10:00:00Z", U),
    ], ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"], 4, 4, "2025-01-04"),
    "out-of-order-fills-a-gap": Case("UTC", [
        ("2025-01-03T10:00:00Z", U), ("2025-01-01T10:00:00Z", U), ("2025-01-02T10:00:00Z", U),
    ], ["2025-01-01", "2025-01-02", "2025-01-03"], 3, 3, "2025-01-03"),
    "out-of-order-old-day": Case("UTC", [
        ("2025-01-05T10:00:00Z", U), ("2025-01-01T10:00:00Z", U),
    ], ["2025-01-01", "2025-01-05"], 1, 1, "2025-01-05"),
    "only-user-messages-count": Case("UTC", [
        ("2025-01-01T10:00:00Z", U), ("2025-01-02T10:00:00Z", A), ("2025-01-02T11:00:00Z", S),
        ("2025-01-03T10:00:00Z", U),
    ], ["2025-01-01", "2025-01-02", "2025-01-03"], 1, 1, "2025-01-03"),
    "leap-day-and-new-year": Case("UTC", [
        ("2024-02-28T12:00:00Z", U), ("2024-02-29T12:00:00Z", U), ("2024-03-01T12:00:00Z", U),
        ("2024-12-31T12:00:00Z", U), ("2025-01-01T12:00:00Z", U),
    ], ["2024-02-28", "2024-02-29", "2024-03-01", "2024-12-31", "2025-01-01"], 2, 3, "2025-01-01"),
}


def _check(metrics: dict[str, Any], case: Case) -> None:
    assert metrics["interaction_dates"] == case.dates
    assert (metrics["streak_days"], metrics["longest_streak"], metrics["last_interaction_date"]) == (
        case.current, case.longest, case.last)
    assert metrics["message_count"] == len(case.messages)


@pytest.mark.parametrize("name", CASES)
def test_streak_table_one_message_at_a_time(any_store: MemoryStore, name: str) -> None:
    case = CASES[name]
    any_store.create_user("u", {"timezone": case.zone})
    for stamp, role in case.messages:
        any_store.add_message("u", role, "hi", timestamp=stamp)
    _check(any_store.get_conversation_metrics("u"), case)
    last = datetime.fromisoformat(case.last)
    info = any_store.get_streak("u", datetime(last.year, last.month, last.day, 12, tzinfo=any_store.user_zone("u")))
    assert (info.current, info.longest, info.last_active, info.active_today) == (
        case.current, case.longest, date.fromisoformat(case.last), True)


@pytest.mark.parametrize("name", CASES)
def test_streak_table_bulk_and_recount_agree(any_store: MemoryStore, name: str) -> None:
    case = CASES[name]
    any_store.create_user("u", {"timezone": case.zone})
    any_store.add_messages("u", [{"role": role, "content": "hi", "timestamp": stamp} for stamp, role in case.messages])
    _check(any_store.get_conversation_metrics("u"), case)
    _check(any_store.recount_metrics("u"), case)


def test_streak_lands_in_the_v1_file(store: JsonMemoryStore, data_dir: Path) -> None:
    case = CASES["new-york-spring-forward"]
    store.create_user("u", {"timezone": case.zone})
    for stamp, role in case.messages:
        store.add_message("u", role, "hi", timestamp=stamp)
    store.flush()
    _check(read_json(data_dir / "u" / "interaction_metrics.json"), case)


def test_a_zone_change_applies_to_later_messages(any_store: MemoryStore) -> None:
    any_store.create_user("u", {"timezone": "UTC"})
    any_store.add_message("u", "user", "x", timestamp="2025-01-01T23:30:00Z")          # 1 Jan in UTC
    any_store.update_user_profile("u", {"timezone": "Asia/Tokyo"})
    any_store.add_message("u", "user", "y", timestamp="2025-01-02T14:30:00Z")          # 2 Jan 23:30 in Tokyo
    metrics = any_store.get_conversation_metrics("u")
    assert metrics["interaction_dates"] == ["2025-01-01", "2025-01-02"]
    assert metrics["streak_days"] == 2


def test_a_profile_without_zone_uses_default_timezone(make_store: Any, backend: str) -> None:
    store = make_store(STORAGE_BACKEND=backend, DEFAULT_TIMEZONE="America/New_York")
    store.add_message("u", "user", "x", timestamp="2025-03-10T03:30:00Z")   # 9 March in New York
    assert store.get_conversation_metrics("u")["interaction_dates"] == ["2025-03-09"]
    store.update_user_profile("u", {"other": 1})
    assert store.user_zone("u").utcoffset(datetime(2025, 7, 1)) == timedelta(hours=-4)


@pytest.mark.parametrize("zone", ["Not/AZone", "UTC+99", "", "   "])
def test_a_profile_zone_that_does_not_exist_is_refused(any_store: MemoryStore, zone: str) -> None:
    with pytest.raises(ValidationError, match="timezone"):
        any_store.update_user_profile("u", {"timezone": zone})
    assert not any_store.user_exists("u")


# -- update_streak(now) ---------------------------------------------------------------------------------
def test_update_streak_with_now(any_store: MemoryStore) -> None:
    any_store.create_user("u", {"timezone": "America/New_York"})

    def step(now: datetime) -> tuple[int, int, str]:
        got = any_store.update_streak("u", now)
        assert set(got) == {"current_streak", "longest_streak", "last_interaction"}
        return got["current_streak"], got["longest_streak"], got["last_interaction"]

    assert step(datetime(2025, 3, 9, 3, 30, tzinfo=timezone.utc)) == (1, 1, "2025-03-08")   # 22:30 EST
    assert step(datetime(2025, 3, 10, 3, 30, tzinfo=timezone.utc)) == (2, 2, "2025-03-09")  # 23:30 EDT
    assert step(datetime.fromisoformat("2025-03-09T20:00:00-04:00")) == (2, 2, "2025-03-09")  # same day
    # A naive now is in DEFAULT_TIMEZONE (UTC): 02:00 UTC on the 11th is 22:00 EDT on the 10th.
    assert step(datetime(2025, 3, 11, 2)) == (3, 3, "2025-03-10")
    assert step(datetime(2025, 3, 12, 12, tzinfo=timezone.utc)) == (1, 3, "2025-03-12")
    # A now before the latest day (a clock set back, a late delivery) fills the gap: 8 to 12 March.
    assert step(datetime(2025, 3, 11, 12, tzinfo=timezone.utc)) == (5, 5, "2025-03-12")


def test_update_streak_default_now_is_today(any_store: MemoryStore) -> None:
    any_store.create_user("u")
    before = datetime.now(timezone.utc).date()
    got = any_store.update_streak("u")
    assert date.fromisoformat(got["last_interaction"]) in {before, datetime.now(timezone.utc).date()}


def test_update_streak_rejects_a_non_datetime(any_store: MemoryStore) -> None:
    any_store.create_user("u")
    with pytest.raises(ValidationError, match="datetime"):
        any_store.update_streak("u", "2025-01-01")  # type: ignore[arg-type]


def test_update_streak_of_an_unknown_user_creates_nothing(any_store: MemoryStore) -> None:
    assert any_store.update_streak("ghost", datetime(2025, 1, 1, tzinfo=timezone.utc)) == {}
    assert not any_store.user_exists("ghost")
    assert any_store.get_all_users() == []


# -- get_streak: current vs longest at a moment ----------------------------------------------------------
def test_get_streak_over_time(any_store: MemoryStore) -> None:
    any_store.create_user("u", {"timezone": "UTC-5"})
    for day in (1, 2, 3):
        any_store.add_message("u", "user", "x", timestamp=f"2025-01-0{day}T12:00:00-05:00")

    def at(stamp: str) -> StreakInfo:
        return any_store.get_streak("u", datetime.fromisoformat(stamp))

    last = date(2025, 1, 3)
    assert at("2025-01-03T20:00:00-05:00") == StreakInfo(3, 3, last, active_today=True, breaks_today=False)
    # 04:30 UTC on the 4th is still 23:30 on the 3rd in UTC-5.
    assert at("2025-01-04T04:30:00+00:00") == StreakInfo(3, 3, last, active_today=True, breaks_today=False)
    assert at("2025-01-04T05:00:00+00:00") == StreakInfo(3, 3, last, active_today=False, breaks_today=True)
    assert at("2025-01-05T04:59:00+00:00") == StreakInfo(3, 3, last, active_today=False, breaks_today=True)
    assert at("2025-01-05T05:00:00+00:00") == StreakInfo(0, 3, last, active_today=False, breaks_today=False)
    assert at("2025-01-02T12:00:00-05:00") == StreakInfo(3, 3, last, active_today=False, breaks_today=False)
    any_store.add_message("u", "user", "back", timestamp="2025-01-06T09:00:00-05:00")
    assert at("2025-01-06T10:00:00-05:00") == StreakInfo(1, 3, date(2025, 1, 6), active_today=True,
                                                          breaks_today=False)


def test_get_streak_of_a_user_without_messages(any_store: MemoryStore) -> None:
    any_store.create_user("u")
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert any_store.get_streak("u", now) == StreakInfo(0, 0, None, False, False)
    assert any_store.get_streak("ghost", now) == StreakInfo(0, 0, None, False, False)
    assert not any_store.user_exists("ghost")


def test_get_streak_reads_v1_metrics(fixture_dir: Path) -> None:
    store = JsonMemoryStore({"DATA_DIR": fixture_dir, "DEFAULT_TIMEZONE": "UTC"})
    info = store.get_streak("demo_user", datetime(2025, 4, 14, 12, tzinfo=timezone.utc))  # noon UTC = 07:00 UTC-5
    assert (info.current, info.longest, info.last_active, info.breaks_today) == (1, 1, date(2025, 4, 13), True)
    store.close()


# -- the streak update inside add_message is never lost ---------------------------------------------------
def test_add_message_streak_survives_other_metric_writes(store: JsonMemoryStore, data_dir: Path) -> None:
    store.add_message("u", "user", "day one", timestamp="2025-01-01T10:00:00Z")
    store.update_conversation_metrics("u", {"sentiment_score": 0.5})
    store.add_message("u", "user", "day two", timestamp="2025-01-02T10:00:00Z")
    store.update_conversation_metrics("u", {"topics": ["x"]})
    store.update_streak("u", datetime(2025, 1, 3, 10, tzinfo=timezone.utc))
    store.add_message("u", "user", "day four", timestamp="2025-01-04T10:00:00Z")
    store.flush()
    for metrics in (store.get_conversation_metrics("u"), read_json(data_dir / "u" / "interaction_metrics.json")):
        assert (metrics["streak_days"], metrics["longest_streak"], metrics["last_interaction_date"]) == (
            4, 4, "2025-01-04")
        assert (metrics["message_count"], metrics["sentiment_score"], metrics["topics"]) == (3, 0.5, ["x"])


def test_add_message_streak_is_never_lost_between_two_stores(make_store: Any, data_dir: Path) -> None:
    """Two stores on one folder (the assistant and the admin window): each writes from a stale cache."""
    assistant, admin = make_store(), make_store()
    assistant.add_message("u", "user", "1", timestamp="2025-01-01T10:00:00Z")
    admin.update_conversation_metrics("u", {"reviewed": True})
    admin.add_message("u", "user", "2", timestamp="2025-01-02T10:00:00Z")
    assistant.add_message("u", "user", "3", timestamp="2025-01-03T10:00:00Z")
    admin.update_streak("u", datetime(2025, 1, 4, 10, tzinfo=timezone.utc))
    assistant.add_message("u", "assistant", "reply", timestamp="2025-01-04T10:01:00Z")
    assistant.add_message("u", "user", "5", timestamp="2025-01-05T10:00:00Z")
    assistant.close()
    admin.close()
    for metrics in (assistant.get_conversation_metrics("u"), admin.get_conversation_metrics("u"),
                    read_json(data_dir / "u" / "interaction_metrics.json")):
        assert (metrics["streak_days"], metrics["longest_streak"], metrics["last_interaction_date"]) == (
            5, 5, "2025-01-05")
        assert (metrics["message_count"], metrics["reviewed"]) == (5, True)
