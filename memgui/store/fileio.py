"""The file layer: atomic replacement, appends, strict reads, locks and a fault-injection point.

Every write lands through a temporary file in the same folder that is written, optionally fsynced, renamed
over the target and followed by an fsync of the folder, so a reader sees the old file or the new one and
never a torn one. Temporary names start with ``.`` and end with ``.tmp``; nothing treats them as data.
``FAULT_HOOK`` lets tests fail any step with any ``OSError`` (EIO, ENOSPC...).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import shutil
import stat as stat_mod
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import filelock

try:
    import fcntl

    _HAVE_FCNTL = True
except ImportError:  # pragma: no cover - Windows
    _HAVE_FCNTL = False

from memgui.store.errors import CorruptDataError, LockTimeoutError, StoreIOError

#: Called as ``FAULT_HOOK(step, path)`` before each step of a write; raising an OSError there simulates a
#: failure of that step. Steps: open, write, fsync, replace, dirfsync, append, truncate.
FAULT_HOOK: Callable[[str, Path], None] | None = None

#: Largest file the store will read; a bigger one is reported as damaged rather than exhausting memory.
MAX_FILE_BYTES = 512 * 1024 * 1024

TMP_SUFFIX = ".tmp"
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


def _fault(step: str, path: Path) -> None:
    if FAULT_HOOK is not None:
        FAULT_HOOK(step, path)


_clock_lock = threading.Lock()
_last_ns = 0


def _unique_ns() -> tuple[int, int]:
    """(atime, mtime) for a file this process writes: now, and strictly later than its previous stamp."""
    global _last_ns
    with _clock_lock:
        _last_ns = max(_last_ns + 1, time.time_ns())
        return _last_ns, _last_ns


def temp_name(target: Path) -> Path:
    """A fresh temporary path beside ``target``, recognizable by ``is_temp_name``."""
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}{TMP_SUFFIX}")


def is_temp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(TMP_SUFFIX)


def rename_into_place(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target`` (a fault-injection step, like every other write step)."""
    try:
        _fault("replace", target)
        os.rename(source, target)
    except OSError as exc:
        raise StoreIOError(target, exc) from exc


def remove_tree(path: Path) -> None:
    """Delete the folder ``path`` and everything in it; an OS refusal is a ``StoreIOError`` naming the file."""
    try:
        _fault("rmtree", path)
        shutil.rmtree(path)
    except OSError as exc:
        name = exc.filename
        if name is None or os.path.isabs(name):
            raise StoreIOError(name or path, exc) from exc
        # rmtree removes by descriptor: the file is named relative to a folder somewhere below ``path``
        raise StoreIOError(path, OSError(exc.errno, f"{exc.strerror} (removing {name!r})")) from exc


@contextlib.contextmanager
def os_errors(path: Path) -> Iterator[None]:
    """Turn an ``OSError`` of the block (not already a ``StoreIOError``) into a ``StoreIOError`` naming a file."""
    try:
        yield
    except StoreIOError:
        raise
    except OSError as exc:
        raise StoreIOError(exc.filename or path, exc) from exc


