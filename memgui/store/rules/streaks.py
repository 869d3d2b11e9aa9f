"""Pure rules for usage metrics and daily streaks, computed in the user's own calendar.

A streak is a run of consecutive local days on which the user wrote at least one message. ``streak_days``
is the run that ends on the user's latest active day; ``longest_streak`` the longest run ever. Days arrive
in any order (clocks going backwards, back-filled history): an out-of-order day triggers a full recount.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from memgui.store.timeutil import local_date, parse_timestamp

Doc = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class StreakInfo:
    """A user's streak as of a moment: ``current`` is 0 once a whole local day passed without a message."""

    current: int
    longest: int
    last_active: date | None
    active_today: bool
    breaks_today: bool  # active yesterday, not yet today: the streak ends at midnight unless they come back


@dataclasses.dataclass(frozen=True)
class Span:
    """Consecutive local days, both ends included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


@dataclasses.dataclass(frozen=True)
class StreakSummary:
    """The streak at ``now`` (as ``store.get_streak`` counts it) and the days it spans."""

    current: int
    longest: int
    current_span: Span | None
    longest_span: Span | None  # the most recent of the longest runs of days found
    last_active: date | None
    active_today: bool
    breaks_today: bool


def spans(days: Iterable[date]) -> list[Span]:
    """The runs of consecutive days among ``days``, oldest first."""
    ordered = sorted(set(days))
    if not ordered:
        return []
    found: list[Span] = []
    one = timedelta(days=1)
    start = previous = ordered[0]
    for day in ordered[1:]:  # a Span per run, not one per day (100,000 users' rows are made at once)
        if day - previous != one:
            found.append(Span(start, previous))
            start = day
        previous = day
    found.append(Span(start, previous))
    return found


def runs(days: Iterable[date]) -> tuple[int, int]:
    """(run ending at the latest day, longest run) over a set of days."""
    found = spans(days)
    return (found[-1].days, max(s.days for s in found)) if found else (0, 0)


def streak_summary(days: Iterable[date], today: date, recorded_longest: int = 0) -> StreakSummary:
    """The streak over the active ``days`` as of ``today``: the one rule of what a streak is. A streak not
    continued by yesterday is over (current 0); a latest day after ``today`` (the clock went back) still
    ends the current streak; ``recorded_longest`` (from metrics of trimmed days) can only raise the longest."""
    found = spans(days)
    if not found:
        return StreakSummary(0, recorded_longest, None, None, None, False, False)
    longest_span = max(reversed(found), key=lambda s: s.days)
    last = found[-1]
    alive = last.end > today or today - last.end <= timedelta(days=1)
    return StreakSummary(
        current=last.days if alive else 0,
        longest=max(longest_span.days, recorded_longest),
        current_span=last if alive else None,
        longest_span=longest_span,
        last_active=last.end,
        active_today=last.end == today,
        breaks_today=last.end == today - timedelta(days=1),
    )


def _parse_days(values: Iterable[Any]) -> list[date]:
    out = []
    for value in values:
        try:
            out.append(date.fromisoformat(value))
        except (TypeError, ValueError):
            continue
    return out


def active_days(metrics: Doc) -> list[date]:
    """The user's active days: ``user_active_dates``, or for v1 files ``interaction_dates``."""
    key = "user_active_dates" if "user_active_dates" in metrics else "interaction_dates"
    return sorted(set(_parse_days(metrics.get(key, ()))))


def record_active_day(metrics: Doc, day: date) -> Doc:
    """A copy of ``metrics`` with ``day`` counted as a day the user was active, streak fields updated."""
    out = dict(metrics)
    text = day.isoformat()
    stored = metrics.get("user_active_dates")
    longest = int(metrics.get("longest_streak") or 0)
    if isinstance(stored, list) and stored and isinstance(stored[-1], str) and text >= stored[-1]:
        # The common case: today or a later day. ISO dates sort as text.
        if text == stored[-1]:
            return out
        try:
            gap = day - date.fromisoformat(stored[-1])
        except ValueError:
            gap = None
        if gap is not None:
            current = int(metrics.get("streak_days") or 0) + 1 if gap == timedelta(days=1) else 1
            out["user_active_dates"] = [*stored, text]
            out["streak_days"] = current
            out["longest_streak"] = max(longest, current)
            out["last_interaction_date"] = text
            return out
    # First streak of a v1 file, or a day before the latest one: count everything again.
    days = set(active_days(metrics))
    days.add(day)
    current, run_longest = runs(days)
    out["user_active_dates"] = sorted(d.isoformat() for d in days)
    out["streak_days"] = current
    out["longest_streak"] = max(longest, run_longest)
    out["last_interaction_date"] = out["user_active_dates"][-1]
    return out


def add_interaction_date(metrics: Doc, day: date) -> None:
    """Add ``day`` to the v1 ``interaction_dates`` list of ``metrics`` (in place), kept sorted and unique."""
    text = day.isoformat()
    dates = metrics.get("interaction_dates")
    if not isinstance(dates, list):
        metrics["interaction_dates"] = [text]
    elif not dates or (isinstance(dates[-1], str) and text > dates[-1]):
        metrics["interaction_dates"] = [*dates, text]
    elif text not in dates:
        metrics["interaction_dates"] = sorted({*dates, text})


