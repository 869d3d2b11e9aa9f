"""The users list's columns for every user, read once and kept in a derived cache that needs no writer's help.

``read_row`` reads one user through the store (profile, metrics, facts: the journal merged, damage named in
``error``). For a store kept in a folder, ``SummaryCache`` remembers each user's row beside a signature of the
files that feed it: ``(inode, mtime_ns, size)`` of the profile, metrics and facts files and of the user's journal.
A row is read again only when its signature changed, whoever wrote (this window, the assistant, the older
``memory_management`` code). The signature is taken before the read, so a write racing the read leaves a
signature that no longer matches and the row is read again next time: the cache can be stale only for one load.

On PostgreSQL the signature is each document row's version (``xmin``, ``ctid``: the backend's
``_row_signatures``, one statement for a thousand users) and the rows to read again are read in one statement
per batch (``read_rows``).

The cache is ``DATA_DIR/.memgui/users_summary.json`` (a header line, then one JSON line per user); for a
database, ``$XDG_CACHE_HOME/memgui/summaries/<hash of its address>.json``, its header naming the database's OID
and the cluster's identifier, so a database made again at the same address is not taken for the old one. It is
written only when the caller allows it (never in read-only mode), never for an encrypted store (memory only:
no plaintext on disk), and a damaged or foreign file is ignored and replaced. The current streak depends on
today, so a row keeps the latest run of active days and ``current_streak`` works it out
for the day asked (``streak_summary``, the one rule).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any, NamedTuple

from memgui.store import fileio
from memgui.store.documents import JOURNAL_FILE, META_DIR, USER_FILES, DocKind
from memgui.store.errors import MemoryStoreError
from memgui.store.ids import folder_for
from memgui.store.interface import MemoryStore
from memgui.store.rules.streaks import active_days, spans, streak_summary
from memgui.store.timeutil import local_date, parse_timestamp, resolve_zone, zone_label

CACHE_NAME = "users_summary.json"
FORMAT = 2  # 2: a line is [uid, signature text, the row's other values...]; 1 nested them
_FED_BY = (USER_FILES["profile"], USER_FILES["metrics"], USER_FILES["facts"], f"{META_DIR}/{JOURNAL_FILE}")
Signature = str  # the numbers that change with any write feeding the row, joined by ":"


class UserRow(NamedTuple):
    """What the users list shows about one user, independent of the day it is read on. A named tuple: the
    cache file's line is its values, made into a row by one C call (a frozen dataclass took 3.7 µs a row in
    its ``__init__``: 0.37 s for 100,000 users, every start)."""

    user_id: str
    name: str = ""
    zone: str = ""  # the zone's label
    timezone: str | None = None  # the profile's zone as written (None: the store's default)
    last_active: str = ""  # "YYYY-MM-DD HH:MM" in the user's zone
    last_active_epoch: float = -1.0
    messages: int = 0
    facts: int = 0
    run_start: str | None = None  # the latest run of consecutive active days (ISO dates)
    run_end: str | None = None
    longest: int = 0
    error: str | None = None


def current_streaks(rows: Iterable[UserRow], now: datetime, default_zone: tzinfo) -> list[int]:
    """The current streak of each of ``rows`` at ``now`` in its user's zone (0 once a day was missed), the day
    worked out once per zone written."""
    days: dict[str | None, date] = {}
    out: list[int] = []
    for row in rows:
        start, end = row.run_start, row.run_end
        if start is None or end is None:
            out.append(0)
            continue
        today = days.get(row.timezone)
        if today is None:
            today = days[row.timezone] = _today(now, row.timezone, default_zone)
        out.append(_streak(start, end, today))
    return out


@functools.lru_cache(maxsize=8192)
def _streak(start: str, end: str, today: date) -> int:
    """The current streak of a run of days from ``start`` to ``end`` (ISO) on ``today``: 0 unless the rule's
    "continued by yesterday" holds; worked out once per triple (100,000 rows hold a few thousand)."""
    if streak_summary([date.fromisoformat(end)], today).current == 0:
        return 0
    return (date.fromisoformat(end) - date.fromisoformat(start)).days + 1


_DAYS: dict[tuple[datetime, str | None, str], date] = {}


def _today(now: datetime, timezone: str | None, default_zone: tzinfo) -> date:
    """The day ``now`` falls on in a profile's zone: one parse of the zone per batch of rows, not one a row
    (a dateutil zone is not hashable: the default zone is keyed by its text, as the cache file is)."""
    key = (now, timezone, str(default_zone))
    day = _DAYS.get(key)
    if day is None:
        if len(_DAYS) > 512:
            _DAYS.clear()
        day = _DAYS[key] = local_date(now, resolve_zone(timezone, default_zone))
    return day


def read_row(store: MemoryStore, user_id: str) -> UserRow:
    """One user's row, read through the store; damage in any file becomes ``error`` and the rest still shows."""
    errors = []
    profile: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    facts: dict[str, Any] = {}
    try:
        profile = store.get_user_profile(user_id)
    except MemoryStoreError as exc:
        errors.append(str(exc))
    try:
        metrics = store.get_conversation_metrics(user_id)
    except MemoryStoreError as exc:
        errors.append(str(exc))
    try:
        facts = store.get_user_facts(user_id)
    except MemoryStoreError as exc:
        errors.append(str(exc))
    return _row_of(user_id, profile, metrics, facts, errors, store.default_zone)


