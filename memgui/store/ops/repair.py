"""``repair``: act on what ``verify`` reports, under the same locks the store's writers take.

A damaged file is never deleted: it is first kept aside in ``DATA_DIR/.memgui/quarantine/<user folder>/``
(``.store/`` for store-wide files) as ``<UTC time>-<name>``, hard-linked so its bytes stay exactly what they
were (sealed with the store's key in an encrypted store, so the quarantine never holds plaintext). Then:

* a document is replaced by its newest good backup (``<user>/.memgui/backups/``, ``DATA_DIR/.memgui/backups/``),
  or removed when there is none: the kind is then absent, as for a user who never had it;
* ``users_index.json`` is rebuilt from the user folders (exact, unlike an older backup);
* a log (archive, fact versions) or the journal keeps every line that still reads; the journal gets a fresh
  header if its own was lost;
* metrics are recounted from the stored messages when they are absent or trail them (``recount_metrics``);
* unfinished journal records, half-written lines and temporary files are finished or removed by the store's
  own recovery, which every writer runs first.

Orphan folders and interrupted migrations are reported, not touched. The result lists what was done and
what is left (from a second ``verify``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from memgui.store import fileio
from memgui.store.backends.json.journal import SEQ_KEY
from memgui.store.backends.json.layout import Layout
from memgui.store.backends.json.merge import file_seq
from memgui.store.backends.json.store import JsonMemoryStore
from memgui.store.codec import parse_json
from memgui.store.config import build_config
from memgui.store.documents import SHAPE_CHECKS, USER_FILES, USER_LOGS, check_global, check_message
from memgui.store.errors import CorruptDataError, StoreIOError
from memgui.store.ids import folder_for, is_user_folder_name
from memgui.store.ops.verify import (
    BEHIND,
    DAMAGED,
    DAMAGED_BACKUP,
    INDEX,
    METRICS,
    MIGRATION,
    NEWER,
    NO_SETTINGS,
    ORPHAN,
    TEMP,
    TORN,
    UNFINISHED,
    Problem,
    any_sealed,
    check_user_id,
    verify_store,
)

STORE_PLACE = ".store"  # quarantine folder of store-wide files (never a user folder name)
_DOC_KINDS = {name: kind for kind, name in USER_FILES.items()}


@dataclasses.dataclass
class RepairReport:
    """What ``repair_store`` did (``actions``) and the problems still there afterwards (``left``)."""

    root: Path
    actions: list[str] = dataclasses.field(default_factory=list)
    left: list[Problem] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.left


def repair_store(root: Path | str, passphrase: str | None = None, user: str | None = None,
                 *, lock_timeout: float = 10.0) -> RepairReport:
    """Repair the store at ``root`` (only ``user``'s folder when given). ``passphrase``: ENCRYPTION_KEY."""
    return _Repairer(Path(root).absolute(), passphrase, user, lock_timeout).run()


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


class _Repairer:
    def __init__(self, root: Path, passphrase: str | None, user: str | None, lock_timeout: float) -> None:
        self.root = root
        self.layout = Layout(root)
        self.passphrase = passphrase
        self.folder = folder_for(user) if user is not None else None
        self.user = user
        self.timeout = lock_timeout
        self.report = RepairReport(root)
        self.store: JsonMemoryStore | None = None

    def _mine(self, problem: Problem) -> bool:
        return self.folder is None or problem.folder == self.folder

    def _problems(self) -> list[Problem]:
        return [p for p in verify_store(self.root, self.passphrase).problems if self._mine(p)]

    def did(self, text: str) -> None:
        self.report.actions.append(text)

    # -- the whole run -----------------------------------------------------------------------------
    def run(self) -> RepairReport:
        problems = self._problems()
        if self.folder is None and any(p.path == self.layout.settings for p in problems
                                       if p.code in (DAMAGED, NO_SETTINGS)):
            self._repair_settings(problems)
            problems = self._problems()
            if any(p.path == self.layout.settings and p.code in (DAMAGED, NO_SETTINGS) for p in problems):
                self.report.left = problems
                return self.report
        self.store = JsonMemoryStore(build_config({"DATA_DIR": self.root, "ENCRYPTION_KEY": self.passphrase,
                                                   "ENCRYPTION_ENABLED": False, "LOCK_TIMEOUT": self.timeout}))
        try:
            self._files(problems)
            self._derived(self._problems())
            for problem in problems:
                if problem.code in (ORPHAN, MIGRATION, NEWER):
                    self.did(f"left alone: {problem}")
        finally:
            self.store.close()
        self.report.left = self._problems()
        return self.report

    def _files(self, problems: list[Problem]) -> None:
        """First pass: damaged files, links and temporary files, each under its owner's lock."""
        by_folder: dict[str | None, list[Problem]] = {}
        newer = {p.folder for p in problems if p.code == NEWER}
        for problem in problems:
            if problem.code in (DAMAGED, DAMAGED_BACKUP, TEMP, TORN) and problem.folder not in newer:
                by_folder.setdefault(problem.folder, []).append(problem)
        for folder, items in by_folder.items():
            if folder is None:
                for problem in items:
                    with self._lock_for(problem.path):
                        self._fix_store_file(problem)
            else:
                with self._user_lock(folder):
                    for problem in sorted(items, key=_order):
                        self._fix_user_file(folder, problem)

    def _derived(self, problems: list[Problem]) -> None:
        """Second pass, on a fresh verify: journals, metrics and the index."""
        assert self.store is not None
        newer = {p.folder for p in problems if p.code == NEWER}  # a newer memgui's folder: not touched
        problems = [p for p in problems if p.folder not in newer]
        for folder in sorted({p.folder for p in problems if p.folder and p.code in (UNFINISHED, TORN, TEMP)}):
            user_id = self.store.folder_id(folder)
            if user_id is not None:
                self.store.recover_user(user_id)
                self.did(f"{folder}: finished what a killed writer left (journal records, temporary files)")
        for folder in sorted({p.folder for p in problems if p.folder and p.code == BEHIND}):
            user_id = self.store.folder_id(folder)
            if user_id is not None:
                count = self.store.checkpoint(user_id)
                self.did(f"{folder}: wrote {count} journaled message(s) into the history and metrics files")
        for folder in sorted({p.folder for p in problems if p.folder and p.code == METRICS}):
            user_id = self.store.folder_id(folder)
            if user_id is not None:
                metrics = self.store.recount_metrics(user_id)
                self.did(f"{folder}: recounted the metrics from the stored messages "
                         f"(message_count {metrics.get('message_count')})")
        if self.folder is None and any(p.code == INDEX or (p.code == DAMAGED and p.path == self.layout.index)
                                       for p in problems):
            self._rebuild_index()
        for problem in problems:
            if problem.code == TEMP and problem.path.exists():
                with self._lock_for(problem.path):
                    self._remove_temp(problem.path)

    # -- locks -------------------------------------------------------------------------------------
    def _user_lock(self, folder: str) -> contextlib.AbstractContextManager[None]:
        assert self.store is not None
        return self.store.lock(self.layout.user_lock(folder), f"user folder {folder!r}").held()

    def _lock_for(self, path: Path) -> contextlib.AbstractContextManager[None]:
        """The lock of the writers of a store-wide file (or of its backup or temporary file)."""
        name = path.name
        if fileio.is_temp_name(name):
            name = name[1:].rsplit(".", 2)[0]
        if name == self.layout.settings.name:
            return fileio.Lock(self.layout.settings_lock, self.timeout, "the store settings").held()
        assert self.store is not None
        if name == self.layout.global_context.name:
            return self.store.lock(self.layout.global_lock, "the global context").held()
        return self.store.lock(self.layout.index_lock, "the users index").held()

    # -- keeping a file aside ----------------------------------------------------------------------
    def quarantine(self, path: Path, folder: str | None) -> Path:
        """Keep ``path`` in the quarantine; the original stays where it is (or is gone if it had to be
        moved). Returns where it was kept."""
        place = self.layout.quarantine / (folder or STORE_PLACE)
        place.mkdir(parents=True, exist_ok=True)
        base = self.root / folder if folder else self.root
        rel = path.relative_to(base).as_posix().replace("/", "%")
        target = place / f"{_stamp()}-{rel}"
        codec = self.store.codec if self.store is not None else None
        data = None
        if codec is not None and codec.encrypted:
            with contextlib.suppress(CorruptDataError):
                data = fileio.read_bytes(path)
        if data is not None:
            assert codec is not None
            fileio.atomic_write(target, codec.seal_blob(data, target.name), durable=True)
        else:
            try:
                os.link(path, target, follow_symlinks=False)
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, errno.EISDIR):
                    raise StoreIOError(path, exc) from exc
                os.rename(path, target)
            fileio.fsync_dir(place)
        return target

    def _kept(self, path: Path, folder: str | None) -> str:
        target = self.quarantine(path, folder)
        return f"kept {path} aside as {target.relative_to(self.root)}"

    @staticmethod
    def _remove(path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        fileio.fsync_dir(path.parent)

    # -- user files --------------------------------------------------------------------------------
    def _fix_user_file(self, folder: str, problem: Problem) -> None:
        path, user_dir = problem.path, self.root / folder
        if problem.code == TEMP:
            self._remove_temp(path)
            return
        if problem.code == TORN:
            self._cut_torn(path)
            return
        if not _lexists(path):
            return
        kept = self._kept(path, folder)
        if path == user_dir:
            self._remove(path)
            self.did(f"{kept}; the folder was a link, removed")
            return
        if problem.code == DAMAGED_BACKUP:
            self._remove(path)
            self.did(f"{kept}; a damaged backup, removed")
            return
        if path.name in _DOC_KINDS and path.parent == user_dir:
            self._restore_doc(path, user_dir, folder, kept)
        elif path.name in USER_LOGS.values() and path.parent == user_dir:
            self.did(f"{kept}; {self._salvage_log(path)}")
        elif path == self.layout.journal(user_dir):
            self.did(f"{kept}; {self._salvage_journal(path, user_dir)}")
        elif path == self.layout.user_id_file(user_dir):
            backups = [self.layout.user_backups(user_dir) / "user_id", path.parent / ".memgui" / "backups" / "user_id"]
            self._restore_plain(path, backups, check_user_id, kept)
        else:
            self._remove(path)
            self.did(f"{kept}; removed")

    def _cut_torn(self, path: Path) -> None:
        """Cut the half-written last line a killed writer left (it was never acknowledged)."""
        data = fileio.read_bytes(path) or b""
        end = data.rfind(b"\n") + 1
        if end < len(data):
            os.truncate(path, end)
            self.did(f"cut the half-written last line of {path.relative_to(self.root)} ({len(data) - end} bytes)")

    def _good_copy(self, candidates: list[Path], check: Any) -> tuple[bytes, Any] | None:
        """The newest candidate that reads back and passes ``check``: (bytes, document)."""
        assert self.store is not None
        good = []
        for candidate in candidates:
            try:
                data = fileio.read_bytes(candidate)
                if data is None:
                    continue
                doc = self.store.codec.decode_doc(data, candidate)
                check(candidate, doc)
            except (CorruptDataError, StoreIOError):
                continue
            good.append((os.stat(candidate).st_mtime_ns, data, doc))
        if not good:
            return None
        _, data, doc = max(good, key=lambda item: item[0])
        return data, doc

    def _restore_plain(self, path: Path, backups: list[Path], check: Any, kept: str) -> Any:
        """Replace ``path`` by its newest good backup, or remove it; returns the restored document."""
        copy = self._good_copy(backups, check)
        if copy is None:
            self._remove(path)
            self.did(f"{kept}; no good backup, removed")
            return None
        fileio.atomic_write(path, copy[0], durable=True)
        self.did(f"{kept}; restored its backup")
        return copy[1]

    def _restore_doc(self, path: Path, user_dir: Path, folder: str, kept: str) -> None:
        assert self.store is not None
        kind = _DOC_KINDS[path.name]
        doc = self._restore_plain(path, [self.layout.user_backups(user_dir) / path.name], SHAPE_CHECKS[kind], kept)
        if doc is None or kind not in ("history", "metrics"):
            return
        journal = self.store.files.journal(user_dir).read()
        if file_seq(doc, journal.base) < journal.base:
            # The backup predates the journal's base: it cannot claim messages the journal no longer holds.
            self.store.files.put_doc(user_dir, kind, {**doc, SEQ_KEY: journal.base}, durable=True)
            self.did(f"{folder}: the restored {path.name} is older than the journal; messages written between "
                     "the backup and the damage may be missing from it")

    def _salvage_log(self, path: Path) -> str:
        assert self.store is not None
        data = fileio.read_bytes(path) or b""
        kept, dropped = [], 0
        for number, line in enumerate(fileio.complete_lines(data), 1):
            try:
                entry = self.store.codec.decode_line(line, path, number)
                if not isinstance(entry, dict):
                    raise CorruptDataError(path, "not an object")
                if path.name == USER_LOGS["archive"]:
                    check_message(path, "an archived message", entry)
            except CorruptDataError:
                dropped += 1
                continue
            kept.append(line + b"\n")
        fileio.atomic_write(path, b"".join(kept), durable=True)
        return f"kept its {len(kept)} readable line(s), dropped {dropped}"

    def _salvage_journal(self, path: Path, user_dir: Path) -> str:
        assert self.store is not None
        codec = self.store.codec
        data = fileio.read_bytes(path) or b""
        header: bytes | None = None
        records: list[tuple[int, bytes]] = []
        dropped = 0
        for number, line in enumerate(fileio.complete_lines(data), 1):
            try:
                value = codec.decode_line(line, path, number)
            except CorruptDataError:
                dropped += 1
                continue
            if number == 1 and isinstance(value, dict) and "journal" in value:
                header = line
            elif isinstance(value, dict) and isinstance(value.get("done"), int):
                records.append((value["done"], line))
            elif isinstance(value, dict) and isinstance(value.get("seq"), int) and (
                    "puts" in value or isinstance(value.get("msg"), dict)):
                records.append((value["seq"], line))
            else:
                dropped += 1
        if header is None:
            base = min((seq for seq, _ in records), default=None)
            if base is None:
                files = [self.store.files.load_doc(user_dir, kind) for kind in ("history", "metrics")]
                base = max(file_seq(doc, 0) for doc in files)
            else:
                base -= 1
            header = codec.encode_line({"journal": 2, "boot": None, "base": base}, path)[:-1]
        fileio.atomic_write(path, b"".join(line + b"\n" for line in [header, *(r for _, r in records)]),
                            durable=True)
        return f"kept its {len(records)} readable record(s), dropped {dropped}"

    # -- store-wide files --------------------------------------------------------------------------
    def _fix_store_file(self, problem: Problem) -> None:
        path = problem.path
        if path.is_relative_to(self.layout.quarantine) and problem.code != TEMP:
            self.did(f"left alone (kept files are never touched): {problem}")
            return
        if problem.code == TEMP:
            self._remove_temp(path)
            return
        if not _lexists(path):
            return
        kept = self._kept(path, None)
        if problem.code == DAMAGED_BACKUP:
            self._remove(path)
            self.did(f"{kept}; a damaged backup, removed")
        elif path == self.layout.global_context:
            self._restore_plain(path, [self.layout.backups / path.name], check_global, kept)
        elif path == self.layout.index:
            self._remove(path)
            self.did(f"{kept}; removed (rebuilt from the folders below)")
        else:
            self._remove(path)
            self.did(f"{kept}; removed")

    def _rebuild_index(self) -> None:
        assert self.store is not None
        with self._lock_for(self.layout.index):
            names = []
            for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=False) and is_user_folder_name(entry.name):
                    with contextlib.suppress(CorruptDataError):
                        if self.store.folder_id(entry.name) is not None:
                            names.append(entry.name)
            self.store.files.put(self.layout.index, {"users": names}, durable=True)
        self.did(f"rebuilt {self.layout.index.name} from the {len(names)} user folder(s)")

    def _remove_temp(self, path: Path) -> None:
        if _lexists(path):
            self._remove(path)
            self.did(f"removed the temporary file {path.relative_to(self.root)}")

    def _repair_settings(self, problems: list[Problem]) -> None:
        """The settings hold the wrapped keys: restore their backup; without one, only a store holding no
        encrypted file can do without them."""
        path, backup = self.layout.settings, self.layout.backups / self.layout.settings.name
        with fileio.Lock(self.layout.settings_lock, self.timeout, "the store settings").held():
            kept = self._kept(path, None) if _lexists(path) else "the settings are missing"
            data = None
            with contextlib.suppress(CorruptDataError, StoreIOError):
                data = fileio.read_bytes(backup)
                if data is not None and not isinstance(parse_json(data, backup), dict):
                    data = None
            if data is not None:
                fileio.atomic_write(path, data, durable=True)
                self.did(f"{kept}; restored its backup")
            elif any(p.code == NO_SETTINGS for p in problems) or any_sealed(self.layout):
                self.did(f"{kept}; no good backup: the encrypted files cannot be read without the settings")
            else:
                self._remove(path)
                self.did(f"{kept}; no good backup, removed (the store holds no encrypted file)")


def _order(problem: Problem) -> int:
    """Journal first (restored history and metrics compare with its base), temporary files last."""
    if problem.path.name == "journal":
        return 0
    return 2 if problem.code == TEMP else 1


def _lexists(path: Path) -> bool:
    return os.path.lexists(path)