def _same_shape(a: str, b: str) -> bool:
    """Both ISO texts with the same length and offset suffix: their text order is their time order."""
    return len(a) == len(b) and a[-6:] == b[-6:] and a[-6] in "+-" and a[10:11] == b[10:11] == "T"


def _later(a: str | None, b: str, zone: tzinfo) -> str:
    if not a:
        return b
    if _same_shape(a, b):
        return b if b >= a else a
    try:
        return b if parse_timestamp(b, zone) >= parse_timestamp(a, zone) else a
    except ValueError:
        return b


def _earlier(a: str | None, b: str, zone: tzinfo) -> str:
    if not a:
        return b
    if _same_shape(a, b):
        return b if b < a else a
    try:
        return b if parse_timestamp(b, zone) < parse_timestamp(a, zone) else a
    except ValueError:
        return a


def count_message(metrics: Doc, message: Doc, day: date, default_zone: tzinfo) -> Doc:
    """A copy of ``metrics`` with one more stored message counted on the user's local ``day`` (which also
    continues the streak, for a user message). Deterministic, so a journal can replay it."""
    out = dict(metrics)
    out["message_count"] = int(out.get("message_count") or 0) + 1
    out["total_words"] = int(out.get("total_words") or 0) + int(message.get("word_count") or 0)
    stamp = message["timestamp"]
    out["first_interaction"] = _earlier(out.get("first_interaction"), stamp, default_zone)
    out["last_interaction"] = _later(out.get("last_interaction"), stamp, default_zone)
    add_interaction_date(out, day)
    if message.get("role") == "user":
        out = record_active_day(out, day)
    elif "user_active_dates" not in out:
        # Keep the user's days as they stand (a v1 file: its interaction dates), as count_messages does;
        # else the v1 fallback would count this assistant message's day as a streak day.
        out["user_active_dates"] = [d.isoformat() for d in active_days(metrics)]
    return out


def count_messages(metrics: Doc, items: list[tuple[Doc, date]], default_zone: tzinfo) -> Doc:
    """``count_message`` for many messages at once (a bulk import): one recount of the streak at the end."""
    if not items:
        return dict(metrics)
    out = dict(metrics)
    out["message_count"] = int(out.get("message_count") or 0) + len(items)
    out["total_words"] = int(out.get("total_words") or 0) + sum(int(m.get("word_count") or 0) for m, _ in items)
    first, last = out.get("first_interaction"), out.get("last_interaction")
    dates = set(_parse_days(out.get("interaction_dates", ())))
    user_days = set(active_days(metrics))
    for message, day in items:
        stamp = message["timestamp"]
        first, last = _earlier(first, stamp, default_zone), _later(last, stamp, default_zone)
        dates.add(day)
        if message.get("role") == "user":
            user_days.add(day)
    out["first_interaction"], out["last_interaction"] = first, last
    out["interaction_dates"] = sorted(d.isoformat() for d in dates)
    current, longest = runs(user_days)
    out["user_active_dates"] = sorted(d.isoformat() for d in user_days)
    out["streak_days"] = current
    out["longest_streak"] = max(longest, int(metrics.get("longest_streak") or 0))
    out["last_interaction_date"] = max(user_days).isoformat() if user_days else None
    return out


def streak_info(metrics: Doc, zone: tzinfo, now: datetime) -> StreakInfo:
    """The streak as it stands at ``now`` in ``zone`` (``streak_summary`` over the metrics' active days)."""
    s = streak_summary(active_days(metrics), local_date(now, zone), int(metrics.get("longest_streak") or 0))
    return StreakInfo(s.current, s.longest, s.last_active, s.active_today, s.breaks_today)


def recount(messages: Iterable[Doc], zone: tzinfo, default_zone: tzinfo, base: Doc | None = None) -> Doc:
    """Metrics rebuilt from the stored messages (a repair), merged with ``base``.

    Messages trimmed without an archive (or by the older implementation) are gone, so counts never drop
    below what ``base`` holds and dates already recorded are kept; other keys of ``base`` are kept as they are.
    """
    out = dict(base or {})
    count = words = 0
    first = out.get("first_interaction") if isinstance(out.get("first_interaction"), str) else None
    last = out.get("last_interaction") if isinstance(out.get("last_interaction"), str) else None
    dates = set(_parse_days(out.get("interaction_dates", ())))
    user_days = set(_parse_days(out.get("user_active_dates", ())))
    for msg in messages:
        count += 1
        words += int(msg.get("word_count") or 0)
        try:
            moment = parse_timestamp(msg["timestamp"], default_zone)
        except (KeyError, ValueError):
            continue
        first = _earlier(first, msg["timestamp"], default_zone)
        last = _later(last, msg["timestamp"], default_zone)
        day = local_date(moment, zone)
        dates.add(day)
        if msg.get("role", "user" if msg.get("is_user") else "assistant") == "user":
            user_days.add(day)
    out["message_count"] = max(count, int(out.get("message_count") or 0))
    out["total_words"] = max(words, int(out.get("total_words") or 0))
    out["interaction_dates"] = sorted(d.isoformat() for d in dates)
    out["first_interaction"], out["last_interaction"] = first, last
    current, longest = runs(user_days)
    out["user_active_dates"] = sorted(d.isoformat() for d in user_days)
    out["streak_days"] = current
    out["longest_streak"] = max(longest, int(out.get("longest_streak") or 0))
    out["last_interaction_date"] = max(user_days).isoformat() if user_days else None
    return out
