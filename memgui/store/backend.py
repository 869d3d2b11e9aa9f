"""The seam between business rules and persistence.

``MemoryStore`` (``base.py``) holds every rule once and talks to storage only through the abstract methods
declared here; a backend implements them and nothing else. A backend persists documents and append-only
logs per user, a global context document, and the list of users; it guarantees that everything staged in
one transaction lands together and that no two transactions on one user interleave, across processes.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

from memgui.store.codec import Codec
from memgui.store.config import StoreConfig
from memgui.store.documents import Doc, DocKind, LogKind
from memgui.store.errors import MemoryStoreError
from memgui.store.timeutil import local_zone, now_utc, parse_zone


@dataclasses.dataclass(frozen=True)
class ArchiveFile:
    """A user's archive kept as a JSON-lines file, one message a line, oldest first, that the read models
    may index and scan in place (a million messages never held in memory). ``codec`` decodes a line."""

    path: Path
    codec: Codec


@dataclasses.dataclass(frozen=True)
class ConversationSource:
    """What the conversation reader starts from: ``recent``, the messages that may not be in the archive file
    yet (oldest first; an id seen in the archive's tail is shown once), and the archive file, or None when
    ``recent`` is already the whole conversation (backends without files)."""

    recent: list[Doc]
    archive: ArchiveFile | None


@dataclasses.dataclass(frozen=True)
class FolderChanges:
    """A store whose changes show as files changing under ``root``, one folder per user; ``user_of`` maps
    a folder name to its user id (None for a folder that is no user's). The window watches it with its
    folder watcher (``memgui.models.watcher``)."""

    root: Path
    user_of: Callable[[str], str | None]


@dataclasses.dataclass(frozen=True)
class CaughtUp:
    """What a revision check found: users that exist and may have changed, whether the list of users may have
    changed (one created or erased), whether the global context did."""

    users: frozenset[str] = frozenset()
    listing: bool = False
    global_context: bool = False


class ChangeFeed(abc.ABC):
    """A store whose writers announce their changes (a database's notifications), for the window's live
    refresh. The feed holds a connection of its own; notifications are hints, ``catch_up`` is the truth.
    Plain Python: the window watches ``open()``'s socket and calls the rest from its GUI thread."""

    @abc.abstractmethod
    def open(self) -> int:
        """Connect and start listening; the socket to watch for readability. ``MemoryStoreError`` naming the
        problem when the store cannot be reached (within the connect timeout: never a hang)."""

    @abc.abstractmethod
    def read(self) -> list[str]:
        """The announcements that arrived, oldest first: a user id, or '' for the global context. Raises
        ``MemoryStoreError`` when the connection was lost."""

    @abc.abstractmethod
    def catch_up(self) -> CaughtUp:
        """What changed since the previous call (or since the first ``open``), told by the store's revision
        counters, whether announced or not. Cheap when nothing changed. Raises ``MemoryStoreError`` when the
        connection was lost."""

    @abc.abstractmethod
    def close(self) -> None:
        """Drop the connection (``open`` may be called again: a reconnect)."""

    def describe(self) -> str:
        """What is listened to, for the status bar."""
        return "the database"


#: What the window can follow for live refresh; None: nothing outside this process can change the store.
ChangeSource = FolderChanges | ChangeFeed


class UserTxn(abc.ABC):
    """Exclusive access to one user's documents while a rule reads and changes them.

    Reads see the latest committed state, or what this transaction staged. Writes and appends are staged
    and persisted when the transaction ends without an exception; an exception discards them. Documents
    returned by ``read`` are shared with the backend's cache: rules copy what they change.
    """

    def __init__(self, user_id: str, exists: bool) -> None:
        self.user_id = user_id
        self.exists = exists

    @abc.abstractmethod
    def read(self, kind: DocKind) -> Doc | None:
        """The user's document of ``kind``; None when it does not exist."""

    @abc.abstractmethod
    def write(self, kind: DocKind, doc: Doc) -> None:
        """Stage ``doc`` as the new document of ``kind``."""

    @abc.abstractmethod
    def append(self, log: LogKind, entries: list[Doc]) -> None:
        """Stage ``entries`` (each with a unique ``id``) for the end of ``log``; ids already there are skipped."""

    @abc.abstractmethod
    def read_log(self, log: LogKind) -> list[Doc]:
        """Every committed entry of ``log``, oldest first."""

    @abc.abstractmethod
    def replace_log(self, log: LogKind, entries: list[Doc]) -> None:
        """Stage ``entries`` as the whole new content of ``log`` (an import that merges conversations)."""

    @abc.abstractmethod
    def append_message(self, message: Doc, day: date) -> None:
        """Stage ``message`` for the end of the history, counted in the metrics on the user's local ``day``
        (``StoreSeam._count_message``); the history is then trimmed to ``MAX_MESSAGES``, the trimmed
        messages going to the archive when ``ARCHIVE_TRIMMED``. A backend may apply this lazily, as long as
        every read (``read``, ``_read_doc``, ``_read_log``) already shows it."""


class GlobalTxn(abc.ABC):
    """Exclusive access to the global context document."""

    @abc.abstractmethod
    def read(self) -> Doc | None: ...

    @abc.abstractmethod
    def write(self, doc: Doc) -> None: ...


#: One document of a bulk read: the document, None when absent, or the error reading it raised.
DocOrError = Doc | None | MemoryStoreError


class StoreSeam(abc.ABC):
    """What a backend provides to the rules. ``config`` is the validated configuration."""

    config: StoreConfig

    def __init__(self, config: StoreConfig) -> None:
        self.config = config
        self.default_zone: tzinfo = (
            parse_zone(config.DEFAULT_TIMEZONE) if config.DEFAULT_TIMEZONE else local_zone()
        )
        # What the rules call "now" whenever they stamp a write (a fact's added_at and version, a memory's
        # created_at, a message given no timestamp, a new profile's created_at, an export) or default a
        # streak's "now": the real time unless replaced by a callable returning an aware datetime, as the demo
        # does to write months of history at the moments it happened.
        self.clock: Callable[[], datetime] = now_utc

    def _now(self) -> datetime:
        """The store's clock: the current moment, aware."""
        return self.clock()

    def _iso_now(self) -> str:
        """The store's clock as ISO 8601 with its offset, the shape of every stored stamp."""
        return self.clock().isoformat()

    def _count_message(self, metrics: Doc, message: Doc, day: date) -> Doc:
        """The metrics after counting one message (the rule, for backends that apply messages lazily)."""
        from memgui.store.rules.streaks import count_message

        return count_message(metrics, message, day, self.default_zone)

    # -- users ---------------------------------------------------------------------------------------
    @abc.abstractmethod
    def _user_txn(self, user_id: str, *, create: bool) -> contextlib.AbstractContextManager[UserTxn]:
        """A transaction on ``user_id`` (already normalized). With ``create`` a missing user is made and
        registered when the transaction commits; without it ``txn.exists`` tells whether the user exists."""

    @abc.abstractmethod
    def _read_doc(self, user_id: str, kind: DocKind) -> Doc | None:
        """A lock-free read of one document as last committed; None when absent."""

    def _read_docs(self, user_ids: list[str], kinds: tuple[DocKind, ...]) -> dict[str, dict[DocKind, DocOrError]]:
        """Lock-free reads of ``kinds`` for many users at once: per user and kind the document, None when
        absent, or the ``MemoryStoreError`` reading it raised (the other documents still answer). A backend
        that can read them in one round trip overrides this; its answers must equal ``_read_doc``'s."""
        out: dict[str, dict[DocKind, DocOrError]] = {}
        for uid in user_ids:
            docs: dict[DocKind, DocOrError] = {}
            for kind in kinds:
                try:
                    docs[kind] = self._read_doc(uid, kind)
                except MemoryStoreError as exc:
                    docs[kind] = exc
            out[uid] = docs
        return out

    def _row_signatures(self, user_ids: list[str]) -> dict[str, tuple[int, ...]] | None:
        """For a backend whose files are not stat-able: per user, numbers that change whenever the profile,
        metrics or facts document does (row versions), in one round trip; None: no such thing (the users list
        then reads every row each time). A folder's files are signed by ``read/users_summary.py`` itself."""
        return None

    def _identity(self) -> str:
        """What tells this store from another at the same address (a database made again): '' when nothing."""
        return ""

    @abc.abstractmethod
    def _read_log(self, user_id: str, log: LogKind) -> list[Doc]:
        """A lock-free read of a whole log; [] when absent."""

    @abc.abstractmethod
    def _has_user(self, user_id: str) -> bool: ...

    @abc.abstractmethod
    def _list_users(self) -> list[str]:
        """Every user id, sorted."""

    @abc.abstractmethod
    def _erase_user(self, user_id: str) -> list[str]:
        """Remove every byte stored for the user; returns what was removed (for the report)."""

    @abc.abstractmethod
    def _user_traces(self, user_id: str) -> list[str]:
        """Anything still stored for a user (after an erase: must be empty): paths, index entries."""

    @abc.abstractmethod
    def _move_user(self, old_id: str, new_id: str) -> None:
        """Move all of a user's data to a new id that does not exist yet."""

    # -- global context ------------------------------------------------------------------------------
    @abc.abstractmethod
    def _global_txn(self) -> contextlib.AbstractContextManager[GlobalTxn]: ...

    @abc.abstractmethod
    def _read_global(self) -> Doc | None: ...

    # -- lifecycle -----------------------------------------------------------------------------------
    def close(self) -> None:  # noqa: B027 - optional for a backend
        """Release what the backend holds open (files, caches)."""

    def describe(self) -> dict[str, Any]:
        """What the store is, for people: backend name and location."""
        return {"backend": self.config.STORAGE_BACKEND}

    # -- what the window needs -------------------------------------------------------------------------
    def location(self) -> str:
        """Where the store is, for title bars and the recent list: a folder path, a database address with
        no password; '' for a store that lives only in this process."""
        return ""

    def folder(self) -> Path | None:
        """The folder the store keeps its files in; None for a backend without one."""
        return None

    def change_source(self) -> ChangeSource | None:
        """What to watch to see other processes' writes; None when nothing else can write the store."""
        return None
