"""File access of the JSON backend: cached strict reads, atomic puts, logs, journals and logical merges.

``JsonFiles`` knows the layout and the codec, not the business rules. Logical reads of the history and
metrics merge the journal's message records the files do not include yet (see ``journal.py``); they take
no lock and retry when a materialization lands between reading the files and the journal.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memgui.store import fileio
from memgui.store.backends.json.doccache import DocCache, StatKey
from memgui.store.backends.json.history_bytes import HistoryBytes
from memgui.store.backends.json.journal import Journal, JournalState
from memgui.store.backends.json.layout import MEMO_ENTRIES, Layout
from memgui.store.backends.json.merge import CountFn, merge_history, merge_metrics
from memgui.store.codec import Codec
from memgui.store.documents import SHAPE_CHECKS, USER_FILES, USER_LOGS, Doc, DocKind, LogKind, check_message, message_id
from memgui.store.errors import CorruptDataError, StoreIOError

log = logging.getLogger(__name__)
BACKUP_SECONDS = 300.0
TAILS_KEPT = 64
Check = Callable[[Path, Any], None]


class JsonFiles:
    """Reads and writes of one store's files, shared by its transactions and lock-free readers."""

    def __init__(self, layout: Layout, codec: Codec, count: CountFn) -> None:
        self.layout = layout
        self.codec = codec
        self._count = count
        self._cache = DocCache()
        self._history_bytes = HistoryBytes()
        self._journals: dict[Path, Journal] = {}
        self._merged: dict[tuple[Path, str], tuple[Any, Any]] = {}
        self._backup_times: dict[Path, float] = {}
        self._paths: dict[tuple[Path, str], Path] = {}
        self._tails: dict[Path, tuple[StatKey | None, list[str], bool]] = {}  # see _tail_ids
        self._mutex = threading.Lock()

    # -- documents ----------------------------------------------------------------------------------
    def load_keyed(self, path: Path, check: Check) -> tuple[Any, StatKey | None]:
        key = fileio.stat_key(path)
        if key is None:
            return None, None
        hit = self._cache.get(path, key)
        if hit is not None:
            return hit, key
        found = fileio.read_bytes_keyed(path)
        if found is None:
            return None, None
        data, key = found
        doc = self.codec.decode_doc(data, path)
        check(path, doc)
        self._cache.put(path, key, doc)
        return doc, key

    def load(self, path: Path, check: Check) -> Any:
        return self.load_keyed(path, check)[0]

    def path(self, folder: Path, name: str) -> Path:
        """``folder / name``, memoized: building paths is a measurable part of a write's cost."""
        key = (folder, name)
        path = self._paths.get(key)
        if path is None:
            if len(self._paths) >= MEMO_ENTRIES:
                self._paths.clear()
            path = self._paths[key] = folder / name
        return path

    def load_doc(self, folder: Path, kind: DocKind) -> Doc | None:
        """A user document exactly as its file holds it (no journal merge)."""
        return self.load(self.path(folder, USER_FILES[kind]), SHAPE_CHECKS[kind])  # type: ignore[no-any-return]

    def put(self, path: Path, doc: Any, *, durable: bool, indent: int | None = 2, fresh_backup: bool = False,
            data: bytes | None = None) -> None:
        """Replace ``path`` by ``doc`` atomically (encoded first, so bad input never reaches the disk; ``data``:
        already encoded)."""
        if data is None:
            data = self.codec.encode_doc(doc, path, indent=indent)
        stat = fileio.atomic_write(path, data, durable=durable)
        self._cache.put(path, (stat.st_ino, stat.st_size, stat.st_mtime_ns), doc)
        if fresh_backup:
            self._backup_times.pop(path, None)
        self._refresh_backup(path, data)

    def put_doc(self, folder: Path, kind: DocKind, doc: Doc, *, durable: bool) -> None:
        path = self.path(folder, USER_FILES[kind])
        if kind == "history":  # rewritten after every message: from the bytes of the messages it kept
            data = self.codec.seal_doc(self._history_bytes.encode(doc, str(path)), path)
            self.put(path, doc, durable=durable, data=data)
        else:  # the metrics too are rewritten per message: compact (pretty printing is five times slower)
            self.put(path, doc, durable=durable, indent=None if kind == "metrics" else 2)

    def _refresh_backup(self, path: Path, data: bytes) -> None:
        """Keep a copy at most BACKUP_SECONDS old, for ``repair`` to restore if the file gets damaged."""
        now = time.monotonic()
        if now - self._backup_times.get(path, -BACKUP_SECONDS) < BACKUP_SECONDS:
            return
        root = self.layout.root
        backups = self.layout.backups if path.parent == root else self.layout.user_backups(path.parent)
        try:
            backups.mkdir(parents=True, exist_ok=True)
            fileio.atomic_write(backups / path.name, data, durable=False)
        except (OSError, StoreIOError) as exc:  # a copy for repair: its failure must not fail the write it follows
            log.warning("could not refresh the backup of %s: %s", path, exc)
            return
        self._backup_times[path] = now

    # -- logs -----------------------------------------------------------------------------------------
    def decode_entry(self, line: bytes, path: Path, number: int) -> Doc:
        entry = self.codec.decode_line(line, path, number)
        if not isinstance(entry, dict):
            raise CorruptDataError(path, f"line {number}: should be an object")
        return entry

    def load_log(self, folder: Path, kind: LogKind) -> list[Doc]:
        """Every complete entry of a log file (a line still being written is left out)."""
        path = folder / USER_LOGS[kind]
        key = fileio.stat_key(path)
        if key is None:
            return []
        hit = self._cache.get(path, key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        found = fileio.read_bytes_keyed(path)
        if found is None:
            return []
        data, key = found
        entries = [self.decode_entry(line, path, n) for n, line in enumerate(fileio.complete_lines(data), 1)]
        if kind == "archive":  # archived messages are read back as messages: the same checks as the history's
            for n, entry in enumerate(entries, 1):
                check_message(path, f"line {n}", entry)
        self._cache.put(path, key, entries)
        return entries

    def append_log(self, folder: Path, kind: LogKind, entries: list[Doc], *, durable: bool = False,
                   window: int = 0) -> None:
        """Append the entries whose ids are not already among the last ``len(entries) + window`` lines.

        A writer killed after appending but before the history dropped those messages leaves them at the end
        of the archive while they are still in the history; the next trim cuts them again, possibly fewer of
        them, and must not store them twice. ``window`` bounds how far back such a batch can lie (the history
        plus the journal's messages, for the archive)."""
        path = self.path(folder, USER_LOGS[kind])
        count = len(entries) + window
        tail, whole = self._tail_ids(path, count)
        present = set(tail[-count:])
        fresh = [e for e in entries if message_id(e) not in present]
        if fresh:
            data = b"".join(self.codec.encode_line(e, path) for e in fresh)
            key = fileio.append_bytes(path, data, durable=durable)
            ids = tail + [message_id(e) for e in fresh]
            kept = ids[-(count + 256):]
            self._remember_tail(path, key, kept, whole and len(kept) == len(ids))

    def _tail_ids(self, path: Path, count: int) -> tuple[list[str], bool]:
        """The ids of (at least) the last ``count`` lines of a log, and whether that is every line: kept from
        this process's last append while the file is unchanged (the archive of a writing user is appended
        every MATERIALIZE_EVERY messages; decoding its tail again each time cost a fifth of ``add_message``)."""
        key = fileio.stat_key(path)
        hit = self._tails.get(path)
        if hit is not None and hit[0] == key and (hit[2] or len(hit[1]) >= count):
            return hit[1], hit[2]
        lines = fileio.tail_lines(path, count)
        ids = [message_id(self.decode_entry(line, path, 0)) for line in lines]
        self._remember_tail(path, key, ids, len(lines) < count)
        return ids, len(lines) < count

    def _remember_tail(self, path: Path, key: StatKey | None, ids: list[str], whole: bool) -> None:
        with self._mutex:
            self._tails.pop(path, None)
            self._tails[path] = (key, ids, whole)
            while len(self._tails) > TAILS_KEPT:  # the users written most recently
                del self._tails[next(iter(self._tails))]

    def replace_log(self, folder: Path, kind: LogKind, entries: list[Doc], *, durable: bool) -> None:
        """Rewrite a whole log atomically (an import that merged conversations)."""
        path = self.path(folder, USER_LOGS[kind])
        data = b"".join(self.codec.encode_line(e, path) for e in entries)
        stat = fileio.atomic_write(path, data, durable=durable)
        self._cache.put(path, (stat.st_ino, stat.st_size, stat.st_mtime_ns), list(entries))

    # -- journals and logical reads -------------------------------------------------------------------
    def journal(self, folder: Path) -> Journal:
        with self._mutex:
            journal = self._journals.get(folder)
            if journal is None or journal.codec is not self.codec:
                journal = self._journals[folder] = Journal(self.layout.journal(folder), self.codec)
            return journal

    def _consistent(self, folder: Path, kinds: tuple[DocKind, ...], *, locked: bool
                    ) -> tuple[JournalState, list[tuple[Doc | None, StatKey | None]]]:
        """The files of ``kinds`` and the journal, read so that they fit together. Without the lock, retried
        while a materialization replaces the files in between."""
        journal = self.journal(folder)
        paths = [self.path(folder, USER_FILES[kind]) for kind in kinds]
        for _attempt in range(50):
            loaded = [self.load_keyed(path, SHAPE_CHECKS[kind]) for path, kind in zip(paths, kinds, strict=True)]
            # Under the lock the journal was read when the transaction began, and only this process writes it.
            state = journal.state if locked and journal.state.ino is not None else journal.read()
            if not locked and any(fileio.stat_key(path) != key for path, (_, key) in zip(paths, loaded, strict=True)):
                # A materialization replaced the files while we read them and the journal: the journal we
                # read may already be reset past messages the files we read lack. (Comparing seqs with the
                # base cannot tell: a checkpoint after a document record leaves the files' seq below it.)
                continue
            return state, loaded
        raise CorruptDataError(journal.path, "kept changing for 50 reads in a row; is a writer looping?")

    def _merged_history(self, folder: Path, state: JournalState, history: Doc | None,
                        key: StatKey | None) -> tuple[Doc | None, list[Doc]]:
        if not state.messages:
            return history, []
        hit = self._merged.get((folder, "history"))
        if hit is not None and hit[0] == (key, state.key):
            return hit[1]  # type: ignore[no-any-return]
        result = merge_history(history, state.base, state.messages)
        self._merged[(folder, "history")] = ((key, state.key), result)
        return result

    def _merged_metrics(self, folder: Path, state: JournalState, metrics: Doc | None,
                        key: StatKey | None) -> Doc | None:
        if not state.messages:
            return metrics
        hit = self._merged.get((folder, "metrics"))
        if hit is not None and hit[0] == (key, state.key):
            return hit[1]  # type: ignore[no-any-return]
        result = merge_metrics(metrics, state.base, state.messages, self._count)
        self._merged[(folder, "metrics")] = ((key, state.key), result)
        return result

    def logical_history(self, folder: Path, *, locked: bool) -> tuple[Doc | None, list[Doc]]:
        """(the history with every journaled message, the messages trimmed on the way that belong in the
        archive but are not written there yet)."""
        state, [(history, key)] = self._consistent(folder, ("history",), locked=locked)
        return self._merged_history(folder, state, history, key)

    def logical_metrics(self, folder: Path, *, locked: bool) -> Doc | None:
        """The metrics with every journaled message counted (without parsing the history file)."""
        state, [(metrics, key)] = self._consistent(folder, ("metrics",), locked=locked)
        return self._merged_metrics(folder, state, metrics, key)

    def logical(self, folder: Path, *, locked: bool) -> tuple[Doc | None, Doc | None, list[Doc]]:
        """(history, metrics, messages trimmed into the archive but not yet written there), read together."""
        state, [(history, h_key), (metrics, m_key)] = self._consistent(folder, ("history", "metrics"), locked=locked)
        merged_history, archived = self._merged_history(folder, state, history, h_key)
        return merged_history, self._merged_metrics(folder, state, metrics, m_key), archived

    def forget(self, folder: Path) -> None:
        """Drop everything cached about a folder (after a move or an erase)."""
        self._cache.forget_under(folder)
        self._history_bytes.forget(os.path.join(folder, ""))
        with self._mutex:
            journal = self._journals.pop(folder, None)
        if journal is not None:
            journal.close()
        for kind in ("history", "metrics"):
            self._merged.pop((folder, kind), None)
        with self._mutex:
            prefix = os.path.join(folder, "")
            self._tails = {path: hit for path, hit in self._tails.items() if not str(path).startswith(prefix)}

    def clear(self) -> None:
        """Drop every cache and close the journals' descriptors."""
        self._cache.clear()
        self._history_bytes.forget()
        with self._mutex:
            journals, self._journals = list(self._journals.values()), {}
        for journal in journals:
            journal.close()
        self._merged.clear()
        self._tails.clear()

    def sync_folder(self, folder: Path) -> None:
        """fsync every file of a user folder and the folder itself (before a journal reset)."""
        names = [*USER_FILES.values(), *USER_LOGS.values()]
        paths = [folder / n for n in names] + [self.layout.user_id_file(folder)]
        for path in paths:
            fileio.fsync_file(path)
        fileio.fsync_dir(folder)
