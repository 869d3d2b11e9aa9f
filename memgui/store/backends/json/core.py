"""The core of the JSON backend: DATA_DIR and its layout, encryption settings, locks, lock-free reads, the users
index, and the lifecycle. ``JsonMemoryStore`` (json_store.py) adds the write paths on top.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from memgui.store import fileio, keyring
from memgui.store.backend import ArchiveFile, ConversationSource, FolderChanges
from memgui.store.backends.json.files import JsonFiles
from memgui.store.backends.json.journal import MATERIALIZE_EVERY
from memgui.store.backends.json.layout import Layout
from memgui.store.backends.json.materializer import Materializer
from memgui.store.backends.json.merge import public_metrics
from memgui.store.codec import Codec
from memgui.store.config import StoreConfig, build_config
from memgui.store.documents import Doc, DocKind, LogKind, check_global, check_index, message_id
from memgui.store.errors import ConfigError, CorruptDataError, EncryptionError, InvalidUserIdError, StoreIOError
from memgui.store.ids import folder_for, id_from_folder, is_hashed_folder, is_user_folder_name, split_plain
from memgui.store.interface import MemoryStore

log = logging.getLogger(__name__)


class JsonCore(MemoryStore):
    """What every part of the JSON backend shares. Abstract: the write paths live in ``JsonMemoryStore``."""

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
            with self.lock(self.layout.settings_lock, "the store settings").held():
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
                    lock = self.lock(self.layout.index_lock, "the users index")
                elif name.startswith(f"{self.layout.global_context.name}."):
                    lock = self.lock(self.layout.global_lock, "the global context")
                elif place == self.root and entry.is_dir(follow_symlinks=False):
                    folder = name[: -len(fileio.TMP_SUFFIX)].rsplit(".", 1)[0]
                    lock = self.lock(self.layout.user_lock(folder), f"the folder {folder!r}")
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

    def lock(self, path: Path, what: str) -> fileio.Lock:
        """The store's lock on ``path`` (one per path in this process); maintenance holds it as writers do."""
        lock = self._locks.get(path)
        if lock is None:
            lock = self._locks[path] = fileio.Lock(path, self.config.LOCK_TIMEOUT, what)
        return lock

    def recover_user(self, user_id: str) -> None:
        """Finish or discard what a killed writer left in the user's folder (journal records, temporary
        files): what every transaction does first, here without a write."""
        with self._user_txn(user_id, create=False):
            pass

    def _user_lock(self, folder: Path, user_id: str) -> fileio.Lock:
        hit = self._user_locks.get(user_id)
        if hit is None or hit[0] != folder:
            hit = self._user_locks[user_id] = (folder, self.lock(self.layout.user_lock(folder.name),
                                                                   f"user {user_id!r}"))
        return hit[1]

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
        if not is_hashed_folder(name):
            return None if name.startswith(".") else id_from_folder(name)
        if not is_user_folder_name(name):
            return None
        doc = self.files.load(self.layout.user_id_file(self.root / name), _check_user_id_doc)
        return doc["user_id"] if doc and folder_for(doc["user_id"]) == name else None

    def _list_users(self) -> list[str]:
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        ids, others = split_plain([entry.name for entry in entries if entry.is_dir(follow_symlinks=False)])
        for name in others:
            try:
                user_id = self.folder_id(name)
            except CorruptDataError as exc:
                log.warning("skipping %s: %s", self.root / name, exc)
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

    def _remove_staging(self, folder: str) -> None:
        """Under the user's lock: remove staging folders a creation killed half-way left behind."""
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreIOError(self.root, exc) from exc
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
        try:
            listed = self.read_index()
        except CorruptDataError as exc:
            if remove is not None:
                raise
            # Listing an existing folder: the folder makes the user (STORE.md), so a damaged index must not
            # fail their writes; it is left as it is for repair, which rebuilds it from the folders.
            log.warning("users index not updated for %s: %s", add, exc)
            return
        if (add is None or add in listed) and (remove is None or remove not in listed):
            return
        with self.lock(self.layout.index_lock, "the users index").held():
            doc = self.files.load(self.layout.index, check_index) or {}
            names = set(doc.get("users", ()))
            if add is not None:
                names.add(add)
            names.discard(remove or "")
            # Removing a user refreshes the index backup too, so no copy of the index still names them.
            self.files.put(self.layout.index, {**doc, "users": sorted(names)}, durable=self.durable,
                           fresh_backup=remove is not None)

    def _drop(self, folder: Path) -> None:
        """Forget what this process knew about a folder that was moved or erased."""
        self.files.forget(folder)
        self._prepared.discard(folder)
        self._clean.pop(folder, None)
        self._user_locks = {uid: hit for uid, hit in self._user_locks.items() if hit[0] != folder}

    def _quiet_for(self, folder: Path) -> float:
        """Seconds since the user's journal last changed."""
        key = fileio.stat_key(self.layout.journal(folder))
        return float("inf") if key is None else max(0.0, time.time() - key[2] / 1e9)

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
        """Flush pending messages into the files, drop caches and close the descriptors kept open (journals,
        lock files); the store stays usable and reopens what it needs."""
        self._materializer.flush()
        self.files.clear()
        for lock in self._locks.values():
            lock.close()

    def describe(self) -> dict[str, Any]:
        return {"backend": "json", "data_dir": str(self.root), "encrypted": self.codec.encrypted,
                "durable": self.durable}

    def location(self) -> str:
        return str(self.root)

    def folder(self) -> Path | None:
        return self.root

    def change_source(self) -> FolderChanges:
        return FolderChanges(self.root, self.folder_id)

    def conversation_source(self, user_id: str) -> ConversationSource:
        """The journal's messages not yet in the files and the recent history, read without the lock, and
        the archive file to index in place."""
        folder = self.layout.user_dir(user_id)
        history, _metrics, pending = self.files.logical(folder, locked=False)
        recent = [*pending, *(history or {"messages": []})["messages"]]
        return ConversationSource(recent, ArchiveFile(self.layout.log(folder, "archive"), self.codec))

    @abc.abstractmethod
    def _materialize_if_idle(self, folder: Path, user_id: str) -> bool:
        """For the background materializer: write a quiet user's journaled messages into the files."""

    @property
    def _archive_window(self) -> int:
        """How far back in an archive a batch appended by a killed writer can lie (see JsonFiles.append_log)."""
        return max(self.config.MAX_MESSAGES, 100) + MATERIALIZE_EVERY


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
