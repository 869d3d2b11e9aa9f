"""The store's typed exceptions: every failure is one of these, with a message naming what was wrong."""

from __future__ import annotations

from pathlib import Path


class MemoryStoreError(Exception):
    """Base of every error the store raises on purpose."""


class ConfigError(MemoryStoreError):
    """A configuration key is unknown, or its value has the wrong type or range."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


class InvalidUserIdError(MemoryStoreError, ValueError):
    """A user id that cannot be stored (empty, not a string, control characters, too long...)."""

    def __init__(self, user_id: object, reason: str) -> None:
        super().__init__(f"invalid user id {user_id!r}: {reason}")
        self.user_id = user_id
        self.reason = reason


class ValidationError(MemoryStoreError, ValueError):
    """An argument other than a user id is invalid (empty fact, unknown role, bad timestamp...)."""


class CorruptDataError(MemoryStoreError):
    """A file could not be read back: damaged, wrong shape, or not a regular file.

    ``path`` is the file; the message names it. The file is left exactly as it is.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


class NewerFormatError(CorruptDataError):
    """A file in a format newer than this version of memgui reads (written by a later memgui). Nothing reads
    past it or writes over it: upgrade memgui."""


class EncryptionError(MemoryStoreError):
    """Encryption is misconfigured: a missing or wrong key, or a file that fails authentication."""


class ConflictError(MemoryStoreError):
    """An edit was based on a read that is no longer what the store holds; nothing was written."""


class LockTimeoutError(MemoryStoreError, TimeoutError):
    """Another process held a lock longer than LOCK_TIMEOUT."""


class StoreIOError(MemoryStoreError, OSError):
    """The operating system refused a read or write (disk full, I/O error...); nothing was acknowledged."""

    def __init__(self, path: str | Path, error: OSError) -> None:
        MemoryStoreError.__init__(self, f"{path}: {error.strerror or error}")
        self.errno = error.errno
        self.strerror = error.strerror
        self.filename = str(path)
        self.path = Path(path)


class DatabaseError(MemoryStoreError):
    """The database server cannot be used: down or unreachable, the password refused, the database missing,
    or its memgui schema of another version. The message names which, and the server."""
