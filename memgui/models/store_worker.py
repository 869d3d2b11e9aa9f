"""Reading the store off the GUI thread: the users list (in batches), one user's details, the global
context. Every request carries a generation number; the receiving side drops answers to old requests."""

from __future__ import annotations

import dataclasses
import gc
import json
from datetime import datetime, timezone, tzinfo
from typing import Any

from PySide6.QtCore import QTimer, Signal, Slot

from memgui.models.fact_history_model import VersionRow, version_rows
from memgui.models.facts_model import FactRow
from memgui.models.jobs import Job, JobWorker
from memgui.models.memories_model import MemoryRow
from memgui.models.timefmt import local_moment, local_text
from memgui.models.users_model import UserSummary
from memgui.store import MemoryStore, MemoryStoreError
from memgui.store.read.users_summary import SummaryCache, UserRow, current_streaks, read_row
from memgui.store.timeutil import resolve_zone, zone_label

USERS_PER_STEP = 100  # users read from the store per step (a step holds the GIL: keep it short)
IDS_PER_BATCH = 1000  # ids per batch before the cache is read, and per step of the check against the files
# Rows of the cache file per batch: a batch costs the GUI thread one repaint of the list (9 ms, whatever its
# size) plus about 4 ms per 1,000 rows. At 100,000 users (benchmarks/bench_gui.py, median of 5 warm starts) every
# column was filled after 2.2 s in batches of 5,000, 1.8-1.9 s in batches of 10,000 and 1.6 s in batches of
# 20,000, whose 80 ms in the GUI thread made stalls of 140 ms.
CACHED_PER_BATCH = 10000
FILLED_PER_BATCH = 1000  # rows read from the store delivered per batch
SAVE_DELAY_MS = 5000  # the summary cache is written this long after a live change (not once per change)
Entries = list[tuple[str, Any, str]]


@dataclasses.dataclass(frozen=True)
class UserDetails:
    """Everything the detail panes show about one user; a part that could not be read is None and its
    reason is in ``errors`` (keyed "profile", "facts", "memories")."""

    user_id: str
    zone: str
    profile: Entries | None
    facts: list[FactRow] | None
    memories: list[MemoryRow] | None
    errors: dict[str, str]


def summarize(store: MemoryStore, user_id: str, now: datetime) -> UserSummary:
    """One user's row of the users list, read now; damage in any file becomes ``error`` and the rest shows."""
    return to_summary(read_row(store, user_id), now, store.default_zone)


def to_summary(row: UserRow, now: datetime, default_zone: tzinfo) -> UserSummary:
    """The list's row of a summary row, its current streak as of ``now``."""
    return to_summaries([row], now, default_zone)[0]


def to_summaries(rows: list[UserRow], now: datetime, default_zone: tzinfo) -> list[UserSummary]:
    """``to_summary`` of each of ``rows`` (the streaks worked out for the batch, the rows made positionally:
    100,000 rows every start)."""
    return [UserSummary(r.user_id, r.name, r.last_active, r.last_active_epoch, r.messages, r.facts, streak,
                        r.longest, r.zone, r.error)
            for r, streak in zip(rows, current_streaks(rows, now, default_zone), strict=True)]


def load_details(store: MemoryStore, user_id: str) -> UserDetails:
    errors: dict[str, str] = {}
    profile: dict[str, Any] | None = None
    try:
        profile = store.get_user_profile(user_id)
    except MemoryStoreError as exc:
        errors["profile"] = str(exc)
    zone = resolve_zone((profile or {}).get("timezone"), store.default_zone)
    facts: list[FactRow] | None = None
    try:
        facts = [_fact_row(r, zone, store.default_zone) for r in store.get_fact_records(user_id)]
    except MemoryStoreError as exc:
        errors["facts"] = str(exc)
    memories: list[MemoryRow] | None = None
    try:
        memories = [
            MemoryRow(kind, i, _text(m.get("content")), local_text(m.get("created_at"), zone, store.default_zone),
                      local_text(m.get("updated_at"), zone, store.default_zone), m)
            for kind, items in store.get_permanent_memories(user_id).items() for i, m in enumerate(items)
        ]
    except MemoryStoreError as exc:
        errors["memories"] = str(exc)
    entries = None if profile is None else [(str(k), v, "") for k, v in profile.items()]
    return UserDetails(user_id, zone_label(zone), entries, facts, memories, errors)


def _fact_row(record: dict[str, Any], zone: tzinfo, default: tzinfo) -> FactRow:
    source = record.get("source_message_id")
    context = record.get("context_message_id")
    where = f"message {_short(source)}" if source else (f"after {_short(context)}" if context else "")
    moment = local_moment(record.get("added_at"), zone, default)
    return FactRow(
        id=str(record.get("id")), category=str(record["category"]), text=str(record["text"]),
        added=local_text(record.get("added_at"), zone, default), added_by=str(record.get("added_by") or ""),
        changed=local_text(record.get("changed_at"), zone, default), changed_by=str(record.get("changed_by") or ""),
        source=where, added_sort=moment.isoformat() if moment else "",
        source_message_id=str(source) if source else None, context_message_id=str(context) if context else None,
    )


