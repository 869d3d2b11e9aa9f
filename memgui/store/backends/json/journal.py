"""A per-user write-ahead journal: one appended (and, when durable, fdatasync'd) line acknowledges a write.

The file is JSON lines: a header ``{"journal": 2, "boot": id, "base": seq, "id": random}`` then records, each with a
``seq`` one above the previous. Two kinds of record:

* a **message** record ``{"seq", "msg", "day", "max", "archive"}`` is *lazy*: the message lives only here
  until the history and metrics files are rewritten from the journal ("materialized"), which happens every
  ``MATERIALIZE_EVERY`` messages, shortly after the last one, before any other write and on close. Those two
  files carry the seq they include (``SEQ_KEY``), so every reader merges exactly the records they lack.
* a **document** record ``{"seq", "puts": {file: {"doc": ...}}, "appends": {log: [...]}}`` is *eager*: its
  files are replaced right after it is written, then ``{"done": seq}`` follows. A record without its done
  marker (the writer was killed) is replayed by the next writer; after a machine crash (another boot id)
  every document record since the base is replayed, in order. Each one is idempotent.

A reset (after materializing, with the files synced when durable) starts a fresh journal whose base is the
last seq: everything up to the base is in the files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import threading
import weakref
import zlib
from functools import cache
from pathlib import Path
from typing import Any, TypedDict, cast

from memgui.store import fileio
from memgui.store.codec import Codec
from memgui.store.documents import Doc, check_message
from memgui.store.errors import CorruptDataError, NewerFormatError, StoreIOError

SEQ_KEY = "_memgui_seq"
#: The journal format this code writes and the newest it reads (the header's ``journal`` key); a newer journal is
#: refused with ``NewerFormatError`` before anything is read past its header or written.
FORMAT = 2
#: Zero bytes written after a durable message record that reaches the end of the journal, so that the next
#: ones change neither the file's size nor its blocks and their fdatasync only writes the data (about 1.5x
#: faster here; 16 KiB already gains it all). An idle user's journal is reset without it.
SLACK = 64 * 1024
MATERIALIZE_EVERY = 256


class _MessageFields(TypedDict):
    seq: int
    msg: Doc
    day: str  # the local day the message counts for, ISO


class MessageRecord(_MessageFields, total=False):
    """A journaled message: lives only here until the history and metrics files include its seq."""

    max: int  # MAX_MESSAGES when it was written (0: no limit)
    archive: bool  # ARCHIVE_TRIMMED when it was written


class Put(TypedDict):
    doc: Doc


class DocumentRecord(TypedDict):
    """Whole new documents (file name -> put) and log lines to append (log file name -> entries)."""

    seq: int
    puts: dict[str, Put]
    appends: dict[str, list[Doc]]


def journal_content(data: bytes) -> bytes:
    """A journal's bytes without the zero padding that follows its records (``SLACK``)."""
    zero = data.find(0)
    return data if zero < 0 else data[:zero]


@cache
def boot_id() -> str | None:
    """An id of this boot of the machine (Linux); None where the system offers none."""
    with contextlib.suppress(OSError):
        return Path("/proc/sys/kernel/random/boot_id").read_text("ascii").strip() or None
    return None


@dataclasses.dataclass
class JournalState:
    """What a journal holds, parsed: base seq, boot id, records (message and document) and done seqs."""

    ino: int | None = None  # the file's inode when read or created; None: no journal
    offset: int = 0  # bytes parsed: the end of the last complete line
    lines: int = 0
    base: int = 0
    boot: str | None = None
    messages: list[MessageRecord] = dataclasses.field(default_factory=list)
    documents: list[DocumentRecord] = dataclasses.field(default_factory=list)
    done: set[int] = dataclasses.field(default_factory=set)
    head: bytes = b""  # the header line as stored: tells this file from a later one with the same inode
    torn: bool = False  # bytes of a half-written record follow the content (a writer was killed)

    @property
    def key(self) -> tuple[int, int, int] | None:
        """Identity of the content parsed (None: no journal): inode, bytes parsed and the header's checksum
        (unique per reset). It changes with every record appended and with every reset."""
        return None if self.ino is None else (self.ino, self.offset, zlib.crc32(self.head))

    @property
    def last_seq(self) -> int:
        last = self.base
        if self.messages:
            last = max(last, self.messages[-1]["seq"])
        if self.documents:
            last = max(last, self.documents[-1]["seq"])
        return last

    def unfinished(self) -> list[DocumentRecord]:
        """Document records whose files may not have been replaced: those without a done marker after a
        writer was killed, or all of them after a machine crash."""
        if self.boot is not None and self.boot != boot_id():
            return list(self.documents)
        return [r for r in self.documents if r["seq"] not in self.done]


