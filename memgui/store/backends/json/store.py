"""``JsonMemoryStore``: the JSON-files backend (format v1 plus dot-named bookkeeping).

Writes of one user run under that user's lock file for the whole read-modify-write and are acknowledged by
one journal line (fdatasync'd with ``DURABLE_WRITES``); see ``journal.py`` for how messages reach the v1
files. Reads take no lock: files are replaced atomically and merged with the journal.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from memgui.store import fileio
from memgui.store.backends.json.core import JsonCore
from memgui.store.backends.json.journal import MATERIALIZE_EVERY, SEQ_KEY, DocumentRecord, MessageRecord, Put
from memgui.store.backends.json.merge import bulk_append, file_seq
from memgui.store.backends.json.txn import JsonGlobalTxn, JsonUserTxn
from memgui.store.documents import (
    SHAPE_CHECKS,
    USER_FILES,
    USER_LOGS,
    DocKind,
    LogKind,
)
from memgui.store.errors import ConflictError, CorruptDataError, StoreIOError
from memgui.store.ids import is_hashed_folder
from memgui.store.rules.streaks import count_messages

log = logging.getLogger(__name__)
CHECKPOINT_BYTES = 1 << 20
#: The longest history rewritten after every message (about 0.5 MB of typical messages; see README "How a write
#: survives"). Beyond it, the file is rewritten every MATERIALIZE_EVERY messages and a moment after the last one.
EAGER_LIMIT = 2000
_FILE_KINDS: dict[str, DocKind] = {name: kind for kind, name in USER_FILES.items()}
_LOG_KINDS: dict[str, LogKind] = {name: kind for kind, name in USER_LOGS.items()}


@dataclasses.dataclass(frozen=True)
class Undo:
    """How to take back a write whose files could not all be written."""

    offset: int | None  # the journal's length before the record (None: no record to cut)
    logs: dict[str, int | None]  # log file name -> its length before (None: it did not exist)
    docs: dict[str, bytes | None]  # file name -> its bytes before (None: it did not exist)


class JsonMemoryStore(JsonCore):
    """The memory store as JSON files in ``DATA_DIR`` (see README "On disk")."""

    # -- the seam: transactions ---------------------------------------------------------------------
    @contextlib.contextmanager
    def _user_txn(self, user_id: str, *, create: bool) -> Iterator[JsonUserTxn]:
        folder, exists = self.layout.user_state(user_id)
        if not create and not exists:
            txn = JsonUserTxn(self.files, folder, user_id, exists=False)
            yield txn
            if txn.dirty:
                raise ConflictError(f"user {user_id!r} does not exist")
            return
        if create:
            self._ensure_root()
        with self._user_lock(folder, user_id).held():
            folder, exists = self.layout.user_state(user_id)  # again, under the lock
            if exists:
                self._prepare(folder)
            txn = JsonUserTxn(self.files, folder, user_id, exists)
            yield txn
            if txn.dirty:
                if not exists:
                    self._create(txn)
                elif txn.messages and not (txn.staged or txn.appends or txn.replaced):
                    self._commit_messages(txn)
                else:
                    self._commit_documents(txn)

    def _prepare(self, folder: Path) -> None:
        """Under the user's lock: clear what a killed writer left (temp files, unfinished records)."""
        if folder not in self._prepared:
            for place in (folder, self.layout.user_meta(folder), self.layout.user_backups(folder),
                          self.layout.user_synced(folder)):
                fileio.remove_stale_temps(place)
            self._register(folder.name)  # a user found only as a folder is listed again, as the older code did
            self._prepared.add(folder)
        journal = self.files.journal(folder)
        state = journal.read()
        if state.key is not None and state.key == self._clean.get(folder):
            return
        if state.key is not None and state.boot != journal.boot_now:
            self._restore_synced(folder)
        unfinished = state.unfinished()
        if unfinished:
            self._replay(folder, unfinished)
            for record in unfinished:
                journal.mark_done(record["seq"])
        if state.boot != journal.boot_now:
            self._materialize(folder)  # after a restart of the machine: sync and start a fresh journal
        elif self._eager(folder) and self._files_behind(folder):
            self._write_files(folder)  # a writer was killed before it rewrote them
        self._clean[folder] = journal.read().key

    def _commit_messages(self, txn: JsonUserTxn) -> None:
        """The hot path: one journal line per message (the acknowledgement), then the history and metrics files
        rewritten without a sync (the journal covers them), so that code reading the v1 files sees the message
        when the call returns. Every MATERIALIZE_EVERY messages the files are synced and the journal starts
        afresh. A history too long to rewrite per message (``eager_limit``) is rewritten in batches instead."""
        if len(txn.messages) > MATERIALIZE_EVERY:
            self._commit_bulk(txn)
            return
        journal = self.files.journal(txn.folder)
        seq = journal.state.last_seq  # read by _prepare, under this lock
        records: list[MessageRecord] = []
        for message, day in txn.messages:
            seq += 1
            records.append({"seq": seq, "msg": message, "day": day.isoformat(),
                            "max": self.config.MAX_MESSAGES, "archive": self.config.ARCHIVE_TRIMMED})
        journal.append_many(records, durable=self.durable, padded=True)
        checkpoint = len(journal.state.messages) >= MATERIALIZE_EVERY or journal.size() > CHECKPOINT_BYTES
        try:
            if checkpoint:
                self._materialize(txn.folder)
            elif self._eager(txn.folder):
                self._write_files(txn.folder)
        except (StoreIOError, CorruptDataError) as exc:
            # The messages are acknowledged by their journal lines: failing the call now would make a
            # caller retry (and store them twice). The files catch up later.
            log.warning("could not write journaled messages of %s into its files: %s", txn.folder, exc)
            checkpoint = False
        if not checkpoint:  # a moment after the last message: the files synced, the journal started afresh
            self._materializer.schedule(txn.folder, txn.user_id)
        self._clean[txn.folder] = journal.state.key

    def _eager(self, folder: Path) -> bool:
        """Whether the history file is rewritten after every message: while it holds at most ``EAGER_LIMIT``
        messages (always with the default MAX_MESSAGES=100; with a larger or no limit, until it grows past)."""
        limit = self.config.MAX_MESSAGES
        if 0 < limit <= EAGER_LIMIT:
            return True
        history = self.files.load_doc(folder, "history")
        return history is None or len(history["messages"]) < EAGER_LIMIT

    def _files_behind(self, folder: Path) -> bool:
        """Whether the journal holds messages the history or metrics file does not show yet."""
        state = self.files.journal(folder).state  # under the lock: read when the transaction began
        if not state.messages:
            return False
        last = state.messages[-1]["seq"]
        return any(file_seq(self.files.load_doc(folder, kind), state.base) < last for kind in ("history", "metrics"))

    def _commit_bulk(self, txn: JsonUserTxn) -> None:
        """Many messages at once (an import): straight into the files, synced, without journal lines.

        Order matters for a kill in between: first the stored messages the import pushes out of the history
        go to the archive (as any materialization does: a repeat is recognised by the archive's last id),
        then the new history, then the new messages that are already too old for it, then the metrics. A
        kill at any point leaves every earlier message exactly once and the metrics at most trailing.
        """
        folder = txn.folder
        self._materialize(folder)
        old = self.files.load_doc(folder, "history")
        history, archived = bulk_append(old, txn.messages, self.config.MAX_MESSAGES, self.config.ARCHIVE_TRIMMED)
        stored = len(old["messages"]) if old else 0
        if archived[:stored]:
            self.files.append_log(folder, "archive", archived[:stored], durable=self.durable,
                                  window=self._archive_window)
        seq = self.files.journal(folder).state.last_seq + 1
        metrics = count_messages(self.files.load_doc(folder, "metrics") or {}, txn.messages, self.default_zone)
        # Consume the seq in the journal before the files claim it: killed in between, the next message
        # would otherwise get the same seq and be skipped by every reader as already in the files.
        self.files.journal(folder).reset(seq, durable=self.durable)
        # From the new history on, the import shows: a failure before the metrics are in place takes the files
        # back (a call that raised leaves no message of the import behind).
        archive = self.files.path(folder, USER_LOGS["archive"])
        undo = Undo(None, {archive.name: (key[1] if (key := fileio.stat_key(archive)) else None)},
                    {USER_FILES[k]: fileio.read_bytes(folder / USER_FILES[k]) for k in ("history", "metrics")})
        try:
            self.files.put_doc(folder, "history", {**history, SEQ_KEY: seq}, durable=self.durable)
            if archived[stored:]:
                self.files.append_log(folder, "archive", archived[stored:], durable=self.durable,
                                      window=self._archive_window)
            self.files.put_doc(folder, "metrics", {**metrics, SEQ_KEY: seq}, durable=self.durable)
        except StoreIOError:
            self._undo(folder, undo)
            raise
        try:
            self._checkpoint(folder, seq)
        except StoreIOError as exc:  # the files are complete and the journal's base is already seq
            log.warning("could not sync %s after an import: %s", folder, exc)
        self._clean[folder] = self.files.journal(folder).state.key

    def _commit_documents(self, txn: JsonUserTxn) -> None:
        """Any other write: journal line, then the files replaced at once, then its done marker."""
        if txn.messages:
            self._commit_messages(txn)
        journal = self.files.journal(txn.folder)
        # Journaled messages the files do not show yet (a batch of a long history, a writer killed before it
        # rewrote them) reach them first: every write leaves the v1 files complete. Metrics written here
        # count them anyway (txn.read merges) and carry this record's seq, so no reader counts them twice.
        if self._files_behind(txn.folder):
            self._write_files(txn.folder)
        for log_kind, entries in txn.replaced.items():  # whole logs rewritten (an import): atomically, first
            self.files.replace_log(txn.folder, log_kind, entries, durable=self.durable)
        seq = journal.read().last_seq + 1
        puts: dict[str, Put] = {}
        for kind, doc in txn.staged.items():
            if kind in ("history", "metrics"):
                doc = {**doc, SEQ_KEY: seq}
            puts[USER_FILES[kind]] = {"doc": doc}
        appends = {USER_LOGS[kind]: entries for kind, entries in txn.appends.items()}
        record: DocumentRecord = {"seq": seq, "puts": puts, "appends": appends}
        for name, put in puts.items():  # encode first: bad input raises before the journal sees it
            self.codec.encode_doc(put["doc"], txn.folder / name)
        if journal.state.key is None:  # no journal yet: its header first, so that an undo keeps it
            journal.reset(journal.state.base, durable=self.durable)
        undo = self._undo_info(txn.folder, record, journal.state.offset)
        journal.append(record, durable=self.durable)
        try:
            self._replay(txn.folder, [record])
        except StoreIOError:
            self._undo(txn.folder, undo)
            raise
        try:
            journal.mark_done(seq)
            if journal.size() > CHECKPOINT_BYTES:
                self._materialize(txn.folder)  # pending messages into the files, then a fresh journal
        except StoreIOError as exc:  # the write is complete; an unmarked record is replayed (idempotent)
            log.warning("could not finish the journal of %s after a write: %s", txn.folder, exc)
        self._clean[txn.folder] = journal.read().key
        self._register(txn.folder.name)

    def _undo_info(self, folder: Path, record: DocumentRecord, offset: int) -> Undo:
        """What ``_undo`` needs to take ``record`` back: the journal's length, each log's length and, when the
        record replaces several files, their bytes (one replaced file is never half-done: atomic)."""
        logs = {name: fileio.stat_key(folder / name) for name in record["appends"]}
        docs = {name: fileio.read_bytes(folder / name) for name in record["puts"]} if len(record["puts"]) > 1 else {}
        return Undo(offset, {n: (k[1] if k else None) for n, k in logs.items()}, docs)

    def _undo(self, folder: Path, undo: Undo) -> None:
        """Take back a write whose files could not all be written: the files it changed get their old bytes
        and its journal record is cut off, so that no later writer finishes it: the call raised, so the
        write must stay absent. If that fails too, the record stays and the write lands later."""
        try:
            for name, size in undo.logs.items():
                if size is None:
                    (folder / name).unlink(missing_ok=True)
                else:
                    os.truncate(folder / name, size)
            for name, data in undo.docs.items():
                if data is None:
                    (folder / name).unlink(missing_ok=True)
                else:
                    fileio.atomic_write(folder / name, data, durable=False)
            if undo.offset is not None:
                self.files.journal(folder).cut(undo.offset)
        except OSError as exc:  # StoreIOError too
            log.error("could not take back a failed write of %s; it will be completed later: %s", folder, exc)

    def _replay(self, folder: Path, records: list[DocumentRecord]) -> None:
        """Apply document records (idempotent); file names are checked against the layout."""
        journal_path = self.layout.journal(folder)
        for record in records:
            for name, entries in (record.get("appends") or {}).items():
                if name not in _LOG_KINDS or not isinstance(entries, list):
                    raise CorruptDataError(journal_path, f"names an unknown log {name!r}")
                self.files.append_log(folder, _LOG_KINDS[name], entries)
            for name, put in (record.get("puts") or {}).items():
                kind = _FILE_KINDS.get(name)
                if kind is None or not isinstance(put, dict):
                    raise CorruptDataError(journal_path, f"names an unknown file {name!r}")
                SHAPE_CHECKS[kind](journal_path, put.get("doc"))
                self.files.put_doc(folder, kind, put["doc"], durable=False)

    def _materialize(self, folder: Path) -> None:
        """Under the user's lock: write the journal's messages into the v1 files, sync them, reset the journal."""
        self._write_files(folder)
        self._checkpoint(folder, self.files.journal(folder).state.last_seq)

    def _write_files(self, folder: Path) -> None:
        """Under the user's lock: the journal's messages into the history, metrics and archive files (no sync:
        until the next checkpoint the journal holds them)."""
        if not self._files_behind(folder):
            return
        history, metrics, archived = self.files.logical(folder, locked=True)
        if archived:
            self.files.append_log(folder, "archive", archived, window=self._archive_window)
        assert history is not None and metrics is not None
        self.files.put_doc(folder, "history", history, durable=False)
        self.files.put_doc(folder, "metrics", metrics, durable=False)

    def _checkpoint(self, folder: Path, base: int) -> None:
        if self.durable:
            self.files.sync_folder(folder)
            self._keep_synced(folder)
        self.files.journal(folder).reset(base, durable=self.durable)

    def _keep_synced(self, folder: Path) -> None:
        """Link the just-synced history and metrics files into ``.memgui/synced/``. Between checkpoints the
        files are replaced without a sync (the journal holds those messages); after a power loss such a file
        may come back empty, and this copy plus the journal (whose base is this checkpoint) rebuild it."""
        synced = self.layout.user_synced(folder)
        with fileio.os_errors(synced):
            synced.mkdir(parents=True, exist_ok=True)
            for kind in ("history", "metrics"):
                source = folder / USER_FILES[kind]
                if not source.exists():
                    continue
                temp = fileio.temp_name(synced / source.name)
                os.link(source, temp, follow_symlinks=False)
                os.replace(temp, synced / source.name)
        fileio.fsync_dir(synced)

    def _restore_synced(self, folder: Path) -> None:
        """After a restart of the machine: a history or metrics file that does not read back (written without
        a sync, then the power went) is put back from its synced copy; the journal then adds what followed."""
        for kind in ("history", "metrics"):
            try:
                self.files.load_doc(folder, kind)
                continue
            except CorruptDataError as exc:
                damage = exc
            copy = self.files.load(self.layout.user_synced(folder) / USER_FILES[kind], SHAPE_CHECKS[kind])
            if copy is None:
                raise damage
            log.warning("%s; put back from its copy synced at the last checkpoint, the journal adds the rest",
                        damage)
            self.files.put_doc(folder, kind, copy, durable=True)


    def checkpoint(self, user_id: str) -> int:
        """Bring the user's v1 files up to date with the journal, sync them and start a fresh journal, without
        a write (``memgui-store checkpoint``); the number of journaled messages the files did not show."""
        folder, exists = self.layout.user_state(user_id)
        if not exists:
            return 0
        self._materializer.cancel(folder)
        with self._user_lock(folder, user_id).held():
            if not folder.is_dir():
                return 0
            state = self.files.journal(folder).read()
            shown = min(file_seq(self.files.load_doc(folder, kind), state.base) for kind in ("history", "metrics"))
            missing = sum(1 for r in state.messages if r["seq"] > shown)
            self._prepare(folder)
            self._materialize(folder)
            self._clean[folder] = self.files.journal(folder).read().key
            return missing

    def _materialize_if_idle(self, folder: Path, user_id: str) -> bool:
        """For the background materializer: False (retry later) if a writer holds the lock."""
        lock = self._user_lock(folder, user_id)
        if not lock.try_acquire():
            return False
        try:
            if folder.is_dir():
                self._prepare(folder)
                if self.files.journal(folder).read().messages:
                    self._materialize(folder)
                    self._clean[folder] = self.files.journal(folder).read().key
        finally:
            lock.release()
        return True

    def _create(self, txn: JsonUserTxn) -> None:
        """Make a new user's folder with its files, durably, and list it in the index."""
        self._refuse_case_twin(txn.folder.name, txn.user_id)
        if txn.messages:  # a new user's first messages go straight into the files
            history, archived = bulk_append(txn.read("history"), txn.messages, self.config.MAX_MESSAGES,
                                            self.config.ARCHIVE_TRIMMED)
            txn.write("history", history)
            txn.write("metrics", count_messages(txn.read("metrics") or {}, txn.messages, self.default_zone))
            if archived:
                txn.append("archive", archived)
        for kind, doc in txn.staged.items():  # encode first: bad input raises before anything is made
            self.codec.encode_doc(doc, txn.folder / USER_FILES[kind])
        self.read_index()  # a damaged index (CorruptDataError) refuses a new user before anything is made
        # Built in a dot-named staging folder and renamed into place: a user appears whole or not at all, so a
        # writer killed half-way never leaves a folder that no id maps to or that lacks its files.
        self._remove_staging(txn.folder.name)
        staging = fileio.temp_name(txn.folder)
        with fileio.os_errors(staging):
            staging.mkdir()
        try:
            if is_hashed_folder(txn.folder.name):
                id_file = self.layout.user_id_file(staging)
                id_file.parent.mkdir()
                self.files.put(id_file, {"user_id": txn.user_id}, durable=self.durable)
            for log_kind, entries in txn.replaced.items():
                self.files.replace_log(staging, log_kind, entries, durable=self.durable)
            for log_kind, entries in txn.appends.items():
                self.files.append_log(staging, log_kind, entries, durable=self.durable)
            for kind, doc in txn.staged.items():
                self.files.put_doc(staging, kind, doc, durable=self.durable)
            if self.durable:
                fileio.fsync_dir(staging)
            fileio.rename_into_place(staging, txn.folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            self.files.forget(staging)
        if self.durable:
            try:
                fileio.fsync_dir(self.root)
            except StoreIOError:  # not durable: take the new user back, the call raises
                with contextlib.suppress(OSError):
                    os.rename(txn.folder, staging)
                    shutil.rmtree(staging, ignore_errors=True)
                self._drop(txn.folder)
                raise
        try:
            self._register(txn.folder.name)
        except StoreIOError as exc:  # the folder makes the user (STORE.md); its next write lists it
            log.warning("could not list %s in the users index: %s", txn.folder.name, exc)

    @contextlib.contextmanager
    def _global_txn(self) -> Iterator[JsonGlobalTxn]:
        self._ensure_root()
        with self.lock(self.layout.global_lock, "the global context").held():
            fileio.remove_stale_temps(self.root, f".{self.layout.global_context.name}.")
            txn = JsonGlobalTxn(self._read_global())
            yield txn
            if txn.staged is not None:
                self.files.put(self.layout.global_context, txn.staged, durable=self.durable)

    # -- moving and erasing -------------------------------------------------------------------------
    def _erase_user(self, user_id: str) -> list[str]:
        folder = self.layout.user_dir(user_id)
        removed: list[str] = []
        self._materializer.cancel(folder)
        with self._user_lock(folder, user_id).held():
            for place in (folder, self.layout.quarantine / folder.name):
                if place.exists():
                    with fileio.os_errors(place):
                        removed += [str(p.relative_to(self.root)) for p in sorted(place.rglob("*")) if p.is_file()]
                    fileio.remove_tree(place)
            self._drop(folder)
            if folder.name in self.read_index():
                removed.append(f"{self.layout.index.name}: entry {folder.name!r}")
            self._register(remove=folder.name)
            if self.durable:
                fileio.fsync_dir(self.root)
        return removed

    def _user_traces(self, user_id: str) -> list[str]:
        """What is left of a user: their folder, quarantined files, an entry in the index or its backup."""
        folder = self.layout.user_dir(user_id)
        traces = [str(p) for p in (folder, self.layout.quarantine / folder.name) if os.path.lexists(p)]
        if folder.name in self.read_index():
            traces.append(f"{self.layout.index}: entry {folder.name!r}")
        backup = self.layout.backups / self.layout.index.name
        data = fileio.read_bytes(backup) if backup.exists() else None
        if data is not None:
            try:
                doc = self.codec.decode_doc(data, backup)
            except CorruptDataError:
                doc = {}
            if isinstance(doc, dict) and folder.name in (doc.get("users") or ()):
                traces.append(f"{backup}: entry {folder.name!r}")
        return traces

    def _move_user(self, old_id: str, new_id: str) -> None:
        old, new = self.layout.user_dir(old_id), self.layout.user_dir(new_id)
        self._materializer.cancel(old)
        (first, first_id), (second, second_id) = sorted([(old, old_id), (new, new_id)])
        with self._user_lock(first, first_id).held(), self._user_lock(second, second_id).held():
            if not old.is_dir() or new.exists():
                raise ConflictError(f"cannot move {old_id!r} to {new_id!r}: one of them changed meanwhile")
            self._refuse_case_twin(new.name, new_id)
            self._prepare(old)
            self._materialize(old)
            fileio.rename_into_place(old, new)
            id_file = self.layout.user_id_file(new)
            with fileio.os_errors(id_file):
                if is_hashed_folder(new.name):
                    id_file.parent.mkdir(exist_ok=True)
                    self.files.put(id_file, {"user_id": new_id}, durable=self.durable)
                elif id_file.exists():
                    id_file.unlink()
            quarantine = self.layout.quarantine / old.name
            if quarantine.exists():
                fileio.rename_into_place(quarantine, self.layout.quarantine / new.name)
            for folder in (old, new):
                self._drop(folder)
            if self.durable:
                fileio.fsync_dir(self.root)
            self._register(add=new.name, remove=old.name)

