"""Random access to a user's whole conversation: the archive (``conversation_archive.jsonl``) followed by the
recent history, de-duplicated by message id, without ever holding the archive in memory.

A million archived messages are hundreds of MB, so the archive is never parsed whole: a line-offset index
is built in chunks (``index_steps``, so a worker can report progress and release the GIL between chunks), and
rows are decoded on demand (``entries``). ``open`` indexes only the archive's tail first, so the newest
messages can be shown at once; ``index_steps`` then adds the older lines in front. Plain Python, no Qt.
"""

from __future__ import annotations

import dataclasses
import os
import weakref
from collections.abc import Iterator
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

import numpy as np

from memgui.store import fileio
from memgui.store.codec import Codec
from memgui.store.documents import message_id, normalize_message
from memgui.store.errors import MemoryStoreError
from memgui.store.interface import MemoryStore
from memgui.store.timeutil import parse_timestamp

INDEX_CHUNK = 4 << 20  # bytes read per index step
TAIL_BYTES = 256 << 10  # bytes of the archive's end indexed by ``open``
SEARCH_ROWS = 4096  # rows examined per search step
_NEWLINE = 10


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """One row: the normalized message, or the reason it could not be read (a damaged archive line)."""

    row: int
    message: dict[str, Any] | None
    error: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class SearchHit:
    """Where a search step ended: ``row`` is the match (None while still looking), ``scanned`` rows so far."""

    row: int | None
    scanned: int
    done: bool


