"""A realistic generated store for ``memgui --demo``, the tests and the benchmarks.

``generate(path, ...)`` writes through the store API (``add_messages`` in batches for speed): users with
names and varied time zones, some chatting daily for months up to today (long streaks), some lapsed, some
occasional; facts in several categories and permanent memories, each stored by the assistant a few seconds
after the user message that mentions it (linked to it as its source), a few facts corrected by an admin days
later; a nested global context, and one user whose facts file is then damaged with plain file I/O. Every write
is stamped at its moment of the history through the store's clock (``clock``). The same seed gives the same
users, texts and times. The phrase tables are ``memgui.demo_text``.
"""

from __future__ import annotations

import bisect
import dataclasses
import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

from memgui import demo_text as text
from memgui.store import JsonMemoryStore, build_config
from memgui.store.timeutil import parse_zone

BATCH = 20_000  # messages per add_messages call
DAMAGED_USER = "mallory"
CORRECTED_SHARE = 1 / 6  # of the facts that have a correction in the table, the share an admin corrects


class _Clock:
    """The store's clock while the demo writes (``MemoryStore.clock``): the moment the history is at."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment.astimezone(timezone.utc)  # stamped in UTC, as the real clock stamps


def generate(path: str | Path, users: int = 50, messages_per_user: int | None = None, seed: int = 0, *,
             now: datetime | None = None, damaged: bool = True, max_messages: int = 100) -> JsonMemoryStore:
    """Write a demo store into ``path`` and return it (open; close it when done).

    ``messages_per_user`` None varies it per user (a few thousand messages for 50 users); a number gives
    every user exactly that many. With ``damaged`` (and at least 3 users) ``DAMAGED_USER``'s facts file is
    truncated after generation.
    """
    rng = random.Random(seed)
    today = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    store = JsonMemoryStore(build_config({"DATA_DIR": Path(path), "DEFAULT_TIMEZONE": "UTC", "DURABLE_WRITES": False,
                                          "MAX_MESSAGES": max_messages}, environ={}))
    real_clock, clock = store.clock, _Clock(today)
    store.clock = clock  # every write is stamped at the moment of the history it belongs to
    try:
        ids = list(_user_ids(users, damaged, rng))
        for n, uid in enumerate(ids):
            _make_user(store, clock, uid, n, rng, today, messages_per_user)
        clock.moment = today
        _global_context(store, rng, len(ids))
        store.flush()
    finally:
        store.clock = real_clock
    if damaged and DAMAGED_USER in ids:
        facts = store.layout.user_dir(DAMAGED_USER) / "user_facts.json"
        data = facts.read_bytes()
        facts.write_bytes(data[: len(data) // 2])  # a torn write, as a crash of the older code leaves it
    return store


def _user_ids(count: int, damaged: bool, rng: random.Random) -> Iterator[str]:
    names = ["elysia_fan", "alice.smith", "bruno", "chloe-k", "dmitri", "emeka99", "fatima", "gustav"]
    if damaged and count >= 3:
        names.insert(2, DAMAGED_USER)
    for i in range(count):
        yield names[i] if i < len(names) else f"user_{i:05d}"


def _zone_of(name: str) -> tzinfo:
    return parse_zone(name)


def _make_user(store: JsonMemoryStore, clock: _Clock, uid: str, n: int, rng: random.Random, now: datetime,
               per_user: int | None) -> None:
    zone_name = text.ZONES[n % len(text.ZONES)]
    zone = _zone_of(zone_name)
    first = rng.choice(text.FIRST)
    name = f"{first} {rng.choice(text.LAST)}"
    today = now.astimezone(zone).date()
    kind = ("daily", "lapsed", "occasional")[n % 3] if n else "daily"
    created = today - timedelta(days=rng.randint(60, 240))
    clock.moment = datetime.combine(created, time(9), zone)
    store.create_user(uid, {"name": name, "timezone": zone_name, "created_at": clock.moment.isoformat(),
                            "bio": f"Talks with Elysia about {rng.choice(text.TOPICS)}.",
                            "preferences": {"theme": rng.choice(["light", "dark"]), "language": "en",
                                            "notifications": {"email": rng.random() < 0.5, "push": True}}})
    count = per_user if per_user is not None else rng.randint(20, 120)
    days = _active_days(kind, created, today, rng, count)
    if per_user is None:
        count = max(count, 2 * len(days))  # at least a question and an answer on every active day
    messages = list(_messages(days, count, zone, rng, now))
    said = _mentions(rng, first, at_least_one_correction=n < 3)
    positions = _spread([i for i, m in enumerate(messages) if m["role"] == "user"], len(said), rng)
    mentions = list(zip(positions, said[:len(positions)], strict=True))  # a short history mentions fewer
    for pos, item in mentions:
        messages[pos]["content"] = item.line
        if pos + 1 < len(messages) and messages[pos + 1]["role"] == "assistant":
            messages[pos + 1]["content"] = rng.choice(text.BOT_NOTED)
    _write_history(store, clock, uid, messages, mentions, rng, now)


@dataclasses.dataclass
class _Said:
    """A fact or memory a user mentions: the line that says it, what the assistant stores, and for a fact
    the text an admin corrects it to (empty: never corrected)."""

    kind: str  # "fact" or "memory"
    category: str  # the fact's category or the memory's type
    text: str
    line: str
    correction: str = ""


def _mentions(rng: random.Random, first: str, *, at_least_one_correction: bool) -> list[_Said]:
    """What one user will mention over the history, in the order they say it."""
    age = rng.randint(19, 71)
    values = {"age": age, "age1": age + 1, "city": rng.choice(text.CITIES), "first": first,
              "day": f"{rng.randint(1, 28)} {rng.choice(text.MONTHS)}"}
    said = [_Said("fact", category, m.text.format(**values), m.line.format(**values), m.correction.format(**values))
            for category in rng.sample(sorted(text.FACTS), rng.randint(2, 4))
            for m in rng.sample(text.FACTS[category], rng.randint(1, 2))]
    said += [_Said("memory", kind, m.text.format(**values), m.line.format(**values))
             for kind in rng.sample(sorted(text.MEMORIES), rng.randint(0, 2))
             for m in [rng.choice(text.MEMORIES[kind])]]
    rng.shuffle(said)
    correctable = [i for i, s in enumerate(said[:-1]) if s.correction]  # not the last: said too recently
    keep = {i for i in correctable if rng.random() < CORRECTED_SHARE}
    if at_least_one_correction and correctable and not keep:
        keep = {rng.choice(correctable)}
    for i, s in enumerate(said):
        if i not in keep:
            s.correction = ""
    return said


def _spread(indices: list[int], count: int, rng: random.Random) -> list[int]:
    """``count`` of ``indices`` (fewer if there are not so many), one from each of ``count`` equal stretches."""
    count = min(count, len(indices))
    return [rng.choice(indices[j * len(indices) // count:(j + 1) * len(indices) // count]) for j in range(count)]


def _write_history(store: JsonMemoryStore, clock: _Clock, uid: str, messages: list[dict[str, Any]],
                   mentions: list[tuple[int, _Said]], rng: random.Random, now: datetime) -> None:
    """Store ``messages`` in order; after each mention (message index, what it said) the assistant stores the
    fact or memory a few seconds later, linked to that message; an admin corrects some facts days later."""
    corrections: list[tuple[datetime, str, str, str]] = []  # (when, category, text, new text), oldest first
    done = 0
    for pos, said in mentions:
        _add_batches(store, uid, messages[done:pos + 1])
        done = pos + 1
        message = messages[pos]
        stored = store.get_message_history(uid, 1)[0]  # the mention, just stored with its new id
        at = min(datetime.fromisoformat(message["timestamp"]) + timedelta(seconds=rng.randint(2, 40)), now)
        _correct(store, clock, uid, corrections, at)
        clock.moment = at
        if said.kind == "memory":
            store.store_permanent_memory(uid, said.text, said.category)
            continue
        store.add_user_fact(uid, said.text, said.category, by="assistant", source_message_id=stored["id"])
        delay = timedelta(days=rng.randint(1, 30), minutes=rng.randint(0, 600))
        if at + delay >= now:  # said recently: corrected in between, not at the moment of generation
            delay = (now - at) * rng.uniform(0.3, 0.9)
        when = at + delay
        if said.correction and when > at:
            bisect.insort(corrections, (when, said.category, said.text, said.correction))
    _add_batches(store, uid, messages[done:])
    _correct(store, clock, uid, corrections, now)


def _correct(store: JsonMemoryStore, clock: _Clock, uid: str, corrections: list[tuple[datetime, str, str, str]],
             until: datetime) -> None:
    """Apply, in time order, the admin's corrections due by ``until``."""
    while corrections and corrections[0][0] <= until:
        when, category, old, new = corrections.pop(0)
        clock.moment = when
        store.update_user_fact(uid, category, old, new, by="admin")