class Journal:
    """The journal file of one user folder."""

    def __init__(self, path: Path, codec: Codec) -> None:
        self.path = path
        self.codec = codec
        self._state = JournalState()
        self._mutex = threading.Lock()
        self._fd = -1
        self._fd_owner: tuple[int, int] = (0, 0)  # (inode, pid) the descriptor was opened for
        self._fd_lock = threading.Lock()  # the descriptor in use: ``close_if_idle`` (another thread) leaves it

    def _decode(self, line: bytes, number: int) -> dict[str, Any]:
        value = self.codec.decode_line(line, self.path, number)
        if not isinstance(value, dict):
            raise CorruptDataError(self.path, f"line {number}: is not a journal record")
        return value

    def read(self) -> JournalState:
        """The journal as it is on disk now (re-parsed only when the file changed)."""
        with self._mutex:
            return self._read()

    def _read(self) -> JournalState:
        state = self._state
        if state.ino is not None and state.head:
            data = self._grown(state)  # the same file: parse what was appended, up to the zero padding
            if data is not None:
                if data:
                    self._parse(state, data)
                return state
        found = fileio.read_bytes_keyed(self.path)
        if found is None:
            self._state = JournalState()
            return self._state
        data, key = found
        state = JournalState(ino=key[0])
        self._parse(state, data)
        self._state = state
        return state

    def _grown(self, state: JournalState) -> bytes | None:
        """The bytes appended since ``state`` was parsed (b"" when none); None unless the file is still that
        one, told by its header line (unique per reset: an inode number is soon reused by a later journal).

        This runs before every write and asks for no timestamp (no ``stat``): see ``fileio.write_at``."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreIOError(self.path, exc) from exc
        try:
            if os.pread(fd, len(state.head), 0) != state.head:
                return None
            size = os.lseek(fd, 0, os.SEEK_END)
            if size < state.offset:
                return None
            chunks, at, step = [], state.offset, 4096  # most often nothing is new: a small first look
            while at < size:  # up to the zero padding
                chunk = os.pread(fd, min(size - at, step), at)
                step = 65536
                zero = chunk.find(0)
                if zero >= 0 or not chunk:
                    chunks.append(chunk[: max(zero, 0)] if zero >= 0 else chunk)
                    break
                chunks.append(chunk)
                at += len(chunk)
            return b"".join(chunks)
        except OSError as exc:
            raise StoreIOError(self.path, exc) from exc
        finally:
            os.close(fd)

    def _parse(self, state: JournalState, data: bytes) -> None:
        data = journal_content(data)
        end = data.rfind(b"\n") + 1
        state.torn = len(data) > end
        for line in data[:end].split(b"\n")[:-1]:
            state.lines += 1
            record = self._decode(line, state.lines)
            if state.lines == 1:
                version = record.get("journal")
                if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                    raise CorruptDataError(self.path, "line 1: is not a journal header")
                if version > FORMAT:
                    raise NewerFormatError(self.path, f"journal format {version} is newer than this memgui reads "
                                                      f"(up to {FORMAT}); upgrade memgui (nothing was changed)")
                state.head = line + b"\n"
                state.base, state.boot = int(record.get("base") or 0), record.get("boot")
            elif "done" in record:
                state.done.add(int(record["done"]))
            elif not isinstance(record.get("seq"), int):
                raise CorruptDataError(self.path, f"line {state.lines}: record without a seq")
            elif "msg" in record:
                check_message(self.path, f"line {state.lines}: the message", record["msg"])
                if not isinstance(record.get("day"), str):
                    raise CorruptDataError(self.path, f"line {state.lines}: a message record without its day")
                state.messages.append(cast(MessageRecord, record))
            else:  # its puts and appends are checked against the layout when replayed
                state.documents.append(cast(DocumentRecord, record))
        state.offset += end

    @property
    def boot_now(self) -> str | None:
        return boot_id()

    def append(self, record: DocumentRecord, *, durable: bool) -> None:
        """Append ``record`` (synced when ``durable``): when this returns, the write is acknowledged."""
        self._write(self.codec.encode_line(record, self.path), durable)
        self._state.documents.append(record)
        self._state.lines += 1

    def append_many(self, records: list[MessageRecord], *, durable: bool, padded: bool = False) -> None:
        """Append records in one write and one sync. The caller holds the user's lock and called ``read``.
        ``padded`` (message after message is coming): durable appends leave ``SLACK`` zeros after them."""
        data = b"".join(self.codec.encode_line(record, self.path) for record in records)
        self._write(data, durable, SLACK if padded and durable else 0)
        state = self._state
        state.messages.extend(records)
        state.lines += len(records)

    def mark_done(self, seq: int) -> None:
        """The files of document record ``seq`` are in place (no sync: replay is idempotent)."""
        self._write(self.codec.encode_line({"done": seq}, self.path), durable=False)
        self._state.done.add(seq)
        self._state.lines += 1

    def _write(self, data: bytes, durable: bool, slack: int = 0) -> None:
        if self._state.ino is None:
            self.reset(self._state.base, durable=durable)
        state = self._state
        assert state.ino is not None
        owner = (state.ino, os.getpid())
        with self._fd_lock:
            if self._fd < 0 or self._fd_owner != owner:
                self._close()
                try:
                    self._fd = os.open(self.path, os.O_WRONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
                except OSError as exc:
                    raise StoreIOError(self.path, exc) from exc
                self._fd_owner = owner
                self._finalizer = weakref.finalize(self, fileio.close_quietly, self._fd)
                self._finalizer.atexit = False  # at exit the OS closes it; the flush at exit still needs it
            fileio.write_at(self._fd, self.path, data, state.offset, durable=durable, cut=state.torn, slack=slack)
        fileio.DESCRIPTORS.used(self)
        state.offset += len(data)
        state.torn = False

    def cut(self, offset: int) -> None:
        """Take back everything appended after ``offset`` (a write that could not complete); the caller holds
        the user's lock. The state is read again from the file."""
        try:
            os.truncate(self.path, offset)
        except OSError as exc:
            raise StoreIOError(self.path, exc) from exc
        self._state = JournalState()
        self._read()

    def close(self) -> None:
        with self._fd_lock:
            self._close()

    def close_if_idle(self) -> None:
        """Close the descriptor unless a write is using it now (``fileio.DESCRIPTORS``); reopened when needed."""
        if self._fd_lock.acquire(blocking=False):
            try:
                self._close()
            finally:
                self._fd_lock.release()

    def _close(self) -> None:
        if self._fd >= 0:
            self._finalizer()  # closes the descriptor, once
        self._fd = -1

    def reset(self, base: int, *, durable: bool) -> None:
        """Start an empty journal at ``base`` (the files hold everything up to it)."""
        header = self.codec.encode_line({"journal": FORMAT, "boot": boot_id(), "base": base,
                                         "id": secrets.token_hex(8)}, self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        stat = fileio.atomic_write(self.path, header, durable=durable)
        self.close()
        self._state = JournalState(ino=stat.st_ino, offset=len(header),
                                   lines=1, base=base, boot=boot_id(), head=header)

    @property
    def state(self) -> JournalState:
        """The state as last read or written by this process (call ``read`` first to see others' writes)."""
        return self._state

    def size(self) -> int:
        """Bytes of content (the zero padding of a durable journal is not content)."""
        return self._state.offset
