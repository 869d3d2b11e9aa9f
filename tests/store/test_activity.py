"""Activity aggregates (``memgui.store.read.activity``): exact against tables of messages, in each user's zone,
across midnight and DST, through the archive, the journal and the fast line reader, on both backends."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from memgui.store import JsonMemoryStore, MemoryStore
from memgui.store.read.activity import (
    LENGTH_BINS,
    Cancelled,
    Span,
    bin_labels,
    store_overview,
    streak_summary,
    user_activity,
)
from memgui.store.timeutil import local_date, parse_timestamp

UTC = timezone.utc
D = date.fromisoformat


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def add(store: MemoryStore, uid: str, rows: list[tuple[str, str, str]], zone: str | None = None) -> None:
    """Store (timestamp, role, content) rows for ``uid`` (created in ``zone``) in one import."""
    if zone is not None:
        store.create_user(uid, {"timezone": zone})
    store.add_messages(uid, [{"timestamp": t, "role": r, "content": c} for t, r, c in rows])


def per_day(activity: Any) -> dict[date, tuple[int, int, int, int]]:
    p = activity.per_day
    return {d: (p.user_messages[i], p.assistant_messages[i], p.user_words[i], p.assistant_words[i])
            for i, d in enumerate(p.days)}


def reference_per_day(store: MemoryStore, uid: str) -> dict[date, tuple[int, int, int, int]]:
    """The same table computed the slow, obvious way from get_message_history."""
    zone = store.user_zone(uid)
    out: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for m in store.get_message_history(uid, include_archived=True):
        day = local_date(parse_timestamp(m["timestamp"], store.default_zone), zone)
        slot = out[day]
        if m["role"] == "user":
            slot[0] += 1
            slot[2] += m["word_count"]
        elif m["role"] == "assistant":
            slot[1] += 1
            slot[3] += m["word_count"]
    return {d: tuple(v) for d, v in out.items()}  # type: ignore[misc]


# -- per local day --------------------------------------------------------------------------------------
MIDNIGHT_TABLE = [
    # timestamp (UTC), role, content
    ("2025-01-10T04:59:59+00:00", "user", "one two"),
    ("2025-01-10T05:00:00+00:00", "user", "three"),
    ("2025-01-10T05:00:01+00:00", "assistant", "a b c d"),
    ("2025-01-10T18:29:59+00:00", "user", "x"),
    ("2025-01-10T18:30:00+00:00", "assistant", "y z"),
    ("2025-01-10T23:59:59+00:00", "system", "ignored in the role counts"),
]


@pytest.mark.parametrize(("zone", "expected"), [
    ("UTC", {D("2025-01-10"): (3, 2, 4, 6)}),
    ("UTC-5", {D("2025-01-09"): (1, 0, 2, 0), D("2025-01-10"): (2, 2, 2, 6)}),
    ("+05:30", {D("2025-01-10"): (3, 1, 4, 4), D("2025-01-11"): (0, 1, 0, 2)}),
    ("America/New_York", {D("2025-01-09"): (1, 0, 2, 0), D("2025-01-10"): (2, 2, 2, 6)}),
])
def test_messages_are_binned_on_the_users_own_days(any_store: MemoryStore, zone: str,
                                                    expected: dict[date, tuple[int, int, int, int]]) -> None:
    add(any_store, "u", MIDNIGHT_TABLE, zone)
    activity = user_activity(any_store, "u", at("2025-01-11T12:00:00+00:00"))
    assert per_day(activity) == expected
    assert activity.message_count == 6 and activity.total_words == 2 + 1 + 4 + 1 + 2 + 5
    assert activity.zone == zone


def test_dst_transitions_in_the_users_zone(any_store: MemoryStore) -> None:
    # Paris leaves CET (+1) for CEST (+2) at 2025-03-30T01:00Z and goes back at 2025-10-26T01:00Z.
    rows = [
        ("2025-03-29T22:59:00+00:00", "user", "a"),  # 23:59 CET, 29 March
        ("2025-03-29T23:00:00+00:00", "user", "b"),  # 00:00 CET, 30 March
        ("2025-03-30T21:59:00+00:00", "user", "c"),  # 23:59 CEST, 30 March (a 23-hour day)
        ("2025-03-30T22:00:00+00:00", "user", "d"),  # 00:00 CEST, 31 March
        ("2025-10-25T21:59:00+00:00", "user", "e"),  # 23:59 CEST, 25 October
        ("2025-10-26T22:59:00+00:00", "user", "f"),  # 23:59 CET, 26 October (a 25-hour day)
        ("2025-10-26T23:00:00+00:00", "user", "g"),  # 00:00 CET, 27 October
    ]
    add(any_store, "p", rows, "Europe/Paris")
    days = per_day(user_activity(any_store, "p", at("2025-11-01T00:00:00+00:00")))
    assert {d: v[0] for d, v in days.items()} == {
        D("2025-03-29"): 1, D("2025-03-30"): 2, D("2025-03-31"): 1,
        D("2025-10-25"): 1, D("2025-10-26"): 1, D("2025-10-27"): 1,
    }


def test_timestamps_without_offset_are_read_in_the_default_zone(make_store: Any, backend: str) -> None:
    store = make_store(STORAGE_BACKEND=backend, DEFAULT_TIMEZONE="America/New_York")
    rows = [
        ("2025-03-09T23:30:00", "user", "after the spring change"),  # EDT: 03:30Z on 10 March
        ("2025-11-02T01:30:00", "user", "ambiguous: the earlier"),  # EDT (the fold's first): 05:30Z
        ("2025-11-02T00:30:00-05:00", "user", "with an offset"),  # 05:30Z as well
    ]
    add(store, "k", rows, "+05:30")
    activity = user_activity(store, "k", at("2025-11-03T00:00:00+00:00"))
    assert {d: v[0] for d, v in per_day(activity).items()} == {D("2025-03-10"): 1, D("2025-11-02"): 2}
    assert activity.first_interaction == at("2025-03-10T09:00:00+05:30")
    assert activity.last_interaction == at("2025-11-02T11:00:00+05:30")
    assert activity.last_interaction.utcoffset() == timedelta(hours=5, minutes=30)
    assert per_day(activity) == reference_per_day(store, "k")


# -- streaks --------------------------------------------------------------------------------------------
def _daily(zone_offset: str, days: list[str], role: str = "user", hour: int = 12) -> list[tuple[str, str, str]]:
    return [(f"{d}T{hour:02d}:00:00{zone_offset}", role, "hi") for d in days]


def test_streak_spans_in_the_users_zone(any_store: MemoryStore) -> None:
    rows = _daily("+05:30", ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-05", "2025-01-06"])
    rows += _daily("+05:30", ["2025-01-04"], role="assistant")  # the assistant alone keeps no streak
    add(any_store, "s", rows, "+05:30")
    before_midnight = at("2025-01-07T18:29:00+00:00")  # 23:59 on 7 January in +05:30
    s = user_activity(any_store, "s", before_midnight).streak
    assert (s.current, s.longest) == (2, 3)
    assert s.current_span == Span(D("2025-01-05"), D("2025-01-06"))
    assert s.longest_span == Span(D("2025-01-01"), D("2025-01-03"))
    assert s.breaks_today and not s.active_today and s.last_active == D("2025-01-06")
    info = any_store.get_streak("s", before_midnight)
    assert (info.current, info.longest, info.breaks_today) == (s.current, s.longest, s.breaks_today)

    after_midnight = at("2025-01-07T18:31:00+00:00")  # 00:01 on 8 January there; still the 7th in UTC
    s = user_activity(any_store, "s", after_midnight).streak
    assert (s.current, s.current_span, s.breaks_today) == (0, None, False)
    assert any_store.get_streak("s", after_midnight).current == 0


def test_streak_summary_rules() -> None:
    days = [D("2025-02-01"), D("2025-02-02"), D("2025-02-04"), D("2025-02-05")]
    s = streak_summary(days, D("2025-02-05"))
    assert (s.current, s.longest, s.active_today, s.breaks_today) == (2, 2, True, False)
    assert s.longest_span == Span(D("2025-02-04"), D("2025-02-05"))  # the most recent of equal runs
    assert streak_summary([], D("2025-02-05"), recorded_longest=9).longest == 9
    later = streak_summary(days, D("2025-02-03"))  # the clock went back: the latest day still ends it
    assert later.current == 2 and not later.breaks_today
    assert Span(D("2025-02-01"), D("2025-02-03")).days == 3


def test_year_cells_cover_53_weeks_from_a_monday(store: JsonMemoryStore) -> None:
    add(store, "y", _daily("+00:00", ["2025-06-02", "2025-06-03"]) + _daily("+00:00", ["2025-06-03"]), "UTC")
    activity = user_activity(store, "y", at("2025-06-05T10:00:00+00:00"))
    cells = activity.year()
    assert cells[0][0].weekday() == 0 and cells[-1][0] == D("2025-06-05")
    assert len(cells) == 52 * 7 + 4
    counts = {d: (n, active) for d, n, active in cells}
    assert counts[D("2025-06-02")] == (1, True) and counts[D("2025-06-03")] == (2, True)
    assert counts[D("2025-06-04")] == (0, False)


# -- facts, lengths, totals ------------------------------------------------------------------------------
def test_facts_lengths_and_interactions(any_store: MemoryStore) -> None:
    words = [0, 2, 3, 4, 5, 9, 10, 19, 20, 499, 500, 1000]
    rows = [(f"2025-04-01T10:{i:02d}:00+00:00", "user" if i % 2 else "assistant", " ".join(["w"] * n))
            for i, n in enumerate(words)]
    add(any_store, "f", rows, "UTC-5")
    for text, category in [("Paris", "location"), ("Lyon", "location"), ("cat", "pets"), ("red", "likes"),
                           ("blue", "likes"), ("green", "likes")]:
        any_store.add_user_fact("f", text, category)
    a = user_activity(any_store, "f", at("2025-04-02T00:00:00+00:00"))
    assert a.facts_by_category == (("likes", 3), ("location", 2), ("pets", 1))
    assert a.lengths.labels == bin_labels(LENGTH_BINS) == (
        "0–2", "3–4", "5–9", "10–19", "20–49", "50–99", "100–199", "200–499", "500+")
    # assistant: 0, 3, 5, 10, 20, 500 words; user: 2, 4, 9, 19, 499, 1000
    assert a.lengths.assistant == (1, 1, 1, 1, 1, 0, 0, 0, 1)
    assert a.lengths.user == (1, 1, 1, 1, 0, 0, 0, 1, 1)
    assert a.first_interaction == at("2025-04-01T05:00:00-05:00")
    assert a.last_interaction == at("2025-04-01T05:11:00-05:00")
    assert a.total_words == sum(words) and a.message_count == len(words)
    assert a.name == "f"


def test_unknown_user_is_empty(any_store: MemoryStore) -> None:
    a = user_activity(any_store, "nobody", at("2025-04-02T00:00:00+00:00"))
    assert a.per_day.days == () and a.message_count == 0 and a.first_interaction is None
    assert a.streak.current == 0 and a.streak.current_span is None and a.facts_by_category == ()


# -- the archive, the journal and the line reader ---------------------------------------------------------
def _random_rows(seed: int, count: int) -> list[tuple[str, str, str]]:
    """Messages minutes to hours apart, written with various offsets (none: read in the default zone, UTC)."""
    rng = random.Random(seed)
    moment = datetime(2024, 12, 30, tzinfo=UTC)
    offsets = {"+00:00": 0, "-05:00": -300, "+05:30": 330, "+14:00": 840, "": 0}
    rows = []
    for _ in range(count):
        moment += timedelta(minutes=rng.randint(1, 900))
        offset = rng.choice(list(offsets))
        local = moment.astimezone(timezone(timedelta(minutes=offsets[offset])))
        stamp = local.replace(tzinfo=None).isoformat(timespec=rng.choice(["seconds", "microseconds"])) + offset
        role = rng.choice(["user", "user", "assistant", "system"])
        rows.append((stamp, role, " ".join(rng.choice(["a", "bb", "ccc"]) for _ in range(rng.randint(0, 30)))))
    return rows


@pytest.mark.parametrize("zone", ["UTC-5", "Australia/Lord_Howe"])
def test_archive_and_history_equal_the_slow_reference(make_store: Any, backend: str, zone: str) -> None:
    store = make_store(STORAGE_BACKEND=backend, MAX_MESSAGES=7)
    add(store, "r", _random_rows(3, 600), zone)
    for stamp, role, text in _random_rows(4, 20):  # one by one: some still in the journal
        store.add_message("r", role, text, timestamp=stamp)
    activity = user_activity(store, "r", at("2025-06-01T00:00:00+00:00"))
    history = store.get_message_history("r", include_archived=True)
    assert activity.message_count == len(history) == 620
    assert per_day(activity) == reference_per_day(store, "r")
    assert activity.streak.longest == store.get_streak("r", at("2025-06-01T00:00:00+00:00")).longest


def test_lines_of_other_layouts_and_tricky_text(make_store: Any) -> None:
    store = make_store(MAX_MESSAGES=2)
    tricky = [
        'quote " backslash \\ and ","timestamp":"1999-01-01T00:00:00" inside',
        "ends with a backslash \\",
        "newline\nand tab\t and unicode é 😀 \u2028",
        '{"word_count":99,"id":"x","role":"system"}',
    ]
    rows = [(f"2025-05-0{i + 1}T12:00:00+00:00", "user", text) for i, text in enumerate(tricky)]
    store.create_user("t", {"timezone": "UTC"})
    store.add_messages("t", [{"timestamp": t, "role": r, "content": c,
                              "metadata": {"role": "assistant", "word_count": 1000, "timestamp": "1999-01-01"}}
                             for t, r, c in rows])
    store.add_messages("t", [{"timestamp": "2025-05-09T12:00:00+00:00", "role": "assistant", "content": "x"}] * 3)
    store.flush()
    archive = store.layout.log(store.layout.user_dir("t"), "archive")
    # A line in another key order (another writer), a v1 message without id and role, and a torn line.
    other = {"role": "assistant", "timestamp": "2025-05-07T01:00:00+00:00", "content": "b c", "is_user": False,
             "word_count": 2, "id": "other-1", "metadata": {}}
    v1 = {"content": "old one", "timestamp": "2025-05-08T10:00:00", "is_user": True, "metadata": None}
    with archive.open("ab") as f:
        f.write(json.dumps(other).encode() + b"\n" + json.dumps(v1).encode() + b"\n")
        f.write(b'{"content":"torn","timestamp":"2025-05-08T11:00:00+00:00"')
    activity = user_activity(store, "t", at("2025-06-01T00:00:00+00:00"))
    assert per_day(activity) == reference_per_day(store, "t")
    assert activity.message_count == len(store.get_message_history("t", include_archived=True)) == 9
    assert per_day(activity)[D("2025-05-08")] == (1, 0, 2, 0)
    assert activity.lengths.user[-1] == 0  # metadata's word_count is not the message's


def test_encrypted_store(make_store: Any) -> None:
    store = make_store(MAX_MESSAGES=3, ENCRYPTION_ENABLED=True, ENCRYPTION_KEY="secret")
    add(store, "e", _random_rows(5, 40), "Asia/Kolkata")
    activity = user_activity(store, "e", at("2025-06-01T00:00:00+00:00"))
    assert activity.message_count == 40 and per_day(activity) == reference_per_day(store, "e")


def test_a_second_reader_sees_journaled_messages(make_store: Any, tmp_path: Any) -> None:
    writer = make_store(MAX_MESSAGES=4)
    writer.create_user("j", {"timezone": "UTC"})
    for i in range(30):
        writer.add_message("j", "user", "w " * i, timestamp=f"2025-01-{i % 28 + 1:02d}T08:00:00+00:00")
    reader = make_store()  # the same folder, another store: nothing shared in memory
    activity = user_activity(reader, "j", at("2025-02-01T00:00:00+00:00"))
    assert activity.message_count == 30
    assert per_day(activity) == reference_per_day(writer, "j")


def test_progress_reaches_one_and_cancellation_stops(make_store: Any, backend: str) -> None:
    store = make_store(STORAGE_BACKEND=backend, MAX_MESSAGES=5)
    add(store, "c", _random_rows(6, 200), "UTC")
    seen: list[float] = []
    user_activity(store, "c", at("2025-06-01T00:00:00+00:00"), seen.append)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)

    def stop(_fraction: float) -> None:
        raise Cancelled

    with pytest.raises(Cancelled):
        user_activity(store, "c", at("2025-06-01T00:00:00+00:00"), stop)


# -- the whole store ---------------------------------------------------------------------------------------
NOW = at("2025-06-15T12:00:00+00:00")
OVERVIEW_USERS = {
    # user: (zone, UTC timestamps of user messages)
    "tokyo": ("Asia/Tokyo", ["2025-06-13T03:00:00+00:00", "2025-06-14T03:00:00+00:00"]),  # 21:00 local now
    "newyork": ("America/New_York", ["2025-06-15T02:00:00+00:00"]),  # 22:00 on the 14th there; 08:00 now
    "kolkata": ("+05:30", ["2025-06-14T12:00:00+00:00", "2025-06-14T19:00:00+00:00"]),  # 14th, 15th there
    "paris": ("Europe/Paris", ["2025-06-12T10:00:00+00:00"]),  # two days ago: the streak is over
    "kiritimati": ("Pacific/Kiritimati", ["2025-06-14T12:00:00+00:00", "2025-06-15T05:00:00+00:00"]),
    "minus5": ("UTC-5", ["2025-06-14T04:00:00+00:00", "2025-06-14T06:00:00+00:00"]),  # 13th and 14th there
}


def test_overview_breaks_today_in_each_users_zone(any_store: MemoryStore) -> None:
    for uid, (zone, stamps) in OVERVIEW_USERS.items():
        add(any_store, uid, [(s, "user", "hello there") for s in stamps], zone)
    add(any_store, "chatty", [(f"2025-06-15T0{h}:00:00+00:00", "assistant", "a b c") for h in range(9)], "UTC")
    any_store.create_user("idle")
    o = store_overview(any_store, NOW, top=3)
    # newyork: active on the 14th (their day) though it is the 15th in UTC; kiritimati (+14): 15th there,
    # 16th now; kolkata wrote today (their 15th) though it was the 14th in UTC. Longest streak first.
    assert [(u.user_id, u.current) for u in o.breaking_today] == [
        ("minus5", 2), ("tokyo", 2), ("kiritimati", 1), ("newyork", 1)]
    standing = {u.user_id: u for u in o.users}
    assert standing["kolkata"].active_today and standing["kolkata"].current == 2
    assert standing["paris"].current == 0 and not standing["paris"].breaks_today
    assert standing["kiritimati"].local_now == at("2025-06-16T02:00:00+14:00")
    for uid in OVERVIEW_USERS:
        assert standing[uid].breaks_today == any_store.get_streak(uid, NOW).breaks_today
    assert o.streak_labels[:4] == ("0", "1", "2", "3–6")
    # current streaks: tokyo 2, newyork 1, kolkata 2, paris 0, kiritimati 1, minus5 2, chatty 0, idle 0
    assert o.streak_counts[:4] == (3, 2, 3, 0) and sum(o.streak_counts) == 8
    assert [u.user_id for u in o.top_users] == ["chatty", "kiritimati", "kolkata"]  # ties: by id
    per = dict(o.active_users_per_day)
    assert per[D("2025-06-14")] == 4  # tokyo, newyork, kolkata, minus5
    assert per[D("2025-06-15")] == 2 and per[D("2025-06-13")] == 2 and per[D("2025-06-12")] == 1
    assert min(per) == D("2025-06-12") and max(per) == D("2025-06-15") and len(per) == 4


def test_assistant_messages_alone_make_no_streak(any_store: MemoryStore) -> None:
    # Streaks count user messages only, whichever way the messages arrive (one by one or in bulk).
    now = at("2025-06-15T12:00:00+00:00")
    any_store.create_user("created", {"timezone": "UTC"})
    any_store.add_message("created", "assistant", "hello", timestamp="2025-06-15T01:00:00+00:00")
    any_store.add_message("implicit", "assistant", "hello", timestamp="2025-06-15T01:00:00+00:00")
    add(any_store, "bulk", [("2025-06-15T01:00:00+00:00", "assistant", "hello")], "UTC")
    for uid in ("created", "implicit", "bulk"):
        assert any_store.get_streak(uid, now).current == 0, uid
        assert user_activity(any_store, uid, now).streak.current == 0, uid
    any_store.add_message("created", "user", "hi", timestamp="2025-06-15T02:00:00+00:00")
    assert any_store.get_streak("created", now).current == 1


def test_a_damaged_facts_file_leaves_the_rest(store: JsonMemoryStore) -> None:
    add(store, "d", _daily("+00:00", ["2025-06-01", "2025-06-02"]), "UTC")
    store.add_user_fact("d", "Paris", "location")
    folder = store.layout.user_dir("d")
    (folder / "user_facts.json").write_text('{"categories": ', encoding="utf-8")
    a = user_activity(store, "d", at("2025-06-02T12:00:00+00:00"))
    assert a.facts_by_category is None and a.streak.current == 2 and a.message_count == 2
    assert len(a.problems) == 1 and "user_facts.json" in a.problems[0]
