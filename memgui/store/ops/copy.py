"""Copying a whole store between backends (``memgui-store copy SRC DST``): a JSON folder or a PostgreSQL database.

Everything is copied as stored, below the rules: each user's five documents (profile, history, facts with
their provenance, metrics, memories) and both logs (archive, fact versions), then the global context. Each
user is copied in one transaction of the destination that replaces whatever the destination held for that
user, so a copy killed at any point and run again finishes the job with nothing twice: a user is either
absent, or whole as in the source.

Encryption: the PostgreSQL backend stores documents as plain JSON (the server's own encryption at rest applies).
Copying an encrypted folder there decrypts it, so it is refused unless the caller says ``allow_decrypt``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from memgui.store.config import build_config
from memgui.store.documents import DocKind, LogKind
from memgui.store.errors import EncryptionError
from memgui.store.interface import MemoryStore

DOC_KINDS: tuple[DocKind, ...] = get_args(DocKind)
LOG_KINDS: tuple[LogKind, ...] = get_args(LogKind)


def is_database(location: str) -> bool:
    """True for a PostgreSQL URL or ``key=value`` connection string, False for a folder path."""
    if location.startswith(("postgresql://", "postgres://")):
        return True
    return "=" in location and not Path(location).exists()


def open_store(location: str, passphrase: str | None = None) -> MemoryStore:
    """A store at ``location`` (folder or database); ``passphrase`` opens (or makes) an encrypted folder."""
    from memgui.store.factory import create_memory_store

    if is_database(location):
        config = build_config({"STORAGE_BACKEND": "postgres", "DATABASE_URL": location}, environ={})
    else:
        values = {"STORAGE_BACKEND": "json", "DATA_DIR": location, "MAX_MESSAGES": 0}
        if passphrase:
            values |= {"ENCRYPTION_ENABLED": True, "ENCRYPTION_KEY": passphrase}
        config = build_config(values, environ={"DEFAULT_TIMEZONE": os.environ.get("DEFAULT_TIMEZONE", "")})
    return create_memory_store(config)


@dataclass
class CopyReport:
    users: int = 0
    global_entries: int = 0

    def summary(self) -> str:
        return f"copied {self.users} users and {self.global_entries} global context entries"


def copy_store(src: MemoryStore, dst: MemoryStore, *, progress: Callable[[str], None] | None = None,
               allow_decrypt: bool = False) -> CopyReport:
    """Copy every user and the global context of ``src`` into ``dst`` (see the module's docstring)."""
    encrypted = getattr(getattr(src, "codec", None), "encrypted", False)
    if encrypted and not getattr(getattr(dst, "codec", None), "encrypted", False) and not allow_decrypt:
        raise EncryptionError("the source is encrypted and the destination would hold it in plain text; "
                              "pass --decrypt (allow_decrypt=True) to copy it anyway")
    report = CopyReport()
    users = src._list_users()
    for number, uid in enumerate(users, 1):
        docs = {kind: src._read_doc(uid, kind) for kind in DOC_KINDS}
        logs = {log: src._read_log(uid, log) for log in LOG_KINDS}
        with dst._user_txn(uid, create=True) as txn:
            for kind, doc in docs.items():
                if doc is not None:
                    txn.write(kind, doc)
            for log, entries in logs.items():
                if entries or txn.exists:
                    txn.replace_log(log, entries)
        report.users += 1
        if progress and (number % 50 == 0 or number == len(users)):
            progress(f"{number}/{len(users)} users copied")
    context = src._read_global()
    if context is not None:
        with dst._global_txn() as gtxn:
            gtxn.write(context)
        report.global_entries = len(context)
    return report
