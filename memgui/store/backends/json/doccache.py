"""A bounded cache of parsed documents, keyed by path and validated by the file's (inode, size, mtime)."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

StatKey = tuple[int, int, int]


class DocCache:
    """Least-recently-used documents; an entry is only returned while the file still has its stat key."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._entries: OrderedDict[Path, tuple[StatKey, Any]] = OrderedDict()
        self._max = max_entries
        self._mutex = threading.Lock()

    def get(self, path: Path, key: StatKey) -> Any | None:
        with self._mutex:
            hit = self._entries.get(path)
            if hit is None or hit[0] != key:
                return None
            self._entries.move_to_end(path)
            return hit[1]

    def put(self, path: Path, key: StatKey, doc: Any) -> None:
        with self._mutex:
            self._entries[path] = (key, doc)
            self._entries.move_to_end(path)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def forget_under(self, folder: Path) -> None:
        """Drop every entry inside ``folder`` (after a move or an erase)."""
        prefix = os.path.join(folder, "")  # compared as text: Path.parents costs ~20 us an entry, and a user
        with self._mutex:  # is created (its staging folder forgotten) in a store whose cache holds thousands
            for path in [p for p in self._entries if str(p).startswith(prefix)]:
                del self._entries[path]

    def clear(self) -> None:
        with self._mutex:
            self._entries.clear()
