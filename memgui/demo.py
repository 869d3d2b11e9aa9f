"""A realistic generated store for ``memgui --demo``, the tests and the benchmarks.

``generate(path, ...)`` writes through the store API (``add_messages`` in batches for speed): users with
names and varied time zones, some chatting daily for months up to today (long streaks), some lapsed, some
occasional; facts in several categories, permanent memories, a nested global context, and one user whose
facts file is then damaged with plain file I/O. The same seed gives the same users, texts and times.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

from memgui.store import JsonMemoryStore, build_config
from memgui.store.timeutil import parse_zone

BATCH = 20_000  # messages per add_messages call
DAMAGED_USER = "mallory"

_FIRST = ["Alice", "Bruno", "Chloé", "Dmitri", "Emeka", "Fatima", "Gustav", "Hana", "Ivan", "Jun", "Kofi", "Lena",
          "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen", "Ximena",
          "Yusuf", "Zoe"]
_LAST = ["Adeyemi", "Becker", "Costa", "Dubois", "Eriksen", "Fujita", "García", "Horvat", "Ivanova", "Jensen",
         "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka", "Weber"]
_ZONES = ["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC-5", "Europe/London", "Australia/Sydney",
          "America/Los_Angeles", "+05:30", "Africa/Lagos", "America/Sao_Paulo", "UTC", "Asia/Kolkata", "GMT+2"]
_TOPICS = ["my garden", "the new job", "a book I'm reading", "learning Japanese", "my sister's wedding",
           "running a half marathon", "the cat", "cooking ramen", "a trip to Lisbon", "my thesis", "jazz piano",
           "sleeping badly", "the weekend", "List<int> vs List<Integer> in Java", "moving flats"]
_USER_LINES = ["Hi Elysia! Can we talk about {t}?", "I've been thinking about {t} all day.",
               "Quick update on {t}: it went better than expected.", "Honestly {t} is stressing me out.",
               "Do you remember what I told you about {t}?", "I <3 talking to you about {t}.",
               "Here's a picture of {t}: <img src=x onerror=alert(1)>", "Good morning :) {t} again, sorry",
               "What would you do about {t}?\nI keep going back and forth."]
_BOT_LINES = ["Of course! Tell me more about {t}.", "That sounds like a lot. What part of {t} weighs on you most?",
              "I'm glad {t} went well — you worked hard for it.", "Last time you said {t} felt exciting. Still?",
              "Let's break {t} into small steps. What is the first one?",
              "Here's an idea for {t}:\n1. write it down\n2. sleep on it\n3. decide tomorrow."]
_FACTS = {
    "personal": ["Has a younger sister", "Is {age} years old", "Grew up near the sea", "Is left-handed"],
    "location": ["Lives in {city}", "Moved to {city} last year", "Commutes by bike"],
    "preferences": ["Prefers tea over coffee", "Likes short answers", "Dislikes small talk", "Loves jazz"],
    "work": ["Works as a nurse", "Is a software developer", "Is writing a thesis", "Runs a bakery"],
    "hobbies": ["Plays the piano", "Grows tomatoes", "Runs every Sunday", "Learns Japanese"],
    "health": ["Sleeps badly before exams", "Is allergic to cats", "Started meditating"],
}
_CITIES = ["Lisbon", "Osaka", "Lagos", "Montréal", "Berlin", "Pune", "Austin", "Melbourne"]
_MEMORIES = {
    "milestone": ["Finished the first half marathon", "Got the job offer", "Defended the thesis"],
    "preference": ["Wants to be called by first name", "Prefers to be asked before advice"],
    "important_date": ["Birthday on {day}", "Wedding anniversary on {day}"],
}


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
    ids = list(_user_ids(users, damaged, rng))
    for n, uid in enumerate(ids):
        _make_user(store, uid, n, rng, today, messages_per_user)
    _global_context(store, rng, len(ids))
    store.flush()
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


def _make_user(store: JsonMemoryStore, uid: str, n: int, rng: random.Random, now: datetime,
               per_user: int | None) -> None:
    zone_name = _ZONES[n % len(_ZONES)]
    zone = _zone_of(zone_name)
    name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    today = now.astimezone(zone).date()
    kind = ("daily", "lapsed", "occasional")[n % 3] if n else "daily"
    created = today - timedelta(days=rng.randint(60, 240))
    store.create_user(uid, {"name": name, "timezone": zone_name, "created_at": _stamp(created, time(9), zone),
                            "bio": f"Talks with Elysia about {rng.choice(_TOPICS)}.",
                            "preferences": {"theme": rng.choice(["light", "dark"]), "language": "en",
                                            "notifications": {"email": rng.random() < 0.5, "push": True}}})
    count = per_user if per_user is not None else rng.randint(20, 120)
    days = _active_days(kind, created, today, rng, count)
    if per_user is None:
        count = max(count, 2 * len(days))  # at least a question and an answer on every active day
    batch: list[dict[str, Any]] = []
    for msg in _messages(days, count, zone, rng, now):
        batch.append(msg)
        if len(batch) >= BATCH:
            store.add_messages(uid, batch)
            batch = []
    if batch:
        store.add_messages(uid, batch)
    for category in rng.sample(sorted(_FACTS), rng.randint(2, 4)):
        for text in rng.sample(_FACTS[category], rng.randint(1, 2)):
            fact = text.format(age=rng.randint(19, 71), city=rng.choice(_CITIES))
            store.add_user_fact(uid, fact, category, by=rng.choice(["assistant", "assistant", "admin"]))
    for kind_name in rng.sample(sorted(_MEMORIES), rng.randint(0, 2)):
        text = rng.choice(_MEMORIES[kind_name]).format(day=f"{rng.randint(1, 28)} {rng.choice(['May', 'June'])}")
        store.store_permanent_memory(uid, text, kind_name)


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
        step = max((end - start) / n, timedelta(microseconds=1)) if end > start else timedelta(microseconds=1)
        topic = rng.choice(_TOPICS)
        for k in range(n):
            role = "user" if k % 2 == 0 else "assistant"
            lines = _USER_LINES if role == "user" else _BOT_LINES
            if k % 12 == 11:
                topic = rng.choice(_TOPICS)
            moment = start + step * k
            yield {"role": role, "content": rng.choice(lines).format(t=topic), "timestamp": moment.isoformat()}


def _stamp(day: date, at: time, zone: tzinfo) -> str:
    return datetime.combine(day, at, zone).isoformat()


def _global_context(store: JsonMemoryStore, rng: random.Random, users: int) -> None:
    store.set_global_context("assistant", {"name": "Elysia", "version": "2.4.1",
                                           "model": {"family": "companion", "temperature": 0.7,
                                                     "stop": ["</s>", "User:"]}})
    store.set_global_context("features", {"streak_reminders": True, "fact_extraction": {"enabled": True,
                                                                                       "min_confidence": 0.8}})
    store.set_global_context("maintenance_window", "Sundays 02:00-03:00 UTC")
    store.set_global_context("known_users", users)
    store.set_global_context("greetings", ["Hi!", "Hello again", "Good to see you"])
