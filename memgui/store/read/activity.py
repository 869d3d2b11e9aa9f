"""Activity aggregates for the metrics charts: one user's messages binned per local day, streak spans,
a year of active days, facts by category, message lengths; and the whole store's standing today.

Plain Python (no Qt), so the GUI computes them on a worker thread and tests check them exactly. Days are
the user's own calendar days (``store.user_zone``; a timestamp without an offset is read in
``store.default_zone``). ``now`` is always a parameter. The messages are streamed (``activity_scan``), so a
user with a million messages is binned per day in seconds, without holding the messages in memory.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta, tzinfo

from memgui.store.errors import CorruptDataError
from memgui.store.interface import MemoryStore
from memgui.store.read.activity_scan import Cancelled, ProgressFn, scan_messages
from memgui.store.rules import streaks
from memgui.store.rules.streaks import Span, StreakSummary, streak_summary
from memgui.store.timeutil import as_aware, local_date, parse_timestamp, zone_label

__all__ = [
    "LENGTH_BINS",
    "STREAK_BINS",
    "Cancelled",
    "DayCounts",
    "LengthHistogram",
    "ProgressFn",
    "Span",
    "StoreOverview",
    "StreakSummary",
    "UserActivity",
    "UserStanding",
    "store_overview",
    "user_activity",
]

#: Lower bounds of the message length bins, in words.
LENGTH_BINS: tuple[int, ...] = (0, 3, 5, 10, 20, 50, 100, 200, 500)
#: Lower bounds of the current-streak bins of the overview, in days.
STREAK_BINS: tuple[int, ...] = (0, 1, 2, 3, 7, 14, 30, 100)


def bin_labels(bounds: tuple[int, ...]) -> tuple[str, ...]:
    """"0", "1–2", ..., "500+" for lower bounds ``bounds``."""
    labels = []
    for i, low in enumerate(bounds):
        high = bounds[i + 1] - 1 if i + 1 < len(bounds) else None
        labels.append(f"{low}+" if high is None else str(low) if high == low else f"{low}–{high}")
    return tuple(labels)


def _binned(values: Counter[int], bounds: tuple[int, ...]) -> tuple[int, ...]:
    counts = [0] * len(bounds)
    for value, n in values.items():
        index = next(i for i in range(len(bounds) - 1, -1, -1) if value >= bounds[i] or i == 0)
        counts[index] += n
    return tuple(counts)


@dataclasses.dataclass(frozen=True)
class DayCounts:
    """Messages and words per local day, for the days that have any message (ascending)."""

    days: tuple[date, ...] = ()
    user_messages: tuple[int, ...] = ()
    assistant_messages: tuple[int, ...] = ()
    user_words: tuple[int, ...] = ()
    assistant_words: tuple[int, ...] = ()

    def dense(self) -> DayCounts:
        """Every day from the first to the last, days without messages as zeros (what a chart plots)."""
        if not self.days:
            return self
        index = {day: i for i, day in enumerate(self.days)}
        first, last = self.days[0], self.days[-1]
        days = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))

        def spread(values: tuple[int, ...]) -> tuple[int, ...]:
            return tuple(values[index[d]] if d in index else 0 for d in days)

        return DayCounts(days, spread(self.user_messages), spread(self.assistant_messages),
                         spread(self.user_words), spread(self.assistant_words))

    def get(self, day: date) -> tuple[int, int, int, int]:
        """(user messages, assistant messages, user words, assistant words) on ``day``."""
        try:
            i = self.days.index(day)
        except ValueError:
            return 0, 0, 0, 0
        return self.user_messages[i], self.assistant_messages[i], self.user_words[i], self.assistant_words[i]


@dataclasses.dataclass(frozen=True)
class LengthHistogram:
    """How many messages have how many words, per role, in the bins of ``LENGTH_BINS``."""

    labels: tuple[str, ...]
    user: tuple[int, ...]
    assistant: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class UserActivity:
    """Everything the metrics pane plots for one user."""

    user_id: str
    name: str
    zone: str
    today: date
    per_day: DayCounts  # days with messages only
    daily: DayCounts  # every day from the first to the last (what the charts plot), made on the worker
    active_days: frozenset[date]
    streak: StreakSummary
    facts_by_category: tuple[tuple[str, int], ...] | None  # None: the facts file could not be read
    lengths: LengthHistogram
    first_interaction: datetime | None  # in the user's zone
    last_interaction: datetime | None
    message_count: int  # every message read, system messages included
    total_words: int
    problems: tuple[str, ...] = ()  # files that could not be read; the rest is shown without them

    def year(self, end: date | None = None) -> list[tuple[date, int, bool]]:
        """The 371 days of the 53 calendar weeks (Monday first) ending with ``end``'s week (default: today):
        (day, user messages that day, active) for the calendar heatmap; days after ``end`` are left out."""
        end = end or self.today
        start = end - timedelta(days=end.weekday()) - timedelta(weeks=52)
        counts = dict(zip(self.per_day.days, self.per_day.user_messages, strict=True))
        return [(d, counts.get(d, 0), d in self.active_days)
                for d in (start + timedelta(days=i) for i in range((end - start).days + 1))]


class _Binner:
    """Accumulates (timestamp, words, role) rows into per-day counts in one zone."""

    def __init__(self, zone: tzinfo, default_zone: tzinfo) -> None:
        self.zone, self.default_zone = zone, default_zone
        self.per_day: dict[int, list[int]] = {}  # ordinal -> [user n, assistant n, user words, assistant words]
        self.lengths: dict[str, Counter[int]] = {"user": Counter(), "assistant": Counter()}
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.count = self.words = 0
        self.user_days: set[int] = set()

    def add(self, rows: Iterable[tuple[str, int, str]]) -> None:
        zone, default, per_day = self.zone, self.default_zone, self.per_day
        parse = datetime.fromisoformat
        first, last = self.first, self.last
        user_lengths, assistant_lengths = self.lengths["user"], self.lengths["assistant"]
        count = words_total = 0
        for stamp, words, role in rows:
            count += 1
            words_total += words
            try:
                moment = parse(stamp)
            except (TypeError, ValueError):
                try:
                    moment = parse_timestamp(stamp, default)  # other ISO 8601 forms
                except ValueError:
                    continue  # counted, but on no day: the store's recount skips its day too
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=default)
            if first is None or moment < first:
                first = moment
            if last is None or moment > last:
                last = moment
            day = moment.astimezone(zone).toordinal()
            slot = per_day.get(day)
            if slot is None:
                slot = per_day[day] = [0, 0, 0, 0]
            if role == "user":
                slot[0] += 1
                slot[2] += words
                user_lengths[words] += 1
                self.user_days.add(day)
            elif role == "assistant":
                slot[1] += 1
                slot[3] += words
                assistant_lengths[words] += 1
        self.first, self.last = first, last
        self.count += count
        self.words += words_total

    def day_counts(self) -> DayCounts:
        ordinals = sorted(self.per_day)
        columns = list(zip(*(self.per_day[o] for o in ordinals), strict=True)) or [(), (), (), ()]
        return DayCounts(tuple(date.fromordinal(o) for o in ordinals), *map(tuple, columns))


def user_activity(store: MemoryStore, user_id: str, now: datetime, progress: ProgressFn | None = None
                  ) -> UserActivity:
    """The aggregates of one user at ``now``. ``progress`` gets fractions 0..1 and may raise ``Cancelled``."""
    zone = store.user_zone(user_id)
    today = local_date(as_aware(now, store.default_zone), zone)
    binner = _Binner(zone, store.default_zone)
    scan_messages(store, user_id, binner.add, progress)
    per_day = binner.day_counts()
    problems: list[str] = []
    metrics = store.get_conversation_metrics(user_id)  # adds days whose messages the older code trimmed
    active = {date.fromordinal(o) for o in binner.user_days} | set(streaks.active_days(metrics))
    recorded = metrics.get("longest_streak")
    streak = streak_summary(active, today, recorded if isinstance(recorded, int) else 0)
    facts: dict[str, list[str]] | None
    try:
        facts = store.get_user_facts(user_id)
    except CorruptDataError as exc:
        facts = None
        problems.append(f"Facts not shown: {exc}")
    lengths = LengthHistogram(bin_labels(LENGTH_BINS), _binned(binner.lengths["user"], LENGTH_BINS),
                              _binned(binner.lengths["assistant"], LENGTH_BINS))
    name = store.get_user_profile(user_id).get("name")
    return UserActivity(
        user_id=user_id,
        name=name if isinstance(name, str) and name else user_id,
        zone=zone_label(zone),
        today=today,
        per_day=per_day,
        daily=per_day.dense(),
        active_days=frozenset(active),
        streak=streak,
        facts_by_category=None if facts is None else tuple(
            sorted(((c, len(f)) for c, f in facts.items() if f), key=lambda cf: (-cf[1], cf[0]))),
        lengths=lengths,
        first_interaction=binner.first.astimezone(zone) if binner.first else None,
        last_interaction=binner.last.astimezone(zone) if binner.last else None,
        message_count=binner.count,
        total_words=binner.words,
        problems=tuple(problems),
    )


@dataclasses.dataclass(frozen=True)
class UserStanding:
    """One user's row in the overview: streak today in their own zone, and how much they wrote."""

    user_id: str
    name: str
    zone: str
    local_now: datetime  # ``now`` in the user's zone: how long until their midnight
    current: int
    longest: int
    last_active: date | None
    active_today: bool
    breaks_today: bool
    message_count: int
    total_words: int
    active_days: tuple[date, ...]