class Conversation:
    """One user's conversation as rows ``0 .. len(self)-1``, oldest first.

    Rows ``< archive_rows`` are archive lines (read from disk on demand); the rest are the recent history,
    including messages trimmed into the archive but not yet written there. Not thread-safe: one thread
    (a worker) uses an instance.
    """

    def __init__(self, store: MemoryStore, user_id: str) -> None:
        self.store = store
        self.user_id = user_id
        self.zone: tzinfo = store.default_zone
        self._fd = -1
        self._path: Path | None = None
        self._codec: Codec | None = None  # with ``_path``: the archive is a file read in place
        self._offsets = np.zeros(1, dtype=np.int64)  # start of each indexed line, then the end sentinel
        self._first = 0  # byte offset of the first indexed line (0 once fully indexed)
        self._recent: list[dict[str, Any]] = []
        self._ino = 0

    # -- opening ------------------------------------------------------------------------------------
    def open(self) -> None:
        """Read the recent history and index the archive's tail (``TAIL_BYTES``); older lines come with
        ``index_steps``. Raises the store's typed errors (a damaged history file)."""
        self.zone = self.store.user_zone(self.user_id)
        source = self.store.conversation_source(self.user_id)
        if source.archive is None:  # the backend handed over the whole conversation
            self._recent = source.recent
            return
        recent = source.recent
        self._path, self._codec = source.archive.path, source.archive.codec
        end = self._open_archive()
        if end:
            self._first = self._tail_start(end)
            self._offsets = self._line_starts(self._first, end, end)
        archived_ids = self._tail_ids(len(recent) + 8)
        seen: set[str] = set()
        self._recent = []
        for msg in recent:
            mid = message_id(msg)
            if mid not in archived_ids and mid not in seen:
                seen.add(mid)
                self._recent.append(normalize_message(msg))

    def _open_archive(self) -> int:
        """Open the archive; the end of its last complete line (0 when absent or empty)."""
        assert self._path is not None
        fd = fileio.open_for_reading(self._path)
        if fd is None:
            return 0
        self._fd = fd
        self._finalizer = weakref.finalize(self, fileio.close_quietly, self._fd)  # if never closed
        self._finalizer.atexit = False  # at exit the OS closes it; the flush at exit still needs it
        self._ino = os.fstat(self._fd).st_ino
        return self._complete_end(os.fstat(self._fd).st_size)

    def _complete_end(self, size: int) -> int:
        """The offset just after the last newline before ``size``: a line still being written is ignored."""
        pos = size
        while pos > 0:
            start = max(0, pos - 65536)
            block = os.pread(self._fd, pos - start, start)
            idx = block.rfind(b"\n")
            if idx >= 0:
                return start + idx + 1
            pos = start
        return 0

    def _tail_start(self, end: int) -> int:
        """Start of the first whole line within the last ``TAIL_BYTES`` before ``end``."""
        start = max(0, end - TAIL_BYTES)
        while start > 0:
            if os.pread(self._fd, 1, start - 1) == b"\n":  # ``start`` is right after a newline
                return start
            idx = os.pread(self._fd, end - start, start).find(b"\n")
            if 0 <= idx < end - start - 1:
                return start + idx + 1
            start = max(0, start - TAIL_BYTES)  # one line longer than the block: look further back
        return 0

    def _line_starts(self, start: int, stop: int, end: int) -> np.ndarray:
        """Start offsets of the lines in ``[start, stop)`` plus the sentinel ``end``."""
        data = os.pread(self._fd, stop - start, start)
        newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _NEWLINE).astype(np.int64)
        starts = np.concatenate(([start], newlines[:-1] + start + 1)) if len(newlines) else np.zeros(0, np.int64)
        return np.concatenate((starts, [end])).astype(np.int64)

    def _tail_ids(self, count: int) -> set[str]:
        """Ids of the archive's last ``count`` lines (to drop recent messages already archived)."""
        rows = self.archive_rows
        ids = set()
        for entry in self._archive_entries(max(0, rows - count), rows):
            if entry.message is not None:
                ids.add(entry.message["id"])
        return ids

    @property
    def indexed(self) -> bool:
        """True once every archive line is in the index."""
        return self._first == 0

    def index_steps(self, chunk: int = INDEX_CHUNK) -> Iterator[tuple[int, int]]:
        """Index the archive lines before the tail, one chunk per step; yields (bytes done, bytes total).
        When it ends, ``prepended`` rows are in front of the rows ``open`` showed."""
        total = self._first
        if total == 0:
            return
        parts = []
        pos = 0
        while pos < total:
            stop = min(total, pos + chunk)
            data = os.pread(self._fd, stop - pos, pos)
            newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _NEWLINE).astype(np.int64)
            parts.append(newlines + (pos + 1))
            pos = stop
            yield pos, total
        ends = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        # Lines before the tail: they start at 0 and after each newline, the last of which is the tail's start.
        starts = np.concatenate(([0], ends[:-1])).astype(np.int64)
        self._offsets = np.concatenate((starts, self._offsets))
        self._first = 0

    # -- reading --------------------------------------------------------------------------------------
    @property
    def archive_rows(self) -> int:
        return len(self._offsets) - 1

    def __len__(self) -> int:
        return self.archive_rows + len(self._recent)

    def entries(self, start: int, stop: int) -> list[Entry]:
        """Rows ``start .. stop-1`` (clamped to the conversation)."""
        start, stop = max(0, start), min(stop, len(self))
        if start >= stop:
            return []
        archived = self.archive_rows
        out = self._archive_entries(start, min(stop, archived))
        out += [Entry(r, self._recent[r - archived]) for r in range(max(start, archived), stop)]
        return out

    def _archive_bytes(self, start: int, stop: int) -> list[bytes]:
        first, last = int(self._offsets[start]), int(self._offsets[stop])
        data = os.pread(self._fd, last - first, first)
        return data.split(b"\n")[: stop - start]

    def _archive_entries(self, start: int, stop: int) -> list[Entry]:
        if start >= stop:
            return []
        assert self._codec is not None and self._path is not None
        out = []
        for row, line in enumerate(self._archive_bytes(start, stop), start):
            try:
                value = self._codec.decode_line(line, self._path, row + 1)
                if not isinstance(value, dict):
                    raise MemoryStoreError(f"{self._path}: line {row + 1}: should be an object")
                out.append(Entry(row, normalize_message(value)))
            except MemoryStoreError as exc:
                out.append(Entry(row, None, str(exc)))
        return out

    def local_time(self, message: dict[str, Any]) -> datetime | None:
        """The message's moment in the user's zone; None when its timestamp is not ISO 8601."""
        try:
            return parse_timestamp(message.get("timestamp", ""), self.store.default_zone).astimezone(self.zone)
        except (ValueError, OverflowError):
            return None

    # -- finding --------------------------------------------------------------------------------------
    def search_steps(self, needle: str, start: int, *, backward: bool = False,
                     rows_per_step: int = SEARCH_ROWS) -> Iterator[SearchHit]:
        """Look for ``needle`` (case-insensitive) in message texts from row ``start`` (inclusive) towards the
        end (or the beginning), wrapping around once; one step per ``rows_per_step`` rows."""
        folded = needle.casefold()
        total = len(self)
        if not folded or total == 0:
            yield SearchHit(None, 0, True)
            return
        start = min(max(start, 0), total - 1)
        # Two spans: from start to the end (or beginning), then the rest, so the search wraps once.
        spans = [(start, total), (0, start)] if not backward else [(0, start + 1), (start + 1, total)]
        scanned = 0
        for lo, hi in spans:
            blocks = range(lo, hi, rows_per_step)
            for block in reversed(blocks) if backward else blocks:
                stop = min(block + rows_per_step, hi)
                hits = self._matches(folded, block, stop)
                scanned += stop - block
                if hits:
                    yield SearchHit(hits[-1] if backward else hits[0], scanned, True)
                    return
                yield SearchHit(None, scanned, False)
        yield SearchHit(None, scanned, True)

    def _matches(self, folded: str, start: int, stop: int) -> list[int]:
        """Rows in ``[start, stop)`` whose text contains ``folded``."""
        archived = self.archive_rows
        hits = []
        if start < archived:
            hits += self._archive_matches(folded, start, min(stop, archived))
        for row in range(max(start, archived), stop):
            if folded in str(self._recent[row - archived].get("content", "")).casefold():
                hits.append(row)
        return hits

    def _archive_matches(self, folded: str, start: int, stop: int) -> list[int]:
        assert self._codec is not None
        lines = self._archive_bytes(start, stop)
        # On a plain store a line whose raw JSON text lacks the needle cannot contain it in its content,
        # unless the needle holds characters JSON escapes (quote, backslash, control characters) or the line
        # uses \\u escapes; only the other lines are decoded.
        raw_ok = (not self._codec.encrypted and not any(c in folded for c in '"\\')
                  and all(ord(c) >= 0x20 for c in folded))
        hits = []
        for row, line in enumerate(lines, start):
            if raw_ok and b"\\u" not in line and folded not in line.decode("utf-8", "replace").casefold():
                continue
            entry = self._archive_entries(row, row + 1)[0]
            if entry.message is not None and folded in str(entry.message.get("content", "")).casefold():
                hits.append(row)
        return hits

    def row_for_date(self, day: date) -> int:
        """The first row whose local date is ``day`` or later (binary search; messages are in time order);
        ``len(self)`` when every message is older."""
        lo, hi = 0, len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            entry = self.entries(mid, mid + 1)[0]
            moment = self.local_time(entry.message) if entry.message is not None else None
            if moment is not None and moment.date() >= day:
                hi = mid
            else:
                lo = mid + 1
        return lo

    # -- growth ---------------------------------------------------------------------------------------
    def refresh(self) -> int | None:
        """Take in what was appended since ``open``: the number of rows added at the end, or None when
        the conversation changed otherwise (erased, rewritten) and must be opened again."""
        if self._path is None or not self.indexed:
            return None
        before = len(self)
        old_ids = [m["id"] for m in self._recent]
        try:
            ino = os.stat(self._path).st_ino
        except FileNotFoundError:
            ino = 0
        if self._fd >= 0 and ino != self._ino:
            return None
        known_end = int(self._offsets[-1])
        end = self._complete_end(os.fstat(self._fd).st_size) if self._fd >= 0 else self._open_archive()
        if end < known_end:
            return None
        if end > known_end:
            self._offsets = np.concatenate((self._offsets[:-1], self._line_starts(known_end, end, end)))
        recent = self.store.conversation_source(self.user_id).recent
        archived_ids = self._tail_ids(len(recent) + len(old_ids) + 8)
        self._recent = [normalize_message(m) for m in _unique(recent) if message_id(m) not in archived_ids]
        # Every message that was shown must still be there, in the same place.
        shown = self.entries(before - len(old_ids), before)
        if len(self) < before or [e.message["id"] if e.message else None for e in shown] != old_ids:
            return None
        return len(self) - before

    def close(self) -> None:
        if self._fd >= 0:
            self._finalizer()  # closes the descriptor, once
            self._fd = -1


def _unique(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for msg in messages:
        mid = message_id(msg)
        if mid not in seen:
            seen.add(mid)
            out.append(msg)
    return out
