"""One user's messages streamed as (timestamp, word count, role) rows, for the activity aggregates.

``get_message_history(include_archived=True)`` builds a dict per message: 20 s and 1.7 GB for a user with a
million. The JSON backend's archive (``conversation_archive.jsonl``) is instead read in chunks of 256 KiB, and
one regular expression that follows the store's own line layout exactly (``dump_json`` of a normalized
message) takes the three fields of each line; a line of any other layout (an encrypted store, a message
that another writer stored) is decoded as strict JSON, as the store would. Other backends go through
``get_message_history``. The result is the same set of messages ``get_message_history`` returns.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from memgui.store import fileio
from memgui.store.backend import ArchiveFile
from memgui.store.codec import Codec
from memgui.store.documents import message_id, normalize_message
from memgui.store.errors import CorruptDataError, StoreIOError
from memgui.store.ids import normalize_user_id
from memgui.store.interface import MemoryStore

Row = tuple[str, int, str]
RowSink = Callable[[list[Row]], None]
ProgressFn = Callable[[float], None]
CHUNK = 1 << 18  # bytes per read: the regular expression holds the GIL ~2 ms per chunk (GUI stays fluid)


class Cancelled(Exception):
    """Raised by a progress callback to stop a computation whose result nobody wants any more."""


# A line as ``dump_json`` writes a normalized message: content (escapes honoured), timestamp, is_user,
# metadata (any JSON), word_count, id, role. Greedy metadata backtracks to the last top-level word_count.
_LINE = re.compile(
    rb'^\{"content":"(?:[^"\\\n]++|\\.)*+","timestamp":"([^"\\\n]*)","is_user":(?:true|false),'
    rb'"metadata":[^\n]*,"word_count":(\d+),"id":"([^"\\\n]*)","role":"(user|assistant|system)"\}$',
    re.MULTILINE,
)


def _row(message: dict[str, Any]) -> Row:
    msg = normalize_message(message)
    return msg.get("timestamp"), msg["word_count"], msg["role"]  # type: ignore[return-value]


class _ArchiveReader:
    """The complete lines of an archive as rows; ids named in ``watch`` are noted in ``seen``."""

    def __init__(self, path: Path, codec: Codec, watch: set[str]) -> None:
        self.path, self.codec = path, codec
        self.watch = watch
        self.watch_bytes = {w.encode("utf-8", "surrogatepass") for w in watch}
        self.seen: set[str] = set()
        self.line_number = 0

    def _slow(self, lines: Iterable[bytes]) -> list[Row]:
        rows: list[Row] = []
        for line in lines:
            self.line_number += 1
            match = None if self.codec.encrypted else _LINE.fullmatch(line)
            if match is not None:
                stamp, words, mid, role = match.groups()
                rows.append((stamp.decode("utf-8", "replace"), int(words), role.decode()))
                if mid in self.watch_bytes:
                    self.seen.add(mid.decode("utf-8", "surrogatepass"))
                continue
            entry = self.codec.decode_line(line, self.path, self.line_number)
            if not isinstance(entry, dict):
                raise CorruptDataError(self.path, f"line {self.line_number}: should be an object")
            rows.append(_row(entry))
            mid_text = message_id(entry)
            if mid_text in self.watch:
                self.seen.add(mid_text)
        return rows

    def rows(self, chunk: bytes) -> list[Row]:
        """Rows of a chunk of complete lines (ending with a newline)."""
        lines = chunk.count(b"\n")
        if not self.codec.encrypted:
            found = _LINE.findall(chunk)
            if len(found) == lines:
                self.line_number += lines
                if self.watch_bytes:
                    self.seen.update(m.decode("utf-8", "surrogatepass") for _, _, m, _ in found
                                     if m in self.watch_bytes)
                return [(s.decode("utf-8", "replace"), int(w), r.decode()) for s, w, _, r in found]
        return self._slow(chunk[:-1].split(b"\n"))

    def scan(self, sink: RowSink, progress: ProgressFn | None, share: float) -> None:
        fd = fileio.open_for_reading(self.path)
        if fd is None:
            return
        try:
            size = os.fstat(fd).st_size  # lines appended after this are left for the next refresh
            done, rest = 0, b""
            while done < size:
                block = os.pread(fd, min(CHUNK, size - done), done)
                if not block:
                    break
                done += len(block)
                data = rest + block
                end = data.rfind(b"\n") + 1
                rest = data[end:]  # a line still being written is left out, as the store does
                if end:
                    sink(self.rows(data[:end]))
                if progress is not None:
                    progress(share * done / size)
        except OSError as exc:
            raise StoreIOError(self.path, exc) from exc
        finally:
            os.close(fd)


def _scan_file(archive: ArchiveFile, recent: list[dict[str, Any]], sink: RowSink,
               progress: ProgressFn | None) -> None:
    # The same snapshot get_message_history reads: the recent messages (with the journal's) first, then the
    # archive; a message moved to the archive in between is seen twice and counted once.
    watch = {message_id(m) for m in recent}
    reader = _ArchiveReader(archive.path, archive.codec, watch)
    reader.scan(sink, progress, 0.98)
    seen = reader.seen
    tail: list[Row] = []
    for message in recent:
        mid = message_id(message)
        if mid not in seen:
            seen.add(mid)
            tail.append(_row(message))
    sink(tail)


def scan_messages(store: MemoryStore, user_id: str, sink: RowSink, progress: ProgressFn | None = None) -> None:
    """Feed ``sink`` every message of the user (archive included) as rows, in chunks.

    ``progress`` receives fractions from 0 to 1 between chunks; it may raise ``Cancelled`` to stop.
    """
    uid = normalize_user_id(user_id)
    source = store.conversation_source(uid)
    if source.archive is not None:
        _scan_file(source.archive, source.recent, sink, progress)
    else:
        messages = source.recent
        step = 50_000
        for start in range(0, len(messages), step):
            sink([_row(m) for m in messages[start:start + step]])
            if progress is not None:
                progress(min(1.0, (start + step) / len(messages)))
    if progress is not None:
        progress(1.0)
