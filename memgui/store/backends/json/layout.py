"""Where everything lives inside ``DATA_DIR`` (see README "On disk").

Bookkeeping is in dot-named places only: ``DATA_DIR/.memgui/`` (settings, locks, quarantine, backups of
the store-wide files) and ``<user>/.memgui/`` (journal, backups, the id of a hashed folder).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from memgui.store.documents import GLOBAL_FILE, INDEX_FILE, JOURNAL_FILE, META_DIR, USER_LOGS, LogKind
from memgui.store.errors import CorruptDataError
from memgui.store.ids import folder_for

META = META_DIR

#: Entries a path memo holds before it starts afresh. Small on purpose: a scan of every user (the users list's
#: first build) passes each path once, and clearing a memo of 200,000 paths was one 100 ms call holding the
#: GIL (the window froze); 4,096 clear in about 2 ms and still hold every path the writers reuse.
MEMO_ENTRIES = 4096


class Layout:
    """Paths of one store."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.meta = root / META
        self.settings = self.meta / "settings.json"
        self.locks = self.meta / "locks"
        self.quarantine = self.meta / "quarantine"
        self.backups = self.meta / "backups"
        self.index = root / INDEX_FILE
        self.global_context = root / GLOBAL_FILE
        self._folders: dict[str, Path] = {}

    def user_dir(self, user_id: str) -> Path:
        """The folder of a (normalized) id; ``CorruptDataError`` if something that is not a plain
        directory sits at that name (a planted symlink, a file)."""
        return self.user_state(user_id)[0]

    def user_state(self, user_id: str) -> tuple[Path, bool]:
        """(the folder of an id, whether it exists) with one ``lstat``; ``CorruptDataError`` as ``user_dir``."""
        path = self._folders.get(user_id)
        if path is None:
            path = self.root / folder_for(user_id)
            if len(self._folders) >= MEMO_ENTRIES:
                self._folders.clear()
            self._folders[user_id] = path
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return path, False
        if stat.S_ISLNK(mode):
            raise CorruptDataError(path, "is a symbolic link; the store does not follow links")
        if not stat.S_ISDIR(mode):
            raise CorruptDataError(path, "is not a directory")
        return path, True

    @staticmethod
    def log(user_dir: Path, kind: LogKind) -> Path:
        return user_dir / USER_LOGS[kind]

    @staticmethod
    def user_meta(user_dir: Path) -> Path:
        return user_dir / META

    @staticmethod
    def journal(user_dir: Path) -> Path:
        return user_dir / META / JOURNAL_FILE

    @staticmethod
    def user_id_file(user_dir: Path) -> Path:
        return user_dir / META / "user_id"

    @staticmethod
    def user_backups(user_dir: Path) -> Path:
        return user_dir / META / "backups"

    @staticmethod
    def user_synced(user_dir: Path) -> Path:
        """Links to the history and metrics files as last synced (see ``JsonMemoryStore._keep_synced``)."""
        return user_dir / META / "synced"

    def user_lock(self, folder: str) -> Path:
        # Hashed so that a lock file, which outlives an erased user, does not name them.
        digest = hashlib.sha256(folder.encode("utf-8")).hexdigest()[:32]
        return self.locks / f"u-{digest}.lock"

    @property
    def index_lock(self) -> Path:
        return self.locks / "index.lock"

    @property
    def global_lock(self) -> Path:
        return self.locks / "global.lock"

    @property
    def settings_lock(self) -> Path:
        return self.locks / "settings.lock"
