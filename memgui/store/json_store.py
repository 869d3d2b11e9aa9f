"""``JsonMemoryStore``: the JSON-files backend (format v1 plus dot-named bookkeeping).

Writes of one user run under that user's lock file for the whole read-modify-write and are acknowledged by
one journal line (fdatasync'd with ``DURABLE_WRITES``); see ``journal.py`` for how messages reach the v1
files. Reads take no lock: files are replaced atomically and merged with the journal.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from memgui.store import fileio, keyring
from memgui.store.base import MemoryStore
from memgui.store.codec import Codec
from memgui.store.config import StoreConfig, build_config
from memgui.store.errors import ConfigError, ConflictError, CorruptDataError, EncryptionError, InvalidUserIdError
from memgui.store.ids import folder_for, id_from_folder, is_hashed_folder, is_user_folder_name
from memgui.store.journal import MATERIALIZE_EVERY, SEQ_KEY
from memgui.store.json_files import JsonFiles
from memgui.store.json_merge import bulk_append, public_metrics
from memgui.store.json_txn import JsonGlobalTxn, JsonUserTxn
from memgui.store.layout import Layout
from memgui.store.materializer import Materializer
from memgui.store.records import (
    SHAPE_CHECKS,
    USER_FILES,
    USER_LOGS,
    Doc,
    DocKind,
    LogKind,
    check_global,
    check_index,
    message_id,
)
from memgui.store.streaks import count_messages

log = logging.getLogger(__name__)
CHECKPOINT_BYTES = 1 << 20
_FILE_KINDS: dict[str, DocKind] = {name: kind for kind, name in USER_FILES.items()}
_LOG_KINDS: dict[str, LogKind] = {name: kind for kind, name in USER_LOGS.items()}


class JsonMemoryStore(MemoryStore):
    """The memory store as JSON files in ``DATA_DIR`` (see README "On disk")."""

    def __init__(self, config: StoreConfig | Mapping[str, Any] | str | os.PathLike[str] | int | None = None, *,
                 message_history_limit: int | None = None,
                 user_data_path: str | os.PathLike[str] | None = None) -> None:
        """A store over ``config`` (a StoreConfig, overrides, or a DATA_DIR path; default: the environment).

        The older constructor's ``JsonMemoryStore(message_history_limit=100)`` followed by
        ``initialize(user_data_path=...)`` works too: the limit becomes MAX_MESSAGES, the path DATA_DIR.
        """
        if isinstance(config, bool):
            raise ConfigError("MAX_MESSAGES", f"expected a number of messages, got {config!r}")
        if isinstance(config, int):  # JsonMemoryStore(100), the older form
            config, message_history_limit = None, config
        if isinstance(config, (str, os.PathLike)):
            config = build_config({"DATA_DIR": os.fspath(config)})
        elif config is None or isinstance(config, Mapping):
            config = build_config(config)
        older = {key: value for key, value in (("MAX_MESSAGES", message_history_limit),
                                                ("DATA_DIR", user_data_path)) if value is not None}
        super().__init__(config.replace(**older) if older else config)
        self._open_root()

    def _open_root(self) -> None:
        """(Re)build everything that depends on DATA_DIR; nothing is read or written."""
        self.root = Path(self.config.DATA_DIR).absolute()
        self.layout = Layout(self.root)
        self.durable = self.config.DURABLE_WRITES
        self._locks: dict[Path, fileio.Lock] = {}
        self._prepared: set[Path] = set()
        self._pending_encryption = False
        self._root_ready = False
        self._user_locks: dict[str, tuple[Path, fileio.Lock]] = {}
        self._clean: dict[Path, Any] = {}  # journal keys known to need no recovery
        self.files = JsonFiles(self.layout, Codec(self._open_cipher()), self._count_message)
        self._materializer = Materializer(self._materialize_if_idle, self._quiet_for)

    @property
    def user_data_path(self) -> str:
        """The older name of DATA_DIR."""
        return str(self.root)

    @property
    def message_history_limit(self) -> int:
        """The older name of MAX_MESSAGES."""
        return self.config.MAX_MESSAGES

    # -- encryption and the folder itself -----------------------------------------------------------
    def _open_cipher(self) -> Any:
        section = keyring.encryption_section(keyring.read_settings(self.layout))
        if section is not None:
            return keyring.cipher_from_settings(self.layout, section, self.config.ENCRYPTION_KEY)
        if self.config.ENCRYPTION_ENABLED:
            if not self.config.ENCRYPTION_KEY:
                raise EncryptionError("ENCRYPTION_ENABLED is true but ENCRYPTION_KEY is not set")
            if self._holds_data():
                raise EncryptionError(f"{self.root} holds unencrypted data: encrypt it in place first "
                                      f"(memgui-store encrypt {self.root})")
            self._pending_encryption = True
        return None

    @property
    def codec(self) -> Codec:
        return self.files.codec

    def _holds_data(self) -> bool:
        try:
            return any(not e.name.startswith(".") for e in os.scandir(self.root))
        except FileNotFoundError:
            return False

    def _ensure_root(self) -> None:
        """Create DATA_DIR (on the first write only) and, for a new encrypted store, its settings."""
        if self._root_ready:
            return
        if not self.root.is_dir():
            self.root.mkdir(parents=True, exist_ok=True)
            if self.durable:
                fileio.fsync_dir(self.root.parent)
        if self._pending_encryption:
            with self._lock(self.layout.settings_lock, "the store settings").held():
                section = keyring.encryption_section(keyring.read_settings(self.layout))
                if section is None:
                    section, cipher = keyring.new_encryption_section(str(self.config.ENCRYPTION_KEY), migration=None)
                    keyring.write_settings(self.layout, {"memgui_store": 1, "encryption": section})
                else:
                    cipher = keyring.cipher_from_settings(self.layout, section, self.config.ENCRYPTION_KEY)
                self.files.codec = Codec(cipher)
                self._pending_encryption = False
        self._sweep_root()
        self._root_ready = True

    def _sweep_root(self) -> None:
        """At this process's first write: remove what killed writers left in DATA_DIR itself (temporary files of
        the index and the global context and their backups, staging folders of half-made users), each under the
        lock that covers it; a busy lock is skipped, as its holder is alive."""
        owners: dict[Path, tuple[fileio.Lock, list[Path]]] = {}
        for place in (self.root, self.layout.backups):
            try:
                entries = [e for e in os.scandir(place) if fileio.is_temp_name(e.name)]
            except FileNotFoundError:
                continue
            for entry in entries:
                name = entry.name[1:]
                if name.startswith(f"{self.layout.index.name}."):
                    lock = self._lock(self.layout.index_lock, "the users index")
                elif name.startswith(f"{self.layout.global_context.name}."):
                    lock = self._lock(self.layout.global_lock, "the global context")
                elif place == self.root and entry.is_dir(follow_symlinks=False):
                    folder = name[: -len(fileio.TMP_SUFFIX)].rsplit(".", 1)[0]
                    lock = self._lock(self.layout.user_lock(folder), f"the folder {folder!r}")
                else:
                    continue
                owners.setdefault(lock._path, (lock, []))[1].append(Path(entry.path))
        for lock, paths in owners.values():
            if not lock.try_acquire():
                continue
            try:
                for path in paths:
                    if path.is_dir():
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        with contextlib.suppress(FileNotFoundError):
                            path.unlink()
            finally:
                lock.release()

    def _lock(self, path: Path, what: str) -> fileio.Lock:
        lock = self._locks.get(path)
        if lock is None:
            lock = self._locks[path] = fileio.Lock(path, self.config.LOCK_TIMEOUT, what)
        return lock

    def _user_lock(self, folder: Path, user_id: str) -> fileio.Lock:
        hit = self._user_locks.get(user_id)
        if hit is None or hit[0] != folder:
            hit = self._user_locks[user_id] = (folder, self._lock(self.layout.user_lock(folder.name),
                                                                   f"user {user_id!r}"))
        return hit[1]

    # -- the seam: reads ----------------------------------------------------------------------------
    def _read_doc(self, user_id: str, kind: DocKind) -> Doc | None:
        folder = self.layout.user_dir(user_id)
        if kind == "history":
            return self.files.logical_history(folder, locked=False)[0]
        if kind == "metrics":
            metrics = self.files.logical_metrics(folder, locked=False)
            return None if metrics is None else public_metrics(metrics)
        return self.files.load_doc(folder, kind)

    def _read_log(self, user_id: str, log_kind: LogKind) -> list[Doc]:
        folder = self.layout.user_dir(user_id)
        if log_kind != "archive":
            return self.files.load_log(folder, log_kind)
        # The messages trimmed but not yet archived first, then the file: a materialization in between moves
        # them into the file (read after it), never out of both views.
        pending = self.files.logical_history(folder, locked=False)[1]
        entries = self.files.load_log(folder, log_kind)
        if pending:
            seen = {message_id(e) for e in entries}
            entries = [*entries, *(m for m in pending if message_id(m) not in seen)]
        return entries

    def _has_user(self, user_id: str) -> bool:
        return self.layout.user_state(user_id)[1]

    def folder_id(self, name: str) -> str | None:
        """The user id stored in the folder ``name`` of DATA_DIR; None if it is not a user folder."""
        if not is_user_folder_name(name):
            return None
        if not is_hashed_folder(name):
            return id_from_folder(name)
        doc = self.files.load(self.layout.user_id_file(self.root / name), _check_user_id_doc)
        return doc["user_id"] if doc and folder_for(doc["user_id"]) == name else None

    def _list_users(self) -> list[str]:
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        ids = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                try:
                    user_id = self.folder_id(entry.name)
                except CorruptDataError as exc:
                    log.warning("skipping %s: %s", entry.path, exc)
                    continue
                if user_id is not None:
                    ids.append(user_id)
        return sorted(ids)

    def _read_global(self) -> Doc | None:
        return self.files.load(self.layout.global_context, check_global)  # type: ignore[no-any-return]

    def read_index(self) -> list[str]:
        """The folder names ``users_index.json`` lists ([] when it does not exist)."""
        doc = self.files.load(self.layout.index, check_index)
        return list(doc["users"]) if doc else []

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
            for place in (folder, self.layout.user_meta(folder), self.layout.user_backups(folder)):
                fileio.remove_stale_temps(place)
            self._register(folder.name)  # a user found only as a folder is listed again, as the older code did
            self._prepared.add(folder)
        journal = self.files.journal(folder)
        state = journal.read()
        if state.key is not None and state.key == self._clean.get(folder):
            return
        unfinished = state.unfinished()
        if unfinished:
            self._replay(folder, unfinished)
            for record in unfinished:
                journal.mark_done(record["seq"])
        if state.boot != journal.boot_now:
            self._materialize(folder)  # after a restart of the machine: sync and start a fresh journal
        self._clean[folder] = journal.read().key

    def _commit_messages(self, txn: JsonUserTxn) -> None:
        """The hot path: one journal line per message, the v1 files rewritten every MATERIALIZE_EVERY."""
        if len(txn.messages) > MATERIALIZE_EVERY:
            self._commit_bulk(txn)
            return
        journal = self.files.journal(txn.folder)
        seq = journal.state.last_seq  # read by _prepare, under this lock
        records = []
        for message, day in txn.messages:
            seq += 1
            records.append({"seq": seq, "msg": message, "day": day.isoformat(),
                            "max": self.config.MAX_MESSAGES, "archive": self.config.ARCHIVE_TRIMMED})
        journal.append_many(records, durable=self.durable)
        if len(journal.state.messages) >= MATERIALIZE_EVERY:
            self._materialize(txn.folder)
        else:
            self._materializer.schedule(txn.folder, txn.user_id)
        self._clean[txn.folder] = journal.state.key

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
        self.files.put_doc(folder, "history", {**history, SEQ_KEY: seq}, durable=self.durable)
        if archived[stored:]:
            self.files.append_log(folder, "archive", archived[stored:], durable=self.durable,
                                  window=self._archive_window)
        self.files.put_doc(folder, "metrics", {**metrics, SEQ_KEY: seq}, durable=self.durable)
        self._checkpoint(folder, seq)
        self._clean[folder] = self.files.journal(folder).state.key

    def _commit_documents(self, txn: JsonUserTxn) -> None:
        """Any other write: journal line, then the files replaced at once, then its done marker."""
        if txn.messages:
            self._commit_messages(txn)
        journal = self.files.journal(txn.folder)
        # Journaled messages stay pending unless this write replaces the history or the archive: the messages
        # they trim must reach the archive first. Metrics written here already count them (txn.read merges),
        # and carry this record's seq, so no reader counts them twice.
        if ("history" in txn.staged or txn.replaced) and journal.read().messages:
            self._materialize(txn.folder)
        for log_kind, entries in txn.replaced.items():  # whole logs rewritten (an import): atomically, first
            self.files.replace_log(txn.folder, log_kind, entries, durable=self.durable)
        seq = journal.read().last_seq + 1
        puts = {}
        for kind, doc in txn.staged.items():
            if kind in ("history", "metrics"):
                doc = {**doc, SEQ_KEY: seq}
            puts[USER_FILES[kind]] = {"doc": doc}
        appends = {USER_LOGS[kind]: entries for kind, entries in txn.appends.items()}
        record = {"seq": seq, "puts": puts, "appends": appends}
        for name, put in puts.items():  # encode first: bad input raises before the journal sees it
            self.codec.encode_doc(put["doc"], txn.folder / name)
        journal.append(record, durable=self.durable)
        self._replay(txn.folder, [record])
        journal.mark_done(seq)
        if journal.size() > CHECKPOINT_BYTES:
            self._materialize(txn.folder)  # pending messages into the files, then a fresh journal
        self._clean[txn.folder] = journal.read().key
        self._register(txn.folder.name)

    def _replay(self, folder: Path, records: list[dict[str, Any]]) -> None:
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
        """Under the user's lock: write the journal's messages into the v1 files, then reset the journal."""
        journal = self.files.journal(folder)
        state = journal.read()
        if state.messages:
            history, metrics, archived = self.files.logical(folder, locked=True)
            if archived:
                self.files.append_log(folder, "archive", archived, window=self._archive_window)
            assert history is not None and metrics is not None
            self.files.put_doc(folder, "history", history, durable=False)
            self.files.put_doc(folder, "metrics", metrics, durable=False)
        self._checkpoint(folder, state.last_seq)

    def _checkpoint(self, folder: Path, base: int) -> None:
        if self.durable:
            self.files.sync_folder(folder)
        self.files.journal(folder).reset(base, durable=self.durable)

    @property
    def _archive_window(self) -> int:
        """How far back in an archive a batch appended by a killed writer can lie (see JsonFiles.append_log)."""
        return max(self.config.MAX_MESSAGES, 100) + MATERIALIZE_EVERY

    def _quiet_for(self, folder: Path) -> float:
        """Seconds since the user's journal last changed."""
        key = fileio.stat_key(self.layout.journal(folder))
        return float("inf") if key is None else max(0.0, time.time() - key[2] / 1e9)

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
        # Built in a dot-named staging folder and renamed into place: a user appears whole or not at all, so a
        # writer killed half-way never leaves a folder that no id maps to or that lacks its files.
        self._remove_staging(txn.folder.name)
        staging = fileio.temp_name(txn.folder)
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
            fileio.fsync_dir(self.root)
        self._register(txn.folder.name)

    def _remove_staging(self, folder: str) -> None:
        """Under the user's lock: remove staging folders a creation killed half-way left behind."""
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return
        for entry in entries:
            if entry.name.startswith(f".{folder}.") and fileio.is_temp_name(entry.name) and entry.is_dir(
                    follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)

    def _refuse_case_twin(self, folder: str, user_id: str) -> None:
        """On a case-insensitive file system two ids differing only by case would share a folder."""
        if not _case_insensitive(self.root):
            return
        for entry in os.scandir(self.root):
            if entry.name != folder and entry.name.casefold() == folder.casefold():
                raise InvalidUserIdError(user_id, f"differs only by case from the existing {entry.name!r} "
                                                  "and this file system ignores case")

    def _register(self, add: str | None = None, remove: str | None = None) -> None:
        """Keep ``users_index.json`` listing the folder names, as v1 readers expect."""
        listed = self.read_index()
        if (add is None or add in listed) and (remove is None or remove not in listed):
            return
        with self._lock(self.layout.index_lock, "the users index").held():
            doc = self.files.load(self.layout.index, check_index) or {}
            names = set(doc.get("users", ()))
            if add is not None:
                names.add(add)
            names.discard(remove or "")
            # Removing a user refreshes the index backup too, so no copy of the index still names them.
            self.files.put(self.layout.index, {**doc, "users": sorted(names)}, durable=self.durable,
                           fresh_backup=remove is not None)

    @contextlib.contextmanager
    def _global_txn(self) -> Iterator[JsonGlobalTxn]:
        self._ensure_root()
        with self._lock(self.layout.global_lock, "the global context").held():
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
                    removed += [str(p.relative_to(self.root)) for p in sorted(place.rglob("*")) if p.is_file()]
                    shutil.rmtree(place)
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
            os.rename(old, new)
            id_file = self.layout.user_id_file(new)
            if is_hashed_folder(new.name):
                id_file.parent.mkdir(exist_ok=True)
                self.files.put(id_file, {"user_id": new_id}, durable=self.durable)
            elif id_file.exists():
                id_file.unlink()
            quarantine = self.layout.quarantine / old.name
            if quarantine.exists():
                os.rename(quarantine, self.layout.quarantine / new.name)
            for folder in (old, new):
                self._drop(folder)
            if self.durable:
                fileio.fsync_dir(self.root)
            self._register(add=new.name, remove=old.name)

    def _drop(self, folder: Path) -> None:
        """Forget what this process knew about a folder that was moved or erased."""
        self.files.forget(folder)
        self._prepared.discard(folder)
        self._clean.pop(folder, None)
        self._user_locks = {uid: hit for uid, hit in self._user_locks.items() if hit[0] != folder}

    # -- lifecycle ----------------------------------------------------------------------------------
    def initialize(self, user_data_path: str | os.PathLike[str] | None = None) -> bool:
        """Create DATA_DIR. ``user_data_path`` (the older API) points the store at that folder first, as the
        older ``initialize(user_data_path=...)`` did."""
        if user_data_path is not None and Path(user_data_path).absolute() != self.root:
            self._materializer.flush()
            self.config = self.config.replace(DATA_DIR=os.fspath(user_data_path))
            self._open_root()
        self._ensure_root()
        return True

    def flush(self) -> None:
        """Write every message this process journaled into the v1 files now."""
        self._materializer.flush()

    def close(self) -> None:
        """Flush pending messages into the files and drop caches; the store stays usable."""
        self._materializer.flush()
        self.files.clear()

    def describe(self) -> dict[str, Any]:
        return {"backend": "json", "data_dir": str(self.root), "encrypted": self.codec.encrypted,
                "durable": self.durable}


def _check_user_id_doc(path: Path, doc: Any) -> None:
    if not isinstance(doc, dict) or not isinstance(doc.get("user_id"), str):
        raise CorruptDataError(path, 'should be {"user_id": text}')


def _case_insensitive(root: Path) -> bool:
    swapped = root.with_name(root.name.swapcase())
    if swapped == root:
        return False
    try:
        return swapped.exists() and os.path.samefile(root, swapped)
    except OSError:
        return False