@dataclasses.dataclass(frozen=True)
class StoreOverview:
    """The whole store at ``now``."""

    now: datetime
    users: tuple[UserStanding, ...]
    active_users_per_day: tuple[tuple[date, int], ...]  # every day from the first to the last active one
    streak_labels: tuple[str, ...]
    streak_counts: tuple[int, ...]  # users per current-streak bin (STREAK_BINS)
    breaking_today: tuple[UserStanding, ...]  # longest current streak first
    top_users: tuple[UserStanding, ...]  # most messages first


def _standing(store: MemoryStore, user_id: str, now: datetime) -> UserStanding:
    zone = store.user_zone(user_id)
    metrics = store.get_conversation_metrics(user_id)
    info = store.get_streak(user_id, now)
    name = store.get_user_profile(user_id).get("name")
    count, words = metrics.get("message_count"), metrics.get("total_words")
    return UserStanding(
        user_id=user_id,
        name=name if isinstance(name, str) and name else user_id,
        zone=zone_label(zone),
        local_now=as_aware(now, store.default_zone).astimezone(zone),
        current=info.current,
        longest=info.longest,
        last_active=info.last_active,
        active_today=info.active_today,
        breaks_today=info.breaks_today,
        message_count=count if isinstance(count, int) else 0,
        total_words=words if isinstance(words, int) else 0,
        active_days=tuple(streaks.active_days(metrics)),
    )


