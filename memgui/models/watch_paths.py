"""``WatchedPaths``: one ``QFileSystemWatcher`` spread over several, so that watching 100,000 users stays linear.

Qt's ``QFileSystemWatcher.addPath`` looks the new path up in the list of every path that watcher already has
(a linear search of a ``QStringList``), so one watcher of every user's folders made arming quadratic: 0.05 ms
an add at 10,000 paths, 0.5 ms at 60,000 (100,000 users, up to three paths each, took 60-90 s of the GUI
thread). Here each watcher holds at most ``SHARD_PATHS`` paths. Each is an inotify instance of its own, and
Linux allows 128 per user by default (``fs.inotify.max_user_instances``), shared with every other program: so
there are at most ``MAX_SHARDS``, and past ``MAX_SHARDS * SHARD_PATHS`` paths the emptiest one takes the rest.
"""

from __future__ import annotations

from PySide6.QtCore import QFileSystemWatcher, QObject, Signal

SHARD_PATHS = 16_384
MAX_SHARDS = 16


class WatchedPaths(QObject):
    """``add``/``remove`` as ``QFileSystemWatcher.addPath``/``removePath``; ``changed(path)`` for a file or a folder."""

    changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._shards: list[QFileSystemWatcher] = []
        self._sizes: dict[QFileSystemWatcher, int] = {}
        self._where: dict[str, QFileSystemWatcher] = {}
        self._new_shard()  # there is always one (a test finds it as this object's QFileSystemWatcher child)

    def _new_shard(self) -> QFileSystemWatcher:
        shard = QFileSystemWatcher(self)
        shard.fileChanged.connect(self.changed)
        shard.directoryChanged.connect(self.changed)
        self._shards.append(shard)
        self._sizes[shard] = 0
        return shard

    def _shard_with_room(self) -> QFileSystemWatcher:
        last = self._shards[-1]
        if self._sizes[last] < SHARD_PATHS:
            return last
        roomy = min(self._shards, key=self._sizes.__getitem__)
        if self._sizes[roomy] < SHARD_PATHS or len(self._shards) >= MAX_SHARDS:
            return roomy
        return self._new_shard()

    def add(self, path: str) -> bool:
        """Watch ``path``; False if it is already watched here or cannot be (gone, or the inotify limit)."""
        if path in self._where:
            return False
        shard = self._shard_with_room()
        if not shard.addPath(path):
            return False
        self._where[path] = shard
        self._sizes[shard] += 1
        return True

    def remove(self, path: str) -> bool:
        """Stop watching ``path``; False when it was not watched (or Qt already dropped it: a removed file)."""
        shard = self._where.pop(path, None)
        if shard is None:
            return False
        self._sizes[shard] -= 1
        return shard.removePath(path)

    def paths(self) -> list[str]:
        return list(self._where)

    def clear(self) -> None:
        """Stop watching everything."""
        for shard in self._shards:
            watched = shard.files() + shard.directories()
            if watched:
                shard.removePaths(watched)
            self._sizes[shard] = 0
        self._where.clear()
