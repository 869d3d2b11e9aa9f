"""``StoreWatcher``: turns changes that any process makes in a store folder into per-user reload signals.

``QFileSystemWatcher`` stops watching a file once it is replaced by rename, which is how every atomic write
lands (ReText ``window.py`` re-adds the path). So the watcher watches folders: DATA_DIR (users appear and
disappear, global context), each user folder (its files are replaced) and each user's ``.memgui`` folder
(the journal is reset by rename). A message only appends to ``<user>/.memgui/journal``, which changes no
directory entry, so that file is watched too and re-armed whenever its inode is no longer the one watched.

Every event means "re-read that user": it is queued and handled after a short quiet time (a burst becomes
one check per user, bounded by a maximum wait), and a user is reported only when the (inode, size,
mtime_ns) signature of its files differs from the last one seen, so temp files, backups, chmods and this
process's own writes coming back cost a few stat calls and no reload. Lock files live in
``DATA_DIR/.memgui/locks``, which is not watched at all. A slow poll re-checks the DATA_DIR listing, the
users with recent activity and, within a small time budget per tick, a rotating slice of all users, so a
lost event is repaired without keeping a busy timer: with nothing changing, the only timer is the poll.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from memgui.models.watch_paths import WatchedPaths
from memgui.models.watch_scan import Batch, DirListing, FolderStat, WatchedFolder, folder_stat, inode, stat_key
from memgui.store.backend import FolderChanges
from memgui.store.documents import GLOBAL_FILE
from memgui.store.errors import MemoryStoreError
from memgui.store.ids import is_hashed_folder, is_user_folder_name

log = logging.getLogger(__name__)

QUIET_MS = 30  # an event is handled once no other came for this long...
MAX_WAIT_MS = 150  # ...or once the first of a burst is this old, so a steady stream is still followed
POLL_MS = 5000  # the safety net for lost events
POLL_BUDGET_S = 0.008  # time a poll tick may spend on the rotating slice (about 0.2 % of a core at 5 s)
POLL_MIN_SLICE = 16
HOT_S = 120.0  # users changed this recently are re-checked on every poll tick
HOT_MAX = 256
ARM_BUDGET_S = 0.015  # time spent arming folders per event-loop turn at start: a large store never freezes the window
ARM_MIN = 8  # folders armed per turn however slow the disk
MAX_BACKOFF_S = 1.0
STARTUP_SLACK_S = 2.0
FolderId = Callable[[str], "str | None"]


class StoreWatcher(QObject):
    """Watches one store folder; emits ``userChanged(user_id)`` when a user's files changed (re-read that
    user), ``usersChanged()`` when users appeared or disappeared, ``globalChanged()`` for the global context,
    and ``ready()`` once every folder present at start is watched."""

    userChanged = Signal(str)
    usersChanged = Signal()
    globalChanged = Signal()
    ready = Signal()

    def __init__(self, root: str | os.PathLike[str], folder_id: FolderId, parent: QObject | None = None, *,
                 poll_interval_ms: int = POLL_MS, quiet_ms: int = QUIET_MS, max_wait_ms: int = MAX_WAIT_MS,
                 since: float | None = None, arm: bool = True) -> None:
        """``folder_id`` maps a folder name of DATA_DIR to its user id (None: not a user folder).
        Files modified after ``since`` (wall time of the caller's first read; default: a moment ago) are
        reported once at start: that covers changes made before the watches took hold.
        ``poll_interval_ms`` of 0 turns the safety-net poll off. ``arm=False`` watches only DATA_DIR until
        ``arm_folders`` is called (a window arms once its first read is done: arming 10,000 folders takes
        seconds of the GUI thread, and a first look still reports what changed since ``since``)."""
        super().__init__(parent)
        self._root = os.path.abspath(os.fspath(root))
        self._global = os.path.join(self._root, GLOBAL_FILE)
        self._folder_id = folder_id
        self._since_ns = int((time.time() - STARTUP_SLACK_S if since is None else since) * 1e9)
        self._quiet_s = quiet_ms / 1000
        self._max_wait_s = max_wait_ms / 1000
        self._folders: dict[str, WatchedFolder] = {}
        self._rejected: set[str] = set()
        self._owner: dict[str, str] = {}  # watched path -> folder name; "" for DATA_DIR (or its parent)
        self._root_watch: tuple[str, int] | None = None
        self._root_key = stat_key(self._root)
        self._global_key = stat_key(self._global)
        self._order: list[str] = []
        self._cursor = 0
        self._hot: dict[str, float] = {}
        self._pending: set[str] = set()
        self._pending_root = False
        self._to_arm: list[str] = []  # folders present at start, adopted and armed a slice per event-loop turn
        self._waiting: set[str] = set()  # the same, as a set
        self._listing: DirListing | None = None  # DATA_DIR being listed at start, a slice per turn
        self._root_listing: DirListing | None = None  # DATA_DIR being listed for a root scan, a slice per turn
        self._rescan = False  # a root scan was asked for while one was listing: list again once it is done
        self._listed = False  # the folders present at start are all in _to_arm (or armed)
        self._is_ready = False
        self._flushing = False
        self._stopped = False
        self._last_event = self._burst_start = self._not_before = 0.0
        self._warned = False

        self._fs = WatchedPaths(self)
        self._fs.changed.connect(self._on_path_changed)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.timeout.connect(self._on_debounce)
        self._arming = QTimer(self)
        self._arming.setSingleShot(True)
        self._arming.timeout.connect(self._on_arm_step)
        self._root_step = QTimer(self)
        self._root_step.setSingleShot(True)
        self._root_step.timeout.connect(self._on_root_step)
        self._poll = QTimer(self)
        self._poll.setTimerType(Qt.TimerType.CoarseTimer)
        self._poll.timeout.connect(self._on_poll)

        self._arm_root()
        self._arm_started = False  # the folders present at start are listed once arming starts, in slices
        if arm:
            self.arm_folders()
        if poll_interval_ms > 0:
            self._poll.start(poll_interval_ms)

    @classmethod
    def for_source(cls, source: FolderChanges, parent: QObject | None = None, *,
                   poll_interval_ms: int = POLL_MS, since: float | None = None, arm: bool = True) -> StoreWatcher:
        """A watcher over the folder a store names as its change source (``MemoryStore.change_source``)."""
        return cls(source.root, source.user_of, parent, poll_interval_ms=poll_interval_ms, since=since, arm=arm)

    @property
    def root(self) -> Path:
        return Path(self._root)

    @property
    def is_ready(self) -> bool:
        """True once every folder present at start is watched (``ready`` was emitted)."""
        return self._is_ready

    @property
    def settled(self) -> bool:
        """True once ready with no check queued or under way (what a benchmark waits for)."""
        busy = self._debounce.isActive() or self._arming.isActive() or self._root_step.isActive()
        return self._is_ready and not busy and self._root_listing is None and not self._pending

    def user_ids(self) -> list[str]:
        """The user ids of the folders being watched, sorted."""
        return sorted(f.user_id for f in self._folders.values() if f.user_id is not None)

    @Slot()
    def stop(self) -> None:
        """Stop watching and forget everything (before opening another folder)."""
        self._stopped = True
        for timer in (self._debounce, self._arming, self._poll, self._root_step):
            timer.stop()
        self._fs.clear()
        self._folders.clear()
        self._owner.clear()
        self._pending.clear()
        self._to_arm.clear()
        self._waiting.clear()
        for listing in (self._listing, self._root_listing):
            if listing is not None:
                listing.close()
        self._listing = self._root_listing = None
        self._root_watch = None

    # -- events and the debounce -----------------------------------------------------------------
    @Slot(str)
    def _on_path_changed(self, path: str) -> None:
        owner = self._owner.get(path)
        if owner:
            self._pending.add(owner)
        else:
            self._pending_root = True
        self._schedule()

    def _schedule(self) -> None:
        if self._stopped:
            return
        now = time.monotonic()
        self._last_event = now
        if not self._debounce.isActive():
            self._burst_start = now
            self._debounce.start(_ms(max(self._quiet_s, self._not_before - now)))

    @Slot()
    def _on_debounce(self) -> None:
        now = time.monotonic()
        wait = min(self._last_event + self._quiet_s, self._burst_start + self._max_wait_s) - now
        wait = max(wait, self._not_before - now)
        if self._flushing:  # a slot of ours is running a nested event loop: come back afterwards
            wait = max(wait, self._quiet_s)
        if wait > 0.001:  # more events came meanwhile
            self._debounce.start(_ms(wait))
            return
        names, self._pending = self._pending, set()
        scan, self._pending_root = self._pending_root, False
        self._process(names, scan_root=scan)

    # -- the safety net ------------------------------------------------------------------------------
    @Slot()
    def _on_poll(self) -> None:
        self.poll_now()

    @Slot()
    def poll_now(self, full: bool = False) -> None:
        """Check now what a lost event could have hidden: the DATA_DIR listing and global context, users
        with recent activity and a slice of all users within a time budget (every user when ``full``)."""
        root_watch_lost = self._root_watch is None or inode(self._root_watch[0]) != self._root_watch[1]
        scan = (root_watch_lost or stat_key(self._root) != self._root_key
                or stat_key(self._global) != self._global_key)
        now = time.monotonic()
        for name, when in list(self._hot.items()):
            if now - when > HOT_S or name not in self._folders:
                del self._hot[name]
        self._process((), scan_root=scan, polled=list(self._hot), sweep=math.inf if full else POLL_BUDGET_S)

    # -- the work ------------------------------------------------------------------------------------
    def _process(self, names: Iterable[str], *, scan_root: bool, polled: Iterable[str] = (),
                 sweep: float = 0.0) -> None:
        """Check the folders that had events, those ``polled`` and, with ``sweep`` seconds, a rotating
        slice of all (and list the next slice of DATA_DIR while a root scan is under way); then emit what
        changed."""
        if self._stopped:
            return
        if self._flushing:  # a slot of ours is running a nested event loop: come back afterwards
            self._pending.update(names)
            self._pending_root |= scan_root
            self._schedule()
            return
        self._flushing = True
        started = time.monotonic()
        batch = Batch()
        try:
            if scan_root:
                self._scan_root(batch)
            else:
                self._continue_root_scan(batch)  # a root listing under way: its next slice
            for name in names:
                self._check_name(name, batch, evented=True)
            for name in polled:
                self._check_name(name, batch)
            if sweep > 0:
                self._sweep(sweep, batch)
            if self._pending_root:  # a folder vanished while it was checked
                self._pending_root = False
                self._scan_root(batch)
            self._emit(batch)
        finally:
            self._flushing = False
            self._not_before = time.monotonic() + min(MAX_BACKOFF_S, time.monotonic() - started)
        if self._pending or self._pending_root:
            self._schedule()

    def _check_name(self, name: str, batch: Batch, *, evented: bool = False) -> None:
        folder = self._folders.get(name)
        if folder is None or name in batch.seen:
            return
        batch.seen.add(name)
        if folder.user_id is None:  # a hashed folder whose id file was not there: maybe it is now
            folder.user_id = self._lookup(name)
            folder.stat = folder_stat(folder.path)
            if self._arm(folder, folder.stat):
                folder.stat = folder_stat(folder.path)
            batch.users |= folder.user_id is not None
        elif self._check(folder, evented):
            batch.changed.append(folder.user_id)
            self._hot[name] = time.monotonic()
            if len(self._hot) > HOT_MAX:
                del self._hot[min(self._hot, key=self._hot.__getitem__)]

    def _sweep(self, budget: float, batch: Batch) -> None:
        """Check folders round-robin until ``budget`` seconds are spent (at least a few)."""
        deadline = time.perf_counter() + budget
        order = self._order
        for count in range(len(order)):
            if count >= POLL_MIN_SLICE and time.perf_counter() > deadline:
                break
            self._cursor %= len(order)
            name = order[self._cursor]
            self._cursor += 1
            self._check_name(name, batch)

    def _check(self, folder: WatchedFolder, evented: bool) -> bool:
        """Re-arm the folder's watches and compare its signature with the last one seen."""
        stat = folder_stat(folder.path)
        if stat.dir_ino is None:
            self._pending_root = True
            return False
        old = folder.stat
        # ext4 hands a freed inode number to the next new file, so an unchanged number does not prove the
        # watch is on the current file: renew every watch of a changed folder, and the journal's after
        # any event of the folder (its watch is the one that a reset by rename kills).
        renew: tuple[str, ...] = ()
        if old is None or not stat.same_content(old):
            renew = folder.watched
        elif evented:
            renew = (folder.journal,)
        if self._arm(folder, stat, renew):  # changes made before the new watch took hold are in a fresh look
            stat = folder_stat(folder.path)
        folder.stat = stat
        if old is None:  # first look: report what changed since the caller's first read
            return stat.newest_ns >= self._since_ns
        return not stat.same_content(old)

    def _arm(self, folder: WatchedFolder, stat: FolderStat, renew: tuple[str, ...] = ()) -> bool:
        """Watch the folder, its .memgui and its journal on their current inodes (and anew for the paths in
        ``renew``); True if any watch was (re)added. A file watch dies when the file is replaced by
        rename: this is where it comes back."""
        added = False
        for path, ino in zip(folder.watched, (stat.dir_ino, stat.meta_ino, stat.journal_ino), strict=True):
            armed = folder.armed.get(path)
            if armed == ino and path not in renew:
                continue
            if armed is not None:
                self._fs.remove(path)  # False when Qt already dropped it; that is fine
                del folder.armed[path]
                self._owner.pop(path, None)
            if ino is not None:
                if self._fs.add(path):
                    folder.armed[path] = ino
                    self._owner[path] = folder.name
                    added = True
                elif os.path.exists(path) and not self._warned:
                    self._warned = True
                    log.warning("cannot watch %s (inotify limit?); changes there are found by the poll", path)
        return added

    def _scan_root(self, batch: Batch) -> None:
        """Compare DATA_DIR's user folders and global context with what was seen last. The folders are listed
        a slice per event-loop turn (``ARM_BUDGET_S``): a store that lists within one slice is compared at
        once, into ``batch``; a larger one when its listing is done, in a batch of its own. A scan asked for
        while one is listing runs again after it (the listing may have passed a folder made meanwhile)."""
        self._arm_root()
        if self._root_listing is not None:
            self._rescan = True
            return
        self._root_key = stat_key(self._root)
        self._root_listing = DirListing(self._root)
        self._continue_root_scan(batch)

    def _continue_root_scan(self, batch: Batch) -> None:
        listing = self._root_listing
        if listing is None:
            return
        if not listing.step(time.perf_counter() + ARM_BUDGET_S):
            self._root_step.start(0)
            return
        self._root_listing = None
        if listing.names is not None:  # None: DATA_DIR could not be read; what was seen there stays
            self._compare_root(listing.names, batch)
        key = stat_key(self._global)
        batch.glob |= key != self._global_key
        self._global_key = key
        if self._rescan:
            self._rescan = False
            self._pending_root = True
            self._schedule()

    @Slot()
    def _on_root_step(self) -> None:
        self._process((), scan_root=False)  # the next slice of the root listing (put off like any check)

    def _compare_root(self, current: set[str], batch: Batch) -> None:
        for name in [n for n in self._folders if n not in current]:
            batch.users |= self._forget(name)
        # Until the first listing is done, every folder found is one of those present at start: the listing
        # adopts it (a root scan follows the listing, for what it missed).
        added = [] if not self._listed else [
            n for n in current if n not in self._folders and n not in self._rejected and n not in self._waiting]
        for name in sorted(added):
            folder = self._adopt(name)
            if folder is not None:  # its first signature is the baseline: usersChanged makes readers load it
                folder.stat = folder_stat(folder.path)
                if self._arm(folder, folder.stat):
                    folder.stat = folder_stat(folder.path)
                batch.users |= folder.user_id is not None
        if added or len(self._order) != len(self._folders):
            self._order = list(self._folders)

    def _adopt(self, name: str) -> WatchedFolder | None:
        """Start tracking a folder of DATA_DIR if it is (or may become) a user's."""
        user_id = self._lookup(name)
        if user_id is None and not (is_hashed_folder(name) and is_user_folder_name(name)):
            self._rejected.add(name)
            return None
        folder = self._folders[name] = WatchedFolder(self._root, name, user_id)
        return folder

    def _lookup(self, name: str) -> str | None:
        try:
            return self._folder_id(name)
        except (MemoryStoreError, OSError, ValueError) as exc:
            log.warning("cannot tell which user %s belongs to: %s", os.path.join(self._root, name), exc)
            return None

    def _forget(self, name: str) -> bool:
        folder = self._folders.pop(name)
        for path in folder.armed:
            self._fs.remove(path)
            self._owner.pop(path, None)
        self._hot.pop(name, None)
        self._pending.discard(name)
        return folder.user_id is not None

    def _arm_root(self) -> None:
        """Watch DATA_DIR, or its parent while DATA_DIR does not exist yet (it is made on the first write)."""
        target = self._root if os.path.isdir(self._root) else os.path.dirname(self._root)
        ino = inode(target)
        if self._root_watch == (target, ino):
            return
        if self._root_watch is not None:
            self._fs.remove(self._root_watch[0])
            self._owner.pop(self._root_watch[0], None)
            self._root_watch = None
        if ino is not None and self._fs.add(target):
            self._root_watch = (target, ino)
            self._owner[target] = ""

    def arm_folders(self) -> None:
        """Start adopting and watching the folders present at start (once; ``ready`` follows)."""
        if not self._arm_started and not self._stopped:
            self._arm_started = True
            self._arming.start(0)

    def _list_step(self, deadline: float) -> bool:
        """List DATA_DIR's folders until ``deadline``; True once the listing is complete and its folders are in
        ``_to_arm``. Listing 100,000 folders at once took 0.15 s of the GUI thread, before the first paint."""
        if self._listing is None:
            self._listing = DirListing(self._root)
        if not self._listing.step(deadline):
            return False
        names, self._listing = self._listing.names, None  # None (unreadable): nothing was present at start
        self._to_arm = sorted(names or (), reverse=True)  # popped from the end: in order
        self._waiting = set(self._to_arm)
        self._listed = True
        self._pending_root = True  # a folder made while the listing ran may have been missed by it
        return True

    @Slot()
    def _on_arm_step(self) -> None:
        """Arm and take the first signature of the folders present at start, a chunk per event-loop turn."""
        batch = Batch()
        deadline = time.perf_counter() + ARM_BUDGET_S
        if not self._listed and not self._list_step(deadline):
            self._arming.start(0)
            return
        count = 0
        while self._to_arm and (count < ARM_MIN or time.perf_counter() < deadline):
            name = self._to_arm.pop()
            self._waiting.discard(name)
            count += 1
            if name in self._folders or self._adopt(name) is None:
                continue
            self._order.append(name)
            self._check_name(name, batch)
        if self._to_arm:
            self._arming.start(0)
        else:
            batch.users |= (self._root_key or (0, 0, 0))[2] >= self._since_ns
            batch.glob |= (self._global_key or (0, 0, 0))[2] >= self._since_ns
        self._emit(batch)
        if self._pending_root:
            self._schedule()
        if not self._to_arm:
            self._is_ready = True
            self.ready.emit()

    def _emit(self, batch: Batch) -> None:
        if batch.users:
            self.usersChanged.emit()
        for user_id in batch.changed:
            self.userChanged.emit(user_id)
        if batch.glob:
            self.globalChanged.emit()


def _ms(seconds: float) -> int:
    return max(0, math.ceil(seconds * 1000))