_KINDS: tuple[DocKind, ...] = ("profile", "metrics", "facts")


def read_rows(store: MemoryStore, user_ids: list[str]) -> list[UserRow]:
    """The rows of ``user_ids`` in that order, equal to ``read_row``'s, from one bulk read of the backend
    (a database answers every user's documents in one round trip, where ``read_row`` costs three each)."""
    found = store._read_docs(user_ids, _KINDS)
    rows = []
    for uid in user_ids:
        docs = {kind: {} if doc is None or isinstance(doc, MemoryStoreError) else doc
                for kind, doc in found[uid].items()}
        errors = [str(doc) for doc in found[uid].values() if isinstance(doc, MemoryStoreError)]
        rows.append(_row_of(uid, docs["profile"], docs["metrics"], docs["facts"].get("categories", {}), errors,
                            store.default_zone))
    return rows


def _row_of(user_id: str, profile: dict[str, Any], metrics: dict[str, Any], facts: dict[str, Any],
            errors: list[str], default_zone: tzinfo) -> UserRow:
    """The row of a user's profile, metrics and facts by category (read-only; ``errors``: what failed)."""
    tz = profile.get("timezone") if isinstance(profile.get("timezone"), str) else None
    zone = resolve_zone(tz, default_zone)
    moment = _moment(metrics.get("last_interaction"), zone, default_zone)
    days = active_days(metrics)
    found = spans(days)
    last = found[-1] if found else None
    # the longest run does not depend on the day asked; today only decides whether the latest run goes on
    longest = streak_summary(days, date.today(), _int(metrics.get("longest_streak"))).longest
    name = profile.get("name")
    return UserRow(
        user_id=user_id, name=name if isinstance(name, str) else "", zone=zone_label(zone), timezone=tz,
        last_active=moment.strftime("%Y-%m-%d %H:%M") if moment else "",
        last_active_epoch=moment.timestamp() if moment else -1.0,
        messages=_int(metrics.get("message_count")), facts=sum(len(items) for items in facts.values()),
        run_start=last.start.isoformat() if last else None, run_end=last.end.isoformat() if last else None,
        longest=longest, error="; ".join(errors) or None,
    )


def _moment(stamp: object, zone: tzinfo, default_zone: tzinfo) -> datetime | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return parse_timestamp(stamp, default_zone).astimezone(zone)
    except (ValueError, OverflowError):
        return None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _write(path: Path, data: bytes | list[bytes]) -> bool:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fileio.atomic_write(path, data, durable=False)
    except (OSError, MemoryStoreError):
        return False
    return True


_ENCODE = json.JSONEncoder(separators=(",", ":")).encode  # made once: ``json.dumps`` with options makes one a call


def _folders(root: Path) -> set[str]:
    """The names of the folders in ``root`` (none when it cannot be listed)."""
    try:
        with os.scandir(root) as entries:
            return {e.name for e in entries if e.is_dir(follow_symlinks=False)}
    except OSError:
        return set()


_WIDTH = len(UserRow._fields)
_TEXT_OR_NONE = (str, type(None))


def _well_formed(line: Any) -> bool:
    """Whether a cache line has the types the window computes with (a damaged file is rebuilt, it never
    breaks a paint or a sort): id, signature and name text, numbers, dates and zone text or null."""
    return (type(line) is list and len(line) == _WIDTH + 1 and type(line[0]) is str and type(line[1]) is str
            and type(line[2]) is str and type(line[4]) in _TEXT_OR_NONE and type(line[6]) in (float, int)
            and type(line[7]) is int and type(line[8]) is int and type(line[9]) in _TEXT_OR_NONE
            and type(line[10]) in _TEXT_OR_NONE and type(line[11]) is int)


_make_row = functools.partial(tuple.__new__, UserRow)  # a row of exactly its values, in one C call


