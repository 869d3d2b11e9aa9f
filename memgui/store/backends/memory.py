"""``InMemoryStore``: a backend that keeps everything in process memory.

It exists for tests of the rules and as the worked example of adding a backend (README): one class that
implements the seam, and one ``register_backend`` call. Nothing survives the process.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

from memgui.store.backend import GlobalTxn, UserTxn
from memgui.store.config import StoreConfig
from memgui.store.documents import Doc, DocKind, LogKind, message_id, normalize_message
from memgui.store.interface import MemoryStore
from memgui.store.values import clone


class _User:
    def __init__(self) -> None:
        self.docs: dict[DocKind, Doc] = {}
        self.logs: dict[LogKind, list[Doc]] = {}


class _Txn(UserTxn):
    def __init__(self, store: InMemoryStore, user_id: str, user: _User | None) -> None:
        super().__init__(user_id, user is not None)
        self.store = store
        self.user = user
        self.staged: dict[DocKind, Doc] = {}
        self.appends: dict[LogKind, list[Doc]] = {}
        self.replaced: dict[LogKind, list[Doc]] = {}

    def read(self, kind: DocKind) -> Doc | None:
        if kind in self.staged:
            return self.staged[kind]
        return self.user.docs.get(kind) if self.user else None

    def write(self, kind: DocKind, doc: Doc) -> None:
        self.staged[kind] = clone(doc)

    def append(self, log: LogKind, entries: list[Doc]) -> None:
        self.appends.setdefault(log, []).extend(clone(entries))

    def read_log(self, log: LogKind) -> list[Doc]:
        committed = self.replaced.get(log, self.user.logs.get(log, []) if self.user else [])
        return [*committed, *self.appends.get(log, [])]

    def replace_log(self, log: LogKind, entries: list[Doc]) -> None:
        self.replaced[log] = clone(entries)
        self.appends.pop(log, None)

    def append_message(self, message: Doc, day: date) -> None:
        history = self.read("history") or {"messages": []}
        messages = [*history["messages"], clone(message)]
        limit = self.store.config.MAX_MESSAGES
        if limit and len(messages) > limit:
            trimmed, messages = messages[:-limit], messages[-limit:]
            if self.store.config.ARCHIVE_TRIMMED:
                self.append("archive", [normalize_message(m) for m in trimmed])
        self.write("history", {**history, "messages": messages})
        self.write("metrics", self.store._count_message(self.read("metrics") or {}, message, day))


class _GlobalTxn(GlobalTxn):
    def __init__(self, doc: Doc | None) -> None:
        self.doc = doc
        self.staged: Doc | None = None

    def read(self) -> Doc | None:
        return self.staged if self.staged is not None else self.doc

    def write(self, doc: Doc) -> None:
        self.staged = clone(doc)


class InMemoryStore(MemoryStore):
    """Every rule of ``MemoryStore`` over dictionaries, safe between threads of one process."""

    def __init__(self, config: StoreConfig | None = None) -> None:
        super().__init__(config or StoreConfig(STORAGE_BACKEND="memory"))
        self._users: dict[str, _User] = {}
        self._global: Doc | None = None
        self._mutex = threading.RLock()

    @contextlib.contextmanager
    def _user_txn(self, user_id: str, *, create: bool) -> Iterator[UserTxn]:
        with self._mutex:
            txn = _Txn(self, user_id, self._users.get(user_id))
            yield txn
            if txn.staged or txn.appends or txn.replaced:
                user = self._users.setdefault(user_id, _User())
                user.docs.update(txn.staged)
                user.logs.update(txn.replaced)
                for log, entries in txn.appends.items():
                    present = {message_id(e) for e in user.logs.get(log, [])}
                    user.logs.setdefault(log, []).extend(e for e in entries if message_id(e) not in present)

    def _read_doc(self, user_id: str, kind: DocKind) -> Doc | None:
        with self._mutex:
            user = self._users.get(user_id)
            return user.docs.get(kind) if user else None

    def _read_log(self, user_id: str, log: LogKind) -> list[Doc]:
        with self._mutex:
            user = self._users.get(user_id)
            return list(user.logs.get(log, [])) if user else []

    def _has_user(self, user_id: str) -> bool:
        return user_id in self._users

    def _list_users(self) -> list[str]:
        with self._mutex:
            return sorted(self._users)

    def _erase_user(self, user_id: str) -> list[str]:
        with self._mutex:
            user = self._users.pop(user_id)
            return [f"{user_id}: {kind}" for kind in (*user.docs, *user.logs)]

    def _user_traces(self, user_id: str) -> list[str]:
        with self._mutex:
            return [f"user {user_id!r}"] if user_id in self._users else []

    def _move_user(self, old_id: str, new_id: str) -> None:
        with self._mutex:
            self._users[new_id] = self._users.pop(old_id)

    @contextlib.contextmanager
    def _global_txn(self) -> Iterator[GlobalTxn]:
        with self._mutex:
            txn = _GlobalTxn(self._global)
            yield txn
            if txn.staged is not None:
                self._global = txn.staged

    def _read_global(self) -> Doc | None:
        return self._global

    def describe(self) -> dict[str, Any]:
        return {"backend": "memory"}
