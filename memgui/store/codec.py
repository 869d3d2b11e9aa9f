"""Turning documents into bytes and back, strictly, with optional authenticated encryption.

Decoding accepts exactly one UTF-8 JSON value without a byte order mark, duplicate keys, NaN or Infinity;
every other input raises ``CorruptDataError`` naming the file. Encoding refuses NaN and values that are not
JSON before anything touches the disk, so a save can never produce a file that fails to load.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from memgui.store.errors import CorruptDataError, EncryptionError, ValidationError

ENC_PREFIX = b"MGE1."
_BOM = b"\xef\xbb\xbf"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"duplicate key {dup!r}")
    return result


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)


def decode_text(text: str) -> Any:
    """One strict JSON value from ``text``, ``ValueError`` (or ``RecursionError``) for anything else: the
    quick check of many documents; ``parse_json`` then names the one that failed."""
    return _DECODER.decode(text)


def parse_json(data: bytes, path: Path, where: str = "") -> Any:
    """One strict JSON value from ``data``; ``CorruptDataError(path)`` for anything else.

    ``where`` ("line 12: ") locates the value inside the file when the file holds many.
    """
    if not data:
        raise CorruptDataError(path, f"{where}is empty")
    if data.startswith(_BOM):
        raise CorruptDataError(path, f"{where}starts with a byte order mark; expected plain UTF-8 JSON")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptDataError(path, f"{where}is not UTF-8 (byte {exc.start})") from None
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise CorruptDataError(path, f"{where}nests JSON too deeply to read") from None
    except ValueError as exc:
        raise CorruptDataError(path, f"{where}is not valid JSON ({exc})") from None


#: Documents up to this size (compact) are written indented, for people who read or edit them by hand; larger
#: ones compact: Python's json encodes indented output in pure Python, tens of times slower than compact.
PRETTY_LIMIT = 32 * 1024


def dump_json(value: Any, what: str, *, indent: int | None = None) -> bytes:
    """Strict JSON bytes for ``value``; ``ValidationError`` naming ``what`` if it cannot be stored."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        if indent and len(text) <= PRETTY_LIMIT:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False, indent=indent)
    except RecursionError:
        raise ValidationError(f"{what}: value nests too deeply to store") from None
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{what}: value is not storable as JSON ({exc})") from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(f"{what}: text holds a lone surrogate at {exc.start}") from None


class Cipher:
    """AES-256-GCM with the data key(s) of an encrypted store. The file name is authenticated data."""

    def __init__(self, keys: dict[str, bytes], current: str, *, allow_plain: bool = False) -> None:
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current = current
        self.allow_plain = allow_plain

    def seal(self, plain: bytes, name: str) -> bytes:
        nonce = os.urandom(12)
        sealed = self._aead[self.current].encrypt(nonce, plain, name.encode("utf-8"))
        return ENC_PREFIX + self.current.encode("ascii") + b"." + base64.urlsafe_b64encode(nonce + sealed)

    def key_of(self, data: bytes) -> str | None:
        """The key id a sealed blob was made with; None for plaintext."""
        if not data.startswith(ENC_PREFIX):
            return None
        return data[len(ENC_PREFIX) :].split(b".", 1)[0].decode("ascii", "replace")

    def open(self, data: bytes, name: str, path: Path, where: str = "") -> bytes:
        if not data.startswith(ENC_PREFIX):
            if self.allow_plain:
                return data
            raise CorruptDataError(path, f"{where}is not encrypted, but this store is")
        try:
            key_id, body = data[len(ENC_PREFIX) :].strip().split(b".", 1)
            raw = base64.urlsafe_b64decode(body)
        except (ValueError, binascii.Error):
            raise CorruptDataError(path, f"{where}is damaged encrypted data") from None
        aead = self._aead.get(key_id.decode("ascii", "replace"))
        if aead is None:
            raise EncryptionError(f"{path}: {where}encrypted with a key this store does not hold ({key_id!r})")
        try:
            return aead.decrypt(raw[:12], raw[12:], name.encode("utf-8"))
        except (InvalidTag, ValueError):
            raise CorruptDataError(path, f"{where}fails authentication (damaged or tampered)") from None


class Codec:
    """Documents to file bytes and back for one store: plain JSON, or JSON sealed by a ``Cipher``."""

    def __init__(self, cipher: Cipher | None = None) -> None:
        self.cipher = cipher

    @property
    def encrypted(self) -> bool:
        return self.cipher is not None

    def encode_doc(self, value: Any, path: Path, *, indent: int | None = 2) -> bytes:
        return self.seal_doc(dump_json(value, str(path), indent=indent), path)

    def seal_doc(self, data: bytes, path: Path) -> bytes:
        """A document's JSON bytes as its file holds them (encrypted, or with a final newline)."""
        return self.cipher.seal(data, path.name) if self.cipher else data + b"\n"

    def decode_doc(self, data: bytes, path: Path) -> Any:
        if self.cipher is not None:
            data = self.cipher.open(data, path.name, path)
        return parse_json(data, path)

    def encode_line(self, value: Any, path: Path) -> bytes:
        data = dump_json(value, str(path))
        if self.cipher is not None:
            data = self.cipher.seal(data, path.name)
        return data + b"\n"

    def decode_line(self, line: bytes, path: Path, number: int) -> Any:
        where = f"line {number}: "
        if self.cipher is not None:
            line = self.cipher.open(line, path.name, path, where)
        return parse_json(line, path, where)

    def seal_blob(self, data: bytes, name: str) -> bytes:
        """Opaque bytes (a quarantined file) as stored: sealed when encrypted."""
        return self.cipher.seal(data, name) if self.cipher else data
