"""``verify``: a read-only check of a whole store that reports every problem it finds.

It reads every file the way the store would (strict JSON, shape checks, decryption when a passphrase is
given) and compares the pieces with each other: the users index with the folders, the metrics with the
messages, the journal with its done markers. It never writes, creates or locks anything, so it works on a
read-only folder and while the assistant runs (a file replaced meanwhile may then show as a transient
problem; run it again). ``repair.py`` acts on the problems it reports.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memgui.store import fileio, keyring
from memgui.store.backends.json.journal import Journal, MessageRecord, journal_content
from memgui.store.backends.json.layout import Layout
from memgui.store.backends.json.merge import file_seq
from memgui.store.codec import ENC_PREFIX, Codec, parse_json
from memgui.store.documents import (
    SHAPE_CHECKS,
    USER_FILES,
    USER_LOGS,
    check_global,
    check_index,
    check_message,
    message_id,
)
from memgui.store.errors import CorruptDataError, NewerFormatError, StoreIOError
from memgui.store.ids import folder_for, id_from_folder, is_hashed_folder, is_user_folder_name

#: Problem codes. Every code but the notes makes ``verify`` exit non-zero.
DAMAGED = "damaged"  # a data or bookkeeping file that cannot be read back
DAMAGED_BACKUP = "damaged-backup"  # a backup copy that could not be restored from
ORPHAN = "orphan-folder"  # a folder in DATA_DIR that is no user's (a hashed folder without its id...)
INDEX = "index-mismatch"  # users_index.json disagrees with the folders
TEMP = "temp-file"  # a temporary file a killed writer left
TORN = "torn-line"  # a log or journal ends in a half-written line (a writer was killed)
UNFINISHED = "unfinished-journal"  # journal records whose files may not all have been written
NEWER = "newer-format"  # written by a newer memgui: left alone
BEHIND = "files-behind"  # journaled messages the history or metrics file does not show yet
METRICS = "metrics-trail"  # message_count is lower than the number of messages stored
MIGRATION = "migration"  # an encryption migration was interrupted
NO_SETTINGS = "settings-missing"  # encrypted files but no settings to decrypt them with

Check = Callable[[Path, Any], None]
_DOC_CHECKS: dict[str, Check] = {name: SHAPE_CHECKS[kind] for kind, name in USER_FILES.items()}


@dataclasses.dataclass(frozen=True)
class Problem:
    """One problem: what (``code``), where (``path``), why (``detail``), and whose (``folder``, the user
    folder name, None for store-wide files)."""

    code: str
    path: Path
    detail: str
    folder: str | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.path}: {self.detail}"


@dataclasses.dataclass
class Report:
    """What ``verify_store`` found; ``problems`` empty means a healthy store."""

    root: Path
    encrypted: bool = False
    contents_checked: bool = True
    users: list[str] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, code: str, path: Path, detail: str, folder: str | None = None) -> None:
        self.problems.append(Problem(code, path, detail, folder))

    def lines(self) -> list[str]:
        out = [str(p) for p in self.problems] + [f"note: {n}" for n in self.notes]
        state = "OK" if self.ok else f"{len(self.problems)} problem(s)"
        out.append(f"{self.root}: {len(self.users)} user(s), {state}")
        return out


def verify_store(root: Path | str, passphrase: str | None = None) -> Report:
    """Check every file of the store at ``root``. ``passphrase`` (ENCRYPTION_KEY) lets it check the
    contents of an encrypted store; without it only the structure is checked. A wrong passphrase raises
    ``EncryptionError``."""
    return _Verifier(Path(root).absolute(), passphrase).run()


def _exists(path: Path) -> bool:
    return os.path.lexists(path)


class _Verifier:
    def __init__(self, root: Path, passphrase: str | None) -> None:
        self.root = root
        self.layout = Layout(root)
        self.passphrase = passphrase
        self.report = Report(root)
        self.codec: Codec | None = Codec()  # None: encrypted and no passphrase, contents not checked
        self.key_ids: set[str] = set()

    # -- reading one file --------------------------------------------------------------------------
    def _read(self, path: Path, folder: str | None) -> bytes | None:
        """The bytes of a file, or None (absent, or reported as damaged)."""
        try:
            return fileio.read_bytes(path)
        except (CorruptDataError, StoreIOError) as exc:
            self.report.add(DAMAGED, path, getattr(exc, "reason", None) or str(exc), folder)
            return None

    def _sealed_ok(self, data: bytes, path: Path, folder: str | None, code: str = DAMAGED) -> None:
        """Without the passphrase: a file of an encrypted store must at least be sealed with a known key."""
        for line in (data.splitlines() or [b""]):
            if not line.startswith(ENC_PREFIX):
                self.report.add(code, path, "is not encrypted, but this store is", folder)
                return
            key_id = line[len(ENC_PREFIX) :].split(b".", 1)[0].decode("ascii", "replace")
            if self.key_ids and key_id not in self.key_ids:  # (no key ids: the settings are unreadable)
                self.report.add(code, path, f"is sealed with an unknown key {key_id!r}", folder)
                return

    def doc(self, path: Path, check: Check, folder: str | None, code: str = DAMAGED) -> Any:
        """The decoded, shape-checked document at ``path``; None when absent, damaged or not checkable."""
        data = self._read(path, folder)
        if data is None:
            return None
        if self.codec is None:
            self._sealed_ok(data, path, folder, code)
            return None
        try:
            value = self.codec.decode_doc(data, path)
            check(path, value)
        except CorruptDataError as exc:
            self.report.add(code, path, exc.reason, folder)
            return None
        return value

    def log(self, path: Path, folder: str, check_entry: Check | None) -> list[dict[str, Any]] | None:
        """Every complete entry of a log file ([] when absent, None when damaged)."""
        data = self._read(path, folder)
        if data is None:
            return None if _exists(path) else []
        if data and not data.endswith(b"\n"):
            self.report.add(TORN, path, "ends in a half-written line; the next write of this user cuts it", folder)
        lines = fileio.complete_lines(data)
        if self.codec is None:
            self._sealed_ok(b"\n".join(lines), path, folder)
            return None
        entries = []
        try:
            for number, line in enumerate(lines, 1):
                entry = self.codec.decode_line(line, path, number)
                if not isinstance(entry, dict):
                    raise CorruptDataError(path, f"line {number}: should be an object")
                if check_entry is not None:
                    check_entry(path, entry)
                entries.append(entry)
        except CorruptDataError as exc:
            self.report.add(DAMAGED, path, exc.reason, folder)
            return None
        return entries

    # -- the store ---------------------------------------------------------------------------------
    def run(self) -> Report:
        if not self.root.is_dir():
            self.report.add(DAMAGED, self.root, "is not a folder")
            return self.report
        self._settings()
        folders = [name for name in self._root_entries() if self._user(name)]
        self._index(folders)
        self.doc(self.layout.global_context, check_global, None)
        self._backups(self.layout.backups, None)
        self._temps()
        self._quarantine()
        if not self.report.contents_checked:
            self.report.notes.append("encrypted store: set ENCRYPTION_KEY to check the contents of its files")
        return self.report

    def _settings(self) -> None:
        path = self.layout.settings
        try:
            settings = keyring.read_settings(self.layout)
        except (CorruptDataError, StoreIOError) as exc:
            self.report.add(DAMAGED, path, getattr(exc, "reason", str(exc)))
            settings = None
            if any_sealed(self.layout):
                self.codec = None
                self.report.contents_checked = False
        section = keyring.encryption_section(settings)
        if section is None:
            if settings is None and not _exists(path) and any_sealed(self.layout):
                self.report.add(NO_SETTINGS, path, "files are encrypted but the settings that hold their keys "
                                "are missing; restore .memgui/settings.json (repair uses .memgui/backups/)")
                self.codec = None
                self.report.contents_checked = False
            return
        self.report.encrypted = True
        keys = section.get("keys")
        self.key_ids = set(keys) if isinstance(keys, dict) else set()
        migration = section.get("migration")
        if isinstance(migration, dict) and migration.get("kind"):
            command = "encrypt" if migration["kind"] == "encrypt" else "rotate-key"
            self.report.add(MIGRATION, path, f"an interrupted {migration['kind']!r} migration: run "
                            f"`memgui-store {command} {self.root}` again to finish it")
        if self.passphrase:
            try:
                self.codec = Codec(keyring.cipher_from_settings(self.layout, section, self.passphrase))
            except CorruptDataError as exc:
                self.report.add(DAMAGED, path, exc.reason)
                self.codec = None
                self.report.contents_checked = False
        else:
            self.codec = None
            self.report.contents_checked = False

    def _root_entries(self) -> list[str]:
        """The user folder names of DATA_DIR; other folders and links are reported."""
        folders = []
        for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                if is_user_folder_name(entry.name):
                    self.report.add(DAMAGED, path, "is a symbolic link; the store does not follow links",
                                    entry.name)
                continue  # a link named like a file of the store is reported when that file is read
            if not entry.is_dir():
                continue
            if not is_user_folder_name(entry.name):
                self.report.add(ORPHAN, path, "is not the folder of any user id; the store ignores it")
                continue
            folders.append(entry.name)
        return folders

    def _user_id(self, name: str) -> str | None:
        if not is_hashed_folder(name):
            return id_from_folder(name)
        path = self.layout.user_id_file(self.root / name)
        if not _exists(path):
            self.report.add(ORPHAN, self.root / name, "a hashed user folder without its .memgui/user_id file",
                            name)
            return None
        doc = self.doc(path, check_user_id, name)
        if doc is None:
            return None
        if folder_for(doc["user_id"]) != name:
            self.report.add(ORPHAN, self.root / name, ".memgui/user_id names an id of another folder", name)
            return None
        return str(doc["user_id"])

    def _user(self, name: str) -> bool:
        """Check the files of a user folder; whether it is some user's (an orphan is checked too)."""
        folder = self.root / name
        user_id = self._user_id(name)
        if user_id is not None:
            self.report.users.append(user_id)
        docs = {file: self.doc(folder / file, check, name) for file, check in _DOC_CHECKS.items()}
        archive = self.log(folder / USER_LOGS["archive"], name, _check_archive_entry)
        self.log(folder / USER_LOGS["fact_versions"], name, None)
        self._journal(folder, name, docs, archive)
        self._backups(self.layout.user_backups(folder), name)
        return user_id is not None

    def _journal(self, folder: Path, name: str, docs: dict[str, Any], archive: list[dict[str, Any]] | None) -> None:
        path = self.layout.journal(folder)
        if not _exists(path):
            self._metrics(folder, name, docs, archive, [], 0)
            return
        data = self._read(path, name)
        if data is None:
            return
        data = journal_content(data)  # a busy user's journal is padded with zeros
        if data and not data.endswith(b"\n"):
            self.report.add(TORN, path, "ends in a half-written record (a writer was killed); the next write "
                            "of this user cuts it", name)
        if self.codec is None:
            self._sealed_ok(b"\n".join(fileio.complete_lines(data)), path, name)
            return
        journal = Journal(path, self.codec)
        try:
            state = journal.read()
            for record in state.messages:
                check_message(path, f"record {record['seq']}", record.get("msg"))
        except NewerFormatError as exc:
            self.report.add(NEWER, path, exc.reason, name)
            return
        except (CorruptDataError, KeyError, TypeError, ValueError) as exc:
            self.report.add(DAMAGED, path, getattr(exc, "reason", None) or f"is not a valid journal ({exc!r})",
                            name)
            return
        unfinished = state.unfinished()
        if unfinished:
            seqs = ", ".join(str(r["seq"]) for r in unfinished[:5])
            self.report.add(UNFINISHED, path, f"{len(unfinished)} record(s) ({seqs}) may not be in the files yet "
                            "(a writer was killed or the machine restarted); the next write of this user "
                            "finishes them", name)
        self._behind(folder, name, docs, state.messages, state.base)
        self._metrics(folder, name, docs, archive, state.messages, state.base)

    def _behind(self, folder: Path, name: str, docs: dict[str, Any], records: list[MessageRecord],
                base: int) -> None:
        """Journaled messages that code reading the v1 files does not see yet."""
        if not records:
            return
        for kind in ("history", "metrics"):
            file_name = USER_FILES[kind]
            if docs.get(file_name) is None and _exists(folder / file_name):
                continue  # damaged: reported as such
            seq = file_seq(docs.get(file_name), base)
            missing = [r for r in records if r["seq"] > seq]
            if missing:
                self.report.add(BEHIND, folder / file_name,
                                f"does not show {len(missing)} journaled message(s) yet (a writer was killed "
                                "before it rewrote the file, or a long history waits for its next batch); "
                                "`memgui-store checkpoint` or the next write of this user brings them in", name)

    def _metrics(self, folder: Path, name: str, docs: dict[str, Any], archive: list[dict[str, Any]] | None,
                 records: list[MessageRecord], base: int) -> None:
        """``message_count`` (with the journal's messages) must not be lower than the messages stored."""
        history, metrics = docs[USER_FILES["history"]], docs[USER_FILES["metrics"]]
        if archive is None or (history is None and _exists(folder / USER_FILES["history"])):
            return
        h_seq = file_seq(history, base)
        ids = {message_id(m) for m in archive}
        ids.update(message_id(m) for m in (history or {"messages": []})["messages"])
        ids.update(message_id(r["msg"]) for r in records if r["seq"] > h_seq)
        path = folder / USER_FILES["metrics"]
        if metrics is None:
            if ids and not _exists(path):
                self.report.add(METRICS, path, f"is missing while {len(ids)} messages are stored; repair "
                                "recounts it", name)
            return
        m_seq = file_seq(metrics, base)
        count = metrics.get("message_count", 0)
        count += sum(1 for r in records if r["seq"] > m_seq)
        if isinstance(count, int) and count < len(ids):
            self.report.add(METRICS, path,
                            f"message_count {count} is lower than the {len(ids)} messages stored; "
                            "repair recounts it", name)

    def _index(self, folders: list[str]) -> None:
        path = self.layout.index
        doc = self.doc(path, check_index, None)
        if doc is None:
            if not _exists(path) and folders:
                self.report.add(INDEX, path, f"is missing while {len(folders)} user folder(s) exist")
            return
        listed = set(doc["users"])
        missing = sorted(listed - set(folders))
        unlisted = sorted(set(folders) - listed)
        if missing:
            self.report.add(INDEX, path, f"lists {len(missing)} folder(s) that do not exist: {_names(missing)}")
        if unlisted:
            self.report.add(INDEX, path, f"does not list {len(unlisted)} user folder(s): {_names(unlisted)}")

    def _backups(self, place: Path, folder: str | None) -> None:
        try:
            entries = sorted(os.scandir(place), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if fileio.is_temp_name(entry.name):
                continue
            path = Path(entry.path)
            if folder is None and entry.name == self.layout.settings.name:
                self._plain_backup(path)
                continue
            check = _DOC_CHECKS.get(entry.name) or _STORE_CHECKS.get(entry.name) or _any_json
            self.doc(path, check, folder, DAMAGED_BACKUP)

    def _plain_backup(self, path: Path) -> None:
        """The settings' backup is plain JSON, like the settings."""
        data = self._read(path, None)
        if data is None:
            return
        try:
            if not isinstance(parse_json(data, path), dict):
                raise CorruptDataError(path, "should be an object")
        except CorruptDataError as exc:
            self.report.add(DAMAGED_BACKUP, path, exc.reason)

    def _temps(self) -> None:
        for top, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(top, d))]
            for name in sorted(files):
                if fileio.is_temp_name(name):
                    path = Path(top) / name
                    rel = path.relative_to(self.root).parts
                    folder = rel[0] if len(rel) > 1 and is_user_folder_name(rel[0]) else None
                    self.report.add(TEMP, path, "a temporary file a killed writer left; the next write of its "
                                    "folder removes it", folder)

    def _quarantine(self) -> None:
        count = sum(len(files) for _, _, files in os.walk(self.layout.quarantine))
        if count:
            self.report.notes.append(f"{count} file(s) kept aside in {self.layout.quarantine}")
        cipher = self.codec.cipher if self.codec is not None else None
        if cipher is not None and not cipher.allow_plain:  # (an encryption in progress converts them later)
            for top, _, files in os.walk(self.layout.quarantine):
                # (temporary files: see _temps; settings are plain by design, kept or not)
                for name in (n for n in files if not fileio.is_temp_name(n) and not n.endswith("settings.json")):
                    data = self._read(Path(top) / name, None)
                    if data is not None and not data.startswith(ENC_PREFIX):
                        self.report.add(DAMAGED, Path(top) / name, "is not encrypted, but this store is")


def any_sealed(layout: Layout) -> bool:
    """Whether some data file of the store is encrypted (looked up without the settings)."""
    paths = [layout.index, layout.global_context]
    with contextlib.suppress(OSError):
        for entry in os.scandir(layout.root):
            if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
                paths += [Path(entry.path) / name for name in USER_FILES.values()]
    for path in paths:
        with contextlib.suppress(OSError), open(path, "rb") as handle:
            if handle.read(len(ENC_PREFIX)) == ENC_PREFIX:
                return True
    return False


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:10])
    return shown + (", ..." if len(names) > 10 else "")


def check_user_id(path: Path, doc: Any) -> None:
    """The shape of a hashed folder's ``.memgui/user_id``."""
    if not isinstance(doc, dict) or not isinstance(doc.get("user_id"), str):
        raise CorruptDataError(path, 'should be {"user_id": text}')


def _check_archive_entry(path: Path, entry: Any) -> None:
    check_message(path, "an archived message", entry)


def _any_json(path: Path, doc: Any) -> None:
    """Backups of files without a shape of their own only need to be JSON."""


_STORE_CHECKS: dict[str, Check] = {
    "users_index.json": check_index,
    "global_context.json": check_global,
    "user_id": check_user_id,
}