def global_entries(store: MemoryStore) -> Entries:
    """The global context as the tree model's entries: (key, value, when it was updated)."""
    zone = store.default_zone
    return [(k, e.get("value"), local_text(e.get("updated_at"), zone, zone))
            for k, e in store.get_all_global_context().items()]


def load_versions(store: MemoryStore, user_id: str, fact_id: str) -> list[VersionRow]:
    """One fact's version history, times in the user's zone, newest first."""
    zone = store.user_zone(user_id)
    return version_rows(store.get_fact_versions(user_id, fact_id), zone, store.default_zone)


def _short(message_id: object) -> str:
    """A message id as a column shows it (the tooltip and the details panel give it whole)."""
    text = str(message_id)
    return text if len(text) <= 10 else f"{text[:8]}…"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class StoreWorker(JobWorker):
    """Answers the window's read requests from its own thread."""

    users_batch = Signal(int, object, int, int)  # generation, [UserSummary], done, total
    users_done = Signal(int)
    user_loaded = Signal(int, object)  # generation, UserDetails
    global_loaded = Signal(int, object, str)  # generation, entries or None, error text
    versions_loaded = Signal(str, str, object, str)  # user id, fact id, [VersionRow] or None, error text
    users_relisted = Signal(int, object, object)  # generation, [user id] now, [UserSummary] of ids not known
    summary_loaded = Signal(int, str, object)  # generation, user id, UserSummary (None: the user is gone)
    users_sent = Signal(int)  # generation: a batch of cached rows was sent; answered by users_shown

    def __init__(self, store: MemoryStore) -> None:
        super().__init__()
        self.store = store
        self.summaries = SummaryCache(store, persist=False)
        self._listing = 0  # the generation of the users listing running
        self._save = QTimer(self)
        self._save.setSingleShot(True)
        self._save.setInterval(SAVE_DELAY_MS)
        self._save.timeout.connect(self._save_later)

    @Slot(object)
    def set_store(self, store: MemoryStore) -> None:
        """Read ``store`` from now on (another folder was opened); running jobs are dropped."""
        live = [n for n in self._jobs if n == "relist" or n.startswith("summary:")]
        for name in ("users", "user", "global", "versions", *live):
            self.cancel_job(name)
        self.save_summaries()
        self.store = store
        self.summaries = SummaryCache(store, persist=False)

    @Slot(int, bool)
    def list_users(self, generation: int, persist: bool = False) -> None:
        """The users list: every id first (``users_batch`` of rows not loaded yet, the first paint), then every
        row's columns in batches from the summary cache, reading only users whose files changed. ``persist``
        allows writing the cache file (never in read-only mode)."""
        self.start_job("users", self._list_users(generation, persist))

    def _list_users(self, generation: int, persist: bool) -> Job:
        self._listing = generation
        try:
            ids = self.store.get_all_users()
        except MemoryStoreError as exc:
            self.failed.emit(str(exc))
            ids = []
        total = len(ids)
        now = datetime.now(timezone.utc)
        zone = self.store.default_zone
        self.users_batch.emit(generation, [UserSummary(u, loaded=False) for u in ids[:IDS_PER_BATCH]], 0, total)
        yield  # the first paint, before the cache is read
        if self.summaries.persist != persist or self.summaries.store is not self.store:
            self.summaries = SummaryCache(self.store, persist=persist)
        yield from self.summaries.load_steps()
        done = 0
        peek = self.summaries.peek
        # Ids alone (no cache file yet) in smaller batches: nothing is gained by big ones while the files are read.
        per_batch = CACHED_PER_BATCH if self.summaries.rows else IDS_PER_BATCH
        for start in range(0, total, per_batch):  # every id, with the columns the cache file holds
            chunk = ids[start : start + per_batch]
            found = [row for uid in chunk if (row := peek(uid)) is not None]
            batch = to_summaries(found, now, zone)
            done += len(found)
            if len(found) < len(chunk):  # users the file does not hold yet (those shown already are left as they are)
                batch += [UserSummary(uid, loaded=False) for uid in chunk if peek(uid) is None]
            self.users_batch.emit(generation, batch, done, total)
            # One batch in flight: the next one is made, and the check below begins, once the window has taken
            # this one (users_shown). Work here while the GUI thread takes a batch competes with it for the GIL,
            # and made each batch cost the window twice as long (stalls of 150-200 ms at 100,000 users).
            self.users_sent.emit(generation)
            self.wait_after_step()
            yield
        # Then checked against the files (4 stats a user: the longer part, seconds for 100,000 users), the users
        # whose files changed read again and their rows updated in place: the list is filled from the cache at
        # once and correct a moment later, instead of blank until every file was looked at.
        missing: list[str] = []
        for start in range(0, total, IDS_PER_BATCH):
            missing.extend(self.summaries.stale(ids[start : start + IDS_PER_BATCH]))
            yield
        done = total - len(missing)
        pending = list[UserSummary]()
        for rows in self.summaries.rows_for(missing, USERS_PER_STEP, keep=set(ids)):  # users whose files changed
            # What a step read and keeps (rows, the store's cached documents) is frozen out of the cyclic
            # collector's sight: left young, each collection scanned it all again while holding the GIL, up to
            # 80 ms for a young one and 220 ms for a middle one while 100,000 users were read, the window frozen.
            gc.freeze()
            pending.extend(to_summaries(rows, now, zone))
            done += len(rows)
            if len(pending) >= FILLED_PER_BATCH or done == total:
                self.users_batch.emit(generation, pending, done, total)
                pending = []
                self.users_sent.emit(generation)  # one batch in flight, as above
                self.wait_after_step()
            yield
        self._save.stop()
        self.cancel_job("save")
        yield from self.summaries.save_steps()
        self.users_done.emit(generation)

    @Slot(int)
    def users_shown(self, generation: int) -> None:
        """The window has taken the batches sent so far (``users_sent``): the listing goes on (an answer about
        an earlier listing is not one about this one)."""
        if generation == self._listing:
            self.resume_job("users")

    @Slot()
    def save_summaries(self) -> None:
        """Write the summary cache now if it changed (and may be written)."""
        self._save.stop()
        self.cancel_job("save")
        self.summaries.save()

    @Slot()
    def _save_later(self) -> None:
        """The summary cache written a step at a time, between the worker's other jobs (after live changes)."""
        self.start_job("save", self.summaries.save_steps())

    @Slot(int, str)
    def load_user(self, generation: int, user_id: str) -> None:
        self.start_job("user", self._load_user(generation, user_id))

    def _load_user(self, generation: int, user_id: str) -> Job:
        self.user_loaded.emit(generation, load_details(self.store, user_id))
        yield

    @Slot(int)
    def load_global(self, generation: int) -> None:
        self.start_job("global", self._load_global(generation))

    def _load_global(self, generation: int) -> Job:
        try:
            entries = global_entries(self.store)
        except MemoryStoreError as exc:
            self.global_loaded.emit(generation, None, str(exc))
        else:
            self.global_loaded.emit(generation, entries, "")
        yield

    @Slot(str, str)
    def load_versions(self, user_id: str, fact_id: str) -> None:
        """One fact's history (the log grows with every change of the user's facts: read off the GUI)."""
        self.start_job("versions", self._load_versions(user_id, fact_id))

    def _load_versions(self, user_id: str, fact_id: str) -> Job:
        try:
            rows = load_versions(self.store, user_id, fact_id)
        except MemoryStoreError as exc:
            self.versions_loaded.emit(user_id, fact_id, None, str(exc))
        else:
            self.versions_loaded.emit(user_id, fact_id, rows, "")
        yield

    # -- live refresh (memgui/app/live_refresh.py): what changed on disk, read again --------------------------
    @Slot(int, object)
    def relist_users(self, generation: int, known: frozenset[str]) -> None:
        """The user ids on disk now, and the summaries of those not in ``known`` (users that appeared)."""
        self.start_job("relist", self._relist_users(generation, known))

    def _relist_users(self, generation: int, known: frozenset[str]) -> Job:
        try:
            ids = self.store.get_all_users()
        except MemoryStoreError as exc:
            self.failed.emit(str(exc))
            return
        yield
        now = datetime.now(timezone.utc)
        new = [uid for uid in ids if uid not in known]
        summaries: list[UserSummary] = []
        for start in range(0, len(new), USERS_PER_STEP):
            summaries.extend(to_summaries(self.summaries.rows_of(new[start : start + USERS_PER_STEP]), now,
                                          self.store.default_zone))
            yield
        self.summaries.forget(set(ids))
        self._save.start()
        self.users_relisted.emit(generation, ids, summaries)

    @Slot(int, str)
    def load_summary(self, generation: int, user_id: str) -> None:
        """One user's row again; a newer request for the same user replaces one not yet answered."""
        self.start_job(f"summary:{user_id}", self._load_summary(generation, user_id))

    def _load_summary(self, generation: int, user_id: str) -> Job:
        try:
            exists = self.store.user_exists(user_id)
        except MemoryStoreError:
            exists = False
        summary = None
        if exists:
            summary = to_summary(self.summaries.row(user_id), datetime.now(timezone.utc), self.store.default_zone)
            self._save.start()
        self.summary_loaded.emit(generation, user_id, summary)
        yield
