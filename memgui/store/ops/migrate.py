"""Encrypting a plain store in place (``encrypt_store``) and rotating the key of an encrypted one (``rotate_key``).

How progress is marked, so that a crash at any point leaves every file readable and running the same
command again finishes the job:

1. **Start.** Under the settings lock, ``.memgui/settings.json`` is replaced (atomically, synced) by settings
   that name the target data key as ``current`` *and* carry ``"migration": {"kind": "encrypt" | "rotate"}``.
   For ``encrypt`` the section is new (fresh salt and data key); with the marker, every store that opens the
   folder reads plaintext files as well as sealed ones (``Cipher(allow_plain=True)``) and writes sealed ones.
   For ``rotate`` the section keeps the old data key beside the new one, both wrapped with the *new*
   passphrase, which from this moment is the store's passphrase (the old one no longer opens it).
   Before this write nothing has changed: a crash leaves the store as it was.
2. **Files.** Each file is rewritten on its own by ``fileio.atomic_write`` under the lock its writers take
   (the user's lock for a user folder, the index or global lock for store-wide files): every file is at all
   times wholly in its old form or wholly in its new one. The per-file progress is in the files themselves:
   a sealed file names the key that sealed it (``MGE1.<key id>.``) and a plaintext one has no prefix, so
   nothing else records it. Already converted files are skipped; temporary files a killed writer (or a killed
   migration) left are removed, as they may hold plaintext or the old key.
3. **Finish.** Once no file needs converting, the settings are replaced once more without the marker (and,
   for ``rotate``, without the old key). A crash before that write only means the next run finds nothing
   left to convert and writes it.

Files are checked as they are converted: a file that does not read back (damaged) stops the migration with
``CorruptDataError``, leaving it resumable after ``repair``. No passphrase or key is ever written inside
``DATA_DIR``: the settings hold only the salt, the scrypt cost and the data keys wrapped by the passphrase.
Stop every process that writes the store first: a process that opened it before the migration would keep
writing with the settings it read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from memgui.store import fileio, keyring
from memgui.store.backends.json.layout import Layout
from memgui.store.codec import Cipher, parse_json
from memgui.store.documents import GLOBAL_FILE, INDEX_FILE, USER_FILES, USER_LOGS
from memgui.store.errors import CorruptDataError, EncryptionError, MemoryStoreError
from memgui.store.ids import is_user_folder_name

_LINE_FILES = frozenset([*USER_LOGS.values(), "journal"])
_DOC_FILES = frozenset([*USER_FILES.values(), "user_id", INDEX_FILE, GLOBAL_FILE])


@dataclasses.dataclass
class MigrationReport:
    """What a migration did: files converted, files already done, temporary files removed."""

    root: Path
    kind: str
    converted: int = 0
    already: int = 0
    temps_removed: int = 0
    resumed: bool = False

    def summary(self) -> str:
        how = "resumed and finished" if self.resumed else "finished"
        return (f"{self.kind} of {self.root} {how}: {self.converted} file(s) converted, {self.already} already "
                f"done, {self.temps_removed} temporary file(s) removed")


def encrypt_store(root: Path | str, passphrase: str, *, lock_timeout: float = 10.0,
                  durable: bool = True) -> MigrationReport:
    """Encrypt every file of the plain store at ``root`` with a new data key under ``passphrase``; resumes an
    interrupted run (same passphrase); on a store already encrypted it only seals any file left plain (the
    passphrase must open it). ``durable``
    False skips the fsync of each converted file (tests: a killed process loses nothing the OS holds)."""
    if not passphrase:
        raise EncryptionError("a passphrase is needed to encrypt a store")
    layout = Layout(Path(root).absolute())
    report = MigrationReport(layout.root, "encrypt")
    if not layout.root.is_dir():
        raise MemoryStoreError(f"{layout.root} is not a folder")
    with _settings_lock(layout, lock_timeout):
        settings = keyring.read_settings(layout) or {}
        section = keyring.encryption_section(settings)
        if section is None:
            _refuse_damaged(layout)
            section, cipher = keyring.new_encryption_section(passphrase, migration="encrypt")
            _write_settings(layout, {**settings, "memgui_store": 1, "encryption": section})
        elif _migration(section) == "encrypt":
            cipher = keyring.cipher_from_settings(layout, section, passphrase)
            report.resumed = True
        elif _migration(section) == "rotate":
            raise EncryptionError(f"{layout.root} is in the middle of a key rotation: run rotate-key again")
        else:  # done before (perhaps killed after its last step): check every file again, nothing else
            cipher = keyring.cipher_from_settings(layout, section, passphrase)
            report.resumed = True
    _convert_all(layout, cipher, lock_timeout, report, durable)
    _finish(layout, lock_timeout, cipher.current)
    return report


def rotate_key(root: Path | str, passphrase: str, new_passphrase: str, *,
               lock_timeout: float = 10.0, durable: bool = True) -> MigrationReport:
    """Re-encrypt every file of the encrypted store at ``root`` with a new data key wrapped by
    ``new_passphrase`` (which may equal ``passphrase``). An interrupted rotation is resumed with either
    passphrase; run again once finished (the old passphrase no longer opens the store), it only checks."""
    if not new_passphrase:
        raise EncryptionError("a new passphrase is needed to rotate the key")
    layout = Layout(Path(root).absolute())
    report = MigrationReport(layout.root, "rotate-key")
    with _settings_lock(layout, lock_timeout):
        settings = keyring.read_settings(layout) or {}
        section = keyring.encryption_section(settings)
        if section is None:
            raise EncryptionError(f"{layout.root} is not encrypted: use encrypt first")
        kind = _migration(section)
        if kind == "encrypt":
            raise EncryptionError(f"{layout.root} is in the middle of encryption: run encrypt again first")
        if kind == "rotate":
            cipher = _resume_cipher(layout, section, [new_passphrase, passphrase])
            report.resumed = True
        elif _opens(layout, section, new_passphrase) and not _opens(layout, section, passphrase):
            # Done before (perhaps killed after its last step): check every file again, nothing else.
            cipher = _resume_cipher(layout, section, [new_passphrase])
            report.resumed = True
        else:
            old = keyring.cipher_from_settings(layout, section, passphrase)
            keys = _cipher_keys(layout, section, passphrase)
            kdf = keyring.new_kdf()
            kek = keyring.derive_kek(new_passphrase, kdf)
            new_id = keyring.new_key_id()
            while new_id in keys:
                new_id = keyring.new_key_id()
            keys[new_id] = AESGCM.generate_key(256)
            new_section = {**section, "kdf": kdf, "keys": {k: keyring.wrap(kek, v) for k, v in keys.items()},
                           "current": new_id, "migration": {"kind": "rotate", "from": old.current}}
            _write_settings(layout, {**settings, "encryption": new_section})
            cipher = Cipher(keys, new_id)
    _convert_all(layout, cipher, lock_timeout, report, durable)
    _finish(layout, lock_timeout, cipher.current)
    return report


# -- settings ----------------------------------------------------------------------------------------
def _migration(section: dict[str, Any]) -> str | None:
    marker = section.get("migration")
    return marker.get("kind") if isinstance(marker, dict) else None


@contextlib.contextmanager
def _settings_lock(layout: Layout, timeout: float) -> Iterator[None]:
    """The settings lock, with what a killed settings write left removed."""
    with fileio.Lock(layout.settings_lock, timeout, "the store settings").held():
        for place in (layout.meta, layout.backups):
            fileio.remove_stale_temps(place, f".{layout.settings.name}.")
        yield


def _write_settings(layout: Layout, settings: dict[str, Any]) -> None:
    """Replace the settings (``keyring`` keeps a copy in .memgui/backups/ for ``repair``)."""
    keyring.write_settings(layout, settings)


def _refuse_damaged(layout: Layout) -> None:
    """Encrypting must not start on files that do not read back: ``repair`` them first."""
    from memgui.store.ops.verify import DAMAGED, verify_store

    damaged = [p for p in verify_store(layout.root).problems if p.code == DAMAGED]
    if damaged:
        listed = "; ".join(str(p) for p in damaged[:5])
        raise CorruptDataError(damaged[0].path, f"{len(damaged)} damaged file(s), run `memgui-store repair "
                               f"{layout.root}` first: {listed}")


def _cipher_keys(layout: Layout, section: dict[str, Any], passphrase: str) -> dict[str, bytes]:
    """Every data key of the section, unwrapped with ``passphrase`` (``EncryptionError`` if it is wrong)."""
    try:
        kek = keyring.derive_kek(passphrase, section["kdf"])
        return {key_id: keyring.unwrap(kek, wrapped, layout) for key_id, wrapped in section["keys"].items()}
    except InvalidTag:
        raise EncryptionError(f"wrong passphrase for the encrypted store {layout.root}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CorruptDataError(layout.settings, f"encryption settings are incomplete ({exc})") from None


def _opens(layout: Layout, section: dict[str, Any], passphrase: str) -> bool:
    try:
        _cipher_keys(layout, section, passphrase)
    except EncryptionError:
        return False
    return True


def _resume_cipher(layout: Layout, section: dict[str, Any], passphrases: list[str]) -> Cipher:
    """The cipher of an interrupted rotation, which the new passphrase (or, if the same, the old) opens."""
    for passphrase in passphrases:
        if not passphrase:
            continue
        try:
            return Cipher(_cipher_keys(layout, section, passphrase), section["current"])
        except EncryptionError:
            continue
    raise EncryptionError(f"{layout.root}: a key rotation was interrupted; give the new passphrase "
                          "(NEW_ENCRYPTION_KEY or ENCRYPTION_KEY) to finish it")


def _finish(layout: Layout, timeout: float, current: str) -> None:
    """Drop the marker (and keys no file uses any more): the migration is complete."""
    with _settings_lock(layout, timeout):
        settings = keyring.read_settings(layout) or {}
        section = keyring.encryption_section(settings)
        if section is None or _migration(section) is None:
            return
        keys = section.get("keys") or {}
        section = {**section, "keys": {current: keys[current]}, "migration": None}
        _write_settings(layout, {**settings, "encryption": section})


# -- files -------------------------------------------------------------------------------------------
def _convert_all(layout: Layout, cipher: Cipher, timeout: float, report: MigrationReport, durable: bool) -> None:
    root = layout.root
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.is_dir(follow_symlinks=False) and is_user_folder_name(entry.name):
            lock = fileio.Lock(layout.user_lock(entry.name), timeout, f"user folder {entry.name!r}")
            with lock.held():
                for path in _walk(Path(entry.path)):
                    _convert(path, cipher, report, durable, quarantined=False)
    for name, lock_path in ((INDEX_FILE, layout.index_lock), (GLOBAL_FILE, layout.global_lock)):
        with fileio.Lock(lock_path, timeout, name).held():
            for path in (root / name, layout.backups / name):
                _convert(path, cipher, report, durable, quarantined=False)
            for temp in root.glob(f".{name}.*{fileio.TMP_SUFFIX}"):
                _remove_temp(temp, report)
            for temp in layout.backups.glob(f".{name}.*{fileio.TMP_SUFFIX}"):
                _remove_temp(temp, report)
    with fileio.Lock(layout.index_lock, timeout, "the quarantine").held():
        for path in _walk(layout.quarantine):
            _convert(path, cipher, report, durable, quarantined=True)


def _walk(top: Path) -> Iterator[Path]:
    """Every regular file under ``top``, links not followed."""
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(folder, d)))
        for name in sorted(files):
            yield Path(folder) / name


def _remove_temp(path: Path, report: MigrationReport) -> None:
    try:
        os.unlink(path)
        report.temps_removed += 1
    except FileNotFoundError:
        pass


def _convert(path: Path, cipher: Cipher, report: MigrationReport, durable: bool, *, quarantined: bool) -> None:
    """Rewrite one file sealed with the current key, if it is not already."""
    if fileio.is_temp_name(path.name):
        _remove_temp(path, report)
        return
    if not quarantined and path.name not in _LINE_FILES and path.name not in _DOC_FILES:
        return  # not a file of the store: left as it is
    data = fileio.read_bytes(path)
    if data is None:
        return
    name = path.name
    if name in _LINE_FILES and not quarantined:
        lines = fileio.complete_lines(data)
        if (all(cipher.key_of(line) == cipher.current for line in lines) and data.endswith(b"\n")) or not data:
            report.already += 1
            return
        out = []
        for number, line in enumerate(lines, 1):
            if cipher.key_of(line) != cipher.current:
                plain = _open(cipher, line, name, path, f"line {number}: ")
                parse_json(plain, path, f"line {number}: ")
                line = cipher.seal(plain, name)
            out.append(line + b"\n")
        new = b"".join(out)
    else:
        if cipher.key_of(data) == cipher.current:
            report.already += 1
            return
        plain = _open(cipher, data.strip(), name, path, "") if not quarantined else _open_blob(cipher, data, name, path)
        if not quarantined:
            parse_json(plain, path)
        new = cipher.seal(plain.rstrip(b"\n") if not quarantined else plain, name)
    fileio.atomic_write(path, new, durable=durable)
    report.converted += 1


def _open(cipher: Cipher, data: bytes, name: str, path: Path, where: str) -> bytes:
    """Plaintext of a file or line: as is when it is plaintext, else opened with the key that sealed it."""
    if cipher.key_of(data) is None:
        return data
    return cipher.open(data, name, path, where)


def _open_blob(cipher: Cipher, data: bytes, name: str, path: Path) -> bytes:
    """A quarantined file: sealed whole by ``repair`` (with its own name), or plaintext from a plain store."""
    if cipher.key_of(data) is None:
        return data
    try:
        return cipher.open(data, name, path)
    except (CorruptDataError, EncryptionError):
        return data  # a damaged sealed file kept as it was: sealing it again keeps it intact