def _activity_rank(user: UserStanding) -> tuple[int, int, str]:
    """Most messages first, then most words, then by id."""
    return -user.message_count, -user.total_words, user.user_id


def store_overview(store: MemoryStore, now: datetime, *, top: int = 10, progress: ProgressFn | None = None
                   ) -> StoreOverview:
    """Every user's standing at ``now`` (from their metrics, not their messages: fast for any history)."""
    ids = store.get_all_users()
    users = []
    for i, user_id in enumerate(ids):
        users.append(_standing(store, user_id, now))
        if progress is not None:
            progress((i + 1) / len(ids))
    per_day: Counter[date] = Counter(day for u in users for day in u.active_days)
    series: list[tuple[date, int]] = []
    if per_day:
        first, last = min(per_day), max(per_day)
        series = [(d, per_day.get(d, 0)) for d in (first + timedelta(days=i) for i in range((last - first).days + 1))]
    streak_counts = _binned(Counter(u.current for u in users), STREAK_BINS)
    breaking = sorted((u for u in users if u.breaks_today), key=lambda u: (-u.current, u.user_id))
    return StoreOverview(
        now=now,
        users=tuple(users),
        active_users_per_day=tuple(series),
        streak_labels=bin_labels(STREAK_BINS),
        streak_counts=streak_counts,
        breaking_today=tuple(breaking),
        top_users=tuple(sorted((u for u in users if u.message_count), key=_activity_rank)[:top]),
    )