def _add_batches(store: JsonMemoryStore, uid: str, messages: list[dict[str, Any]]) -> None:
    for start in range(0, len(messages), BATCH):
        store.add_messages(uid, messages[start:start + BATCH])


def _active_days(kind: str, created: date, today: date, rng: random.Random, count: int) -> list[date]:
    """The local days the user wrote on, oldest first."""
    span = max(1, (today - created).days)
    if kind == "daily":  # every day for months, up to today: a long current streak
        run = min(span, rng.randint(30, 150))
        days = [today - timedelta(days=d) for d in range(run)]
    elif kind == "lapsed":  # active for a while, silent for weeks
        stop = today - timedelta(days=rng.randint(10, 60))
        days = [stop - timedelta(days=d) for d in range(rng.randint(5, 40))]
    else:
        days = sorted({today - timedelta(days=rng.randint(0, span)) for _ in range(max(3, count // 6))})
    if len(days) > count:  # a fixed message count (a benchmark): the most recent days that it fills
        days = sorted(days)[-max(1, count // 2):]
    return sorted(days)


def _messages(days: list[date], count: int, zone: tzinfo, rng: random.Random,
              now: datetime) -> Iterator[dict[str, Any]]:
    """``count`` alternating user/assistant messages spread over ``days``, in time order, none in the future."""
    per_day, extra = divmod(count, len(days))
    for i, day in enumerate(days):
        n = per_day + (1 if i < extra else 0)
        if not n:
            continue
        start = datetime.combine(day, time(7, rng.randint(0, 59)), zone)
        end = min(datetime.combine(day, time(23, 30), zone), now.astimezone(zone))
        if start >= end:  # the user's today, before their usual first message: the messages of the night so far
            midnight = datetime.combine(day, time(0), zone)
            start = midnight + (end - midnight) / 4
        step = (end - start) / n if end > start else timedelta(0)
        topic = rng.choice(text.TOPICS)
        for k in range(n):
            role = "user" if k % 2 == 0 else "assistant"
            lines = text.USER_LINES if role == "user" else text.BOT_LINES
            if k % 12 == 11:
                topic = rng.choice(text.TOPICS)
            moment = start + step * k
            yield {"role": role, "content": rng.choice(lines).format(t=topic), "timestamp": moment.isoformat()}


def _global_context(store: JsonMemoryStore, rng: random.Random, users: int) -> None:
    store.set_global_context("assistant", {"name": "Elysia", "version": "2.4.1",
                                           "model": {"family": "companion", "temperature": 0.7,
                                                     "stop": ["</s>", "User:"]}})
    store.set_global_context("features", {"streak_reminders": True, "fact_extraction": {"enabled": True,
                                                                                       "min_confidence": 0.8}})
    store.set_global_context("maintenance_window", "Sundays 02:00-03:00 UTC")
    store.set_global_context("known_users", users)
    store.set_global_context("greetings", ["Hi!", "Hello again", "Good to see you"])