def place_of(store: MemoryStore) -> Path | None:
    """The cache file of ``store``: in its folder's bookkeeping folder; for a database (a backend with row
    signatures) in the user's cache folder, named by a hash of its address; None for a store in memory."""
    root = store.folder()
    if root is not None:
        return root / META_DIR / CACHE_NAME
    if store._row_signatures([]) is None:
        return None
    name = hashlib.sha256(store.location().encode("utf-8")).hexdigest()[:32]
    return fileio.user_cache_folder("summaries") / f"{name}.json"


class SummaryCache:
    """The rows of one store keyed by their documents' signatures (see the module's docstring)."""

    def __init__(self, store: MemoryStore, *, persist: bool) -> None:
        self.store = store
        self.root: Path | None = store.folder()
        self.encrypted = bool(store.config.ENCRYPTION_ENABLED)
        self.path = place_of(store)
        self.persist = persist and self.path is not None and not self.encrypted
        self._key = str(store.default_zone)
        self.rows: dict[str, tuple[Signature, UserRow]] = {}
        self._changes = self._saved = 0  # changes of the rows made, and how many the file holds
        self.reread = 0  # rows read from the store by the last ``rows_for``

    @property
    def dirty(self) -> bool:
        """Whether the rows changed since the file was last written (or the file is to be replaced)."""
        return self._changes != self._saved

    @dirty.setter
    def dirty(self, value: bool) -> None:
        if value:
            self._changes += 1
        else:
            self._saved = self._changes

    @property
    def watches_files(self) -> bool:
        return self.root is not None

    def _head(self) -> dict[str, Any]:
        """The header line: the format, the zone rows were made in, and which database (a folder: '')."""
        return {"format": FORMAT, "zone": self._key, "store": "" if self.root else self.store._identity()}

    def load(self) -> None:
        """Take the rows the cache file holds; a missing, damaged or foreign file gives none (never an error)."""
        for _ in self.load_steps():
            pass

    def load_steps(self, chunk: int = 16 * 1024) -> Iterator[None]:
        """``load`` in steps of about ``chunk`` bytes of rows (one JSON line each), each parsed in one call. Every
        C call here holds the GIL, and the window waits for the GIL on each of its calls into Python (hundreds
        per paint), so no call is given much: splitting 25 MB of lines at once held it for 35 ms, a 500 kB
        parse for 10 ms; a 16 kB parse takes 0.25 ms, and the whole file loads as fast as in 128 kB steps
        (0.37 s for 100,000 users) with the longest stall while it loads down from 130 ms to 60-80 ms."""
        if not self.persist or self.path is None or self.rows:
            return
        try:
            data = fileio.read_bytes(self.path)
            if not data:
                return
            at = data.find(b"\n") + 1 or len(data)
            head = json.loads(data[:at])
            if not isinstance(head, dict) or {**head, "store": head.get("store", "")} != self._head():
                self.dirty = True
                return
            rows = {}
            while at < len(data):
                end = data.find(b"\n", at + chunk) + 1 or len(data)
                lines = data[at:end].strip(b"\n").replace(b"\n", b",")
                at = end
                for line in json.loads(b"[" + lines + b"]"):  # one parse a chunk
                    if not _well_formed(line):
                        raise ValueError(line)
                    sig = line.pop(1)
                    rows[line[0]] = (sig, _make_row(line))
                yield
        except (OSError, MemoryStoreError, ValueError, TypeError, KeyError, AttributeError):
            self.dirty = True  # replaced by the next save
            return
        self.rows = rows

    def peek(self, user_id: str) -> UserRow | None:
        """The user's cached row as the file holds it, not checked against the user's files (``cached`` is)."""
        entry = self.rows.get(user_id)
        return None if entry is None else entry[1]

    def cached(self, user_id: str) -> UserRow | None:
        """The user's cached row if their documents did not change since it was read, else None."""
        return None if self.stale([user_id]) else self.rows[user_id][1]

    def stale(self, user_ids: list[str]) -> list[str]:
        """Those of ``user_ids`` without a cached row or whose documents changed since it was read (one look at
        every signature)."""
        sigs = self.signatures(user_ids)
        return list(user_ids) if sigs is None else self._changed(user_ids, sigs)

    def _changed(self, user_ids: list[str], sigs: dict[str, Signature]) -> list[str]:
        return [uid for uid in user_ids if (entry := self.rows.get(uid)) is None or entry[0] != sigs[uid]]

    def save(self) -> None:
        """Write the cache file if anything changed and writing is allowed; a failure only costs speed."""
        for _ in self.save_steps():
            pass

    def save_steps(self, rows_per_step: int = 5_000) -> Iterator[None]:
        """``save`` in steps of ``rows_per_step`` rows: 100,000 rows take a second to encode, and a worker's
        other jobs (the user just clicked) run between the steps. A row changed meanwhile is written next time."""
        if not (self.persist and self.dirty and self.path is not None):
            return
        at = self._changes  # a change made while this runs stays to be written
        # A user erased since their row was read leaves no trace here (the erase names no file of ours): the
        # folders are listed once, not looked up a user at a time.
        present = None if self.root is None else _folders(self.root)
        ids = list(self.rows)  # the ids only: a list of 100,000 new (key, value) tuples took 40 ms in one call
        yield
        # Encoded a step at a time and written chunk by chunk, never joined: one join of 23 MB (and its
        # encoding) held the GIL for 70 ms each, touching fresh memory (see ``fileio.atomic_write``).
        chunks = [(json.dumps(self._head()) + "\n").encode()]
        for start in range(0, len(ids), rows_per_step):
            lines = []
            for uid in ids[start:start + rows_per_step]:
                entry = self.rows.get(uid)  # None: forgotten since (a row changed since is written as it is now)
                if entry is not None and (present is None or folder_for(uid) in present):
                    lines.append(_ENCODE([uid, entry[0], *entry[1][1:]]) + "\n")
            chunks.append("".join(lines).encode())
            yield
        # Only a write that succeeded counts: a failed one, or steps dropped half-way (a job cancelled), leave
        # the rows to be written next time.
        if _write(self.path, chunks):
            self._saved = max(self._saved, at)

    @staticmethod
    def forget_on_disk(store: MemoryStore, user_id: str) -> None:
        """Remove ``user_id``'s row from the store's cache file (after erasing the user: nothing of them stays)."""
        path = place_of(store)
        if path is None:
            return
        try:
            data = fileio.read_bytes(path)
        except (OSError, MemoryStoreError):
            data = b"?"
        if not data:
            return
        needle = json.dumps(user_id)
        try:
            text = data.decode("utf-8")
            kept = [line for line in text.split("\n") if not line.startswith(f"[{needle},")]
        except UnicodeDecodeError:
            kept = None
        if kept is None or not _write(path, "\n".join(kept).encode()):
            with contextlib.suppress(OSError):
                path.unlink()

    def signatures(self, user_ids: list[str]) -> dict[str, Signature] | None:
        """Per user, what changes whenever a document feeding the row does: ``(inode, mtime_ns, size)`` of each
        file (zeros for a missing one), or the backend's row versions; None when there is nothing to compare
        (a store in memory: every row is read)."""
        if self.root is None:
            found = self.store._row_signatures(user_ids)
            return None if found is None else {uid: ":".join(map(str, sig)) for uid, sig in found.items()}
        out: dict[str, Signature] = {}
        for uid in user_ids:
            folder = f"{self.root}/{folder_for(uid)}/"
            parts: list[str] = []
            for name in _FED_BY:
                try:
                    st = os.stat(folder + name)
                except OSError:
                    parts.append("0:0:-1")
                else:
                    parts.append(f"{st.st_ino}:{st.st_mtime_ns}:{st.st_size}")
            out[uid] = ":".join(parts)
        return out

    def row(self, user_id: str) -> UserRow:
        """The user's row: the cached one when their documents did not change, else read again."""
        return self.rows_of([user_id])[0]

    def rows_of(self, user_ids: list[str]) -> list[UserRow]:
        """The rows of ``user_ids``: cached ones whose documents did not change, the rest read in one go. The
        signatures are taken before the read: a write racing it leaves a signature that no longer matches."""
        sigs = self.signatures(user_ids)
        if sigs is None:
            self.reread += len(user_ids)
            return read_rows(self.store, user_ids)
        need = self._changed(user_ids, sigs)
        for made in read_rows(self.store, need) if need else ():
            self.rows[made.user_id] = (sigs[made.user_id], made)
            self.dirty = True
        self.reread += len(need)
        return [self.rows[uid][1] for uid in user_ids]

    def rows_for(self, ids: Iterable[str], batch: int, keep: set[str] | None = None) -> Iterator[list[UserRow]]:
        """The rows of ``ids`` in batches of ``batch``; users not in ``keep`` (default: ``ids``) are forgotten."""
        self.reread = 0
        wanted = list(ids)
        self.forget(set(wanted) if keep is None else keep)
        for start in range(0, len(wanted), batch):
            yield self.rows_of(wanted[start:start + batch])

    def forget(self, keep: set[str]) -> None:
        """Drop the rows of users not in ``keep`` (erased, renamed)."""
        for uid in [u for u in self.rows if u not in keep]:
            del self.rows[uid]
            self.dirty = True