def _fsync_at(path: Path, flags: int) -> None:
    fd = os.open(path, flags | os.O_RDONLY | _O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make the entries of ``folder`` (new and renamed files) durable; ``StoreIOError`` on failure."""
    try:
        _fault("dirfsync", folder)
        _fsync_at(folder, _O_DIRECTORY)
    except StoreIOError:
        raise
    except OSError as exc:
        raise StoreIOError(folder, exc) from exc


def fsync_file(path: Path) -> None:
    """Make a file written without a sync durable (an absent one is skipped); ``StoreIOError`` on failure."""
    try:
        _fsync_at(path, 0)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreIOError(path, exc) from exc


def _mode_of(target: Path) -> int | None:
    try:
        return os.stat(target, follow_symlinks=False).st_mode & 0o7777
    except FileNotFoundError:
        return None


def _write_all(fd: int, data: bytes | Sequence[bytes]) -> None:
    """Write ``data`` (bytes, or chunks one after the other) to ``fd`` whole: ``os.write`` may write less."""
    for chunk in (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data:
        view = memoryview(chunk)
        while view:
            written = os.write(fd, view)
            view = view[written:]


def atomic_write(target: Path, data: bytes | Sequence[bytes], *, durable: bool,
                 sync_dir: bool = True) -> os.stat_result:
    """Replace ``target`` by ``data`` (bytes, or a sequence of chunks written one after the other) atomically;
    returns the stat of the new file. Chunks spare a caller the one big join of a large file: each join is a C
    call holding the GIL while it touches every page of fresh memory (in a Firecracker VM 11 µs a page: 70 ms
    for the 23 MB users-list cache), and ``os.write`` releases the GIL.

    On any failure the temporary file is removed, ``target`` is untouched and ``StoreIOError`` names it. That
    includes the folder's fsync, which comes after the rename: a durable write keeps a link to the old file
    until then and puts it back if the fsync fails (a new file is removed), so a write that raised is absent.
    """
    tmp = temp_name(target)
    keep: Path | None = None
    fd = -1
    try:
        _fault("open", tmp)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, 0o666)
        mode = _mode_of(target)
        if mode is not None:
            os.fchmod(fd, mode)
        _fault("write", tmp)
        _write_all(fd, data)
        # Caches validate a file by (inode, size, mtime). ext4 reuses a freed inode number at once and stamps
        # new files with a coarse clock, so two versions written within one tick could look identical;
        # a unique, fine-grained mtime per write rules that out.
        os.utime(fd, ns=_unique_ns())
        if durable:
            _fault("fsync", tmp)
            os.fsync(fd)
        stat = os.fstat(fd)
        os.close(fd)
        fd = -1
        if durable and sync_dir and mode is not None:
            keep = temp_name(target)
            os.link(target, keep, follow_symlinks=False)
        _fault("replace", target)
        if not durable and mode is not None and _exchange(tmp, target):
            with contextlib.suppress(OSError):  # the old version, now under the temporary name
                os.unlink(tmp)
        else:
            os.replace(tmp, target)
    except OSError as exc:
        if fd >= 0:
            os.close(fd)
        for path in (tmp, keep):
            if path is not None:
                with contextlib.suppress(OSError):
                    os.unlink(path)
        raise StoreIOError(target, exc) from exc
    if durable and sync_dir:
        try:
            fsync_dir(target.parent)
        except StoreIOError:
            with contextlib.suppress(OSError):
                os.replace(keep, target) if keep is not None else os.unlink(target)
            raise
        if keep is not None:
            with contextlib.suppress(OSError):
                os.unlink(keep)
    return stat


_RENAME_EXCHANGE = 2
_renameat2: Any = None


def _exchange(tmp: Path, target: Path) -> bool:
    """Swap two existing names atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where the system or the
    file system cannot. A plain rename over a file whose new data is not yet on disk makes ext4 start writing
    that data at once (``auto_da_alloc``), which costs four times the rename; an exchange does not. Used for
    writes that are not synced anyway (the journal covers them): readers see the old file or the new one."""
    global _renameat2
    if _renameat2 is None:
        try:
            _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
            _renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        except (OSError, AttributeError):
            _renameat2 = False
    if _renameat2 is False:
        return False
    if _renameat2(-100, os.fsencode(tmp), -100, os.fsencode(target), _RENAME_EXCHANGE) == 0:  # AT_FDCWD
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOENT):
        return False  # this file system cannot exchange (or the old file just went): rename instead
    raise OSError(code, os.strerror(code), str(target))


def user_cache_folder(name: str) -> Path:
    """``name`` in the user's cache folder for memgui (``$XDG_CACHE_HOME/memgui``, else ``~/.cache/memgui``):
    derived data kept outside a store (not created here)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "memgui" / name


def read_bytes(path: Path) -> bytes | None:
    """The content of a regular file; None if it does not exist. Symlinks and oversize files are damage."""
    found = read_bytes_keyed(path)
    return None if found is None else found[0]


def open_for_reading(path: Path) -> int | None:
    """A read-only descriptor of ``path``, never through a symbolic link; None if it does not exist. A link
    or a folder in its place is damage (``CorruptDataError``); any other refusal a ``StoreIOError``."""
    try:
        return os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CorruptDataError(path, "is a symbolic link; the store does not follow links") from None
        if exc.errno == errno.EISDIR:
            raise CorruptDataError(path, "is a directory, not a file") from None
        raise StoreIOError(path, exc) from exc


def read_bytes_keyed(path: Path) -> tuple[bytes, tuple[int, int, int]] | None:
    """Like ``read_bytes``, with the ``stat_key`` of exactly the file that was read."""
    fd = open_for_reading(path)
    if fd is None:
        return None
    try:
        stat = os.fstat(fd)
        if not stat_mod.S_ISREG(stat.st_mode):
            raise CorruptDataError(path, "is not a regular file")
        if stat.st_size > MAX_FILE_BYTES:
            raise CorruptDataError(path, f"is {stat.st_size} bytes, over the {MAX_FILE_BYTES} byte limit")
        chunks = []
        while True:
            chunk = os.read(fd, max(stat.st_size + 1, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            if sum(map(len, chunks)) > MAX_FILE_BYTES:
                raise CorruptDataError(path, f"grew over the {MAX_FILE_BYTES} byte limit while read")
        return b"".join(chunks), (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    except OSError as exc:
        raise StoreIOError(path, exc) from exc
    finally:
        os.close(fd)


def stat_key(path: Path) -> tuple[int, int, int] | None:
    """Identity of a file's current content for caches: (inode, size, mtime_ns); None if absent."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def append_bytes(path: Path, data: bytes, *, durable: bool) -> tuple[int, int, int]:
    """Append ``data`` (whole lines) to ``path``, first cutting off a torn last line a crash left behind.

    On failure the file is cut back to its old length and ``StoreIOError`` raised. Returns the stat key.
    """
    try:
        _fault("open", path)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | _O_NOFOLLOW | _O_CLOEXEC, 0o666)
    except OSError as exc:
        raise StoreIOError(path, exc) from exc
    size = -1
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            _fault("truncate", path)
            size = _last_newline_end(fd, size)
            os.ftruncate(fd, size)
        _fault("write", path)
        _write_all(fd, data)
        if durable:
            _fault("fsync", path)
            os.fdatasync(fd) if hasattr(os, "fdatasync") else os.fsync(fd)
        st = os.fstat(fd)
        return (st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError as exc:
        if size >= 0:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
        raise StoreIOError(path, exc) from exc
    finally:
        os.close(fd)


def write_at(fd: int, path: Path, data: bytes, offset: int, *, durable: bool, cut: bool, slack: int = 0) -> None:
    """Write ``data`` at ``offset`` of an open file (the end of its content; past it there may be zero padding
    that this overwrites), first cutting the file at ``offset`` when ``cut`` (a torn tail is there). On failure
    the bytes from ``offset`` are zeroed or cut again and ``StoreIOError`` raised. When ``data`` reaches past
    the end of the file, ``slack`` zero bytes follow it: the appends after it then change neither the file's
    size nor its blocks, and their fdatasync writes the data alone.

    Nothing here asks for the file's timestamps (no ``stat``): on Linux 6.13+ (multigrain timestamps) a query
    makes the next write stamp the inode with a fine-grained time, and its fdatasync then costs about 1.4x
    as much. The size comes from ``lseek``, which reads no timestamp."""
    size = -1
    try:
        size = os.lseek(fd, 0, os.SEEK_END)
        if cut and size > offset:
            _fault("truncate", path)
            os.ftruncate(fd, offset)
            size = offset
        if slack and offset + len(data) > size:
            data += bytes(slack)
        _fault("write", path)
        view, at = memoryview(data), offset
        while view:
            written = os.pwrite(fd, view, at)
            view, at = view[written:], at + written
        if durable:
            _fault("fsync", path)
            os.fdatasync(fd) if hasattr(os, "fdatasync") else os.fsync(fd)
    except OSError as exc:
        if size >= 0:
            with contextlib.suppress(OSError):
                if size > offset:  # padded: put the zeros back
                    os.pwrite(fd, bytes(min(len(data), size - offset)), offset)
                os.ftruncate(fd, max(size, offset))
        raise StoreIOError(path, exc) from exc


def _last_newline_end(fd: int, size: int) -> int:
    """Offset just after the last b'\\n' before ``size`` (0 if none)."""
    pos = size
    while pos > 0:
        start = max(0, pos - 65536)
        block = os.pread(fd, pos - start, start)
        idx = block.rfind(b"\n")
        if idx >= 0:
            return start + idx + 1
        pos = start
    return 0


def complete_lines(data: bytes) -> list[bytes]:
    """The newline-terminated lines of ``data``; an unterminated tail (a write in flight) is left out."""
    end = data.rfind(b"\n")
    if end < 0:
        return []
    return data[:end].split(b"\n")


def tail_lines(path: Path, count: int) -> list[bytes]:
    """The last ``count`` complete lines of ``path`` read from the end, oldest first; [] if absent."""
    try:
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StoreIOError(path, exc) from exc
    try:
        size = os.fstat(fd).st_size
        end = _last_newline_end(fd, size)
        pos, buf = end, b""
        while pos > 0 and buf.count(b"\n") <= count:
            start = max(0, pos - 65536)
            buf = os.pread(fd, pos - start, start) + buf
            pos = start
        lines = buf[:-1].split(b"\n") if buf else []
        return lines[-count:] if count else []
    finally:
        os.close(fd)


def remove_stale_temps(folder: Path, prefix: str = ".") -> list[Path]:
    """Delete temporary files in ``folder`` whose names start with ``prefix``; the caller holds the lock."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    for entry in entries:
        if is_temp_name(entry.name) and entry.name.startswith(prefix) and not entry.is_dir(follow_symlinks=False):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


class DescriptorBudget:
    """Keeps at most ``limit`` of the store's long-lived descriptors open in this process, least recently used
    closed first. Each user written keeps two (their lock file's and their journal's, so that a message costs
    no ``open``); an assistant writing for 1,000 users hit the usual soft limit of 1,024 open files and every
    write failed with EMFILE. An owner's ``close_if_idle`` closes its descriptor unless it is in use right now
    (then it stays open a while longer); the owner reopens it on its next use."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._recent: OrderedDict[int, weakref.ref[Any]] = OrderedDict()
        self._mutex = threading.Lock()

    def used(self, owner: Any) -> None:
        """``owner`` (with ``close_if_idle()``) has just used its open descriptor."""
        victims = []
        with self._mutex:
            key = id(owner)
            self._recent[key] = weakref.ref(owner)
            self._recent.move_to_end(key)
            while len(self._recent) > self.limit:
                victim = self._recent.popitem(last=False)[1]()
                if victim is not None:
                    victims.append(victim)
        for victim in victims:  # outside the mutex: a victim may be waiting for it while it holds its own lock
            victim.close_if_idle()


def _descriptor_limit() -> int:
    """A quarter of the process's soft limit on open files (at most 256), leaving the rest to the program."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):  # pragma: no cover - Windows
        return 256
    return 256 if soft == resource.RLIM_INFINITY else max(16, min(256, soft // 4))


#: The budget every lock file and journal of the process shares.
DESCRIPTORS = DescriptorBudget(_descriptor_limit())


def close_quietly(fd: int) -> None:
    """Close a descriptor, ignoring errors (a finalizer's job)."""
    with contextlib.suppress(OSError):
        os.close(fd)


class Lock:
    """An exclusive lock between processes and threads on a lock file that is never deleted.

    POSIX: ``fcntl.flock`` on a descriptor kept open for the life of the object (reopened after a fork),
    behind a thread lock, polled with back-off until ``timeout``. filelock, the usual tool, reopens and
    truncates the lock file on every acquire: 60 us (3.x) to 275 us (4.x) per write and an inode change that
    makes every journal fdatasync commit the file system journal (measured in benchmarks/bench_store.py).
    Elsewhere filelock is used.
    """

    def __init__(self, path: Path, timeout: float, what: str) -> None:
        self._path = path
        self._what = what
        self._timeout = timeout
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd = -1
        self._pid = 0
        self._fallback: Any = None if _HAVE_FCNTL else filelock.FileLock(str(path), timeout=timeout)

    def _descriptor(self) -> int:
        if self._fd < 0 or self._pid != os.getpid():
            try:
                fd = os.open(self._path, os.O_RDWR | os.O_CREAT | _O_CLOEXEC | _O_NOFOLLOW, 0o666)
            except FileNotFoundError:  # the first lock of a store: make the locks folder
                self._path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self._path, os.O_RDWR | os.O_CREAT | _O_CLOEXEC | _O_NOFOLLOW, 0o666)
            self._fd, self._pid = fd, os.getpid()
            # A store that is never closed still gives its descriptors back when it is collected.
            self._finalizer = weakref.finalize(self, close_quietly, fd)
            self._finalizer.atexit = False  # at exit the OS closes it; the flush at exit still needs it
        DESCRIPTORS.used(self)
        return self._fd

    def _acquire(self, timeout: float) -> bool:
        """True once held; False when ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        if not self._thread_lock.acquire(timeout=timeout if timeout > 0 else 0):
            return False
        if self._depth:
            self._depth += 1
            return True
        try:
            if self._fallback is not None:
                try:
                    self._fallback.acquire(timeout=max(0.0, deadline - time.monotonic()), poll_interval=0.001)
                except filelock.Timeout:
                    self._thread_lock.release()
                    return False
            else:
                # flock has no timeout: poll, starting fast (locks are held for a millisecond or so) and backing
                # off to 2 ms, which keeps a waiting writer responsive without spinning.
                fd, pause = self._descriptor(), 0.0001
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= deadline:
                            self._thread_lock.release()
                            return False
                        time.sleep(pause)
                        pause = min(pause * 2, 0.002)
        except OSError as exc:
            self._thread_lock.release()
            raise StoreIOError(self._path, exc) from exc
        self._depth = 1
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            if self._fallback is not None:
                self._fallback.release()
            else:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        if not self._acquire(self._timeout):
            raise LockTimeoutError(
                f"waited {self._timeout:g} s for the lock on {self._what} ({self._path}); another process "
                "is holding it"
            )
        try:
            yield
        finally:
            self.release()

    def close_if_idle(self) -> None:
        self.close()

    def close(self) -> None:
        """Close the lock file's descriptor if the lock is not held (it is reopened on the next acquire)."""
        if self._thread_lock.acquire(blocking=False):
            try:
                if self._depth == 0 and self._fd >= 0:
                    self._finalizer()  # closes the descriptor, once
                    self._fd = -1
            finally:
                self._thread_lock.release()

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; False at once otherwise. Pair with ``release``."""
        return self._acquire(0)
