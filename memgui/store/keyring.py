"""Encryption at rest: the store's settings file, key derivation and the data keys.

A random 256-bit data key encrypts the files (AES-256-GCM, ``codec.Cipher``). The passphrase from
``ENCRYPTION_KEY`` never touches the disk: scrypt with a per-store random salt derives a key-encryption key
that wraps the data key. ``DATA_DIR/.memgui/settings.json`` is plain JSON holding only the salt, the
scrypt parameters and the wrapped keys; unwrapping is the key check, so a wrong passphrase fails before
anything is read or written.
"""

from __future__ import annotations

import base64
import os
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from memgui.store import fileio
from memgui.store.backends.json.layout import Layout
from memgui.store.codec import Cipher, dump_json, parse_json
from memgui.store.errors import CorruptDataError, EncryptionError

#: scrypt cost; tests may lower it (the value used is stored with the salt, so stores stay readable).
SCRYPT_N = 1 << 15
_WRAP_AAD = b"memgui data key"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str, layout: Layout) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise CorruptDataError(layout.settings, f"{what} is not base64") from None


def read_settings(layout: Layout) -> dict[str, Any] | None:
    data = fileio.read_bytes(layout.settings)
    if data is None:
        return None
    settings = parse_json(data, layout.settings)
    if not isinstance(settings, dict):
        raise CorruptDataError(layout.settings, "should be an object")
    return settings


def write_settings(layout: Layout, settings: dict[str, Any]) -> None:
    """Replace the settings, then keep a copy in ``.memgui/backups/``: without its wrapped keys no file of an
    encrypted store can be read, so ``repair`` must be able to restore it (it holds no secret)."""
    data = dump_json(settings, str(layout.settings), indent=2)
    layout.meta.mkdir(parents=True, exist_ok=True)
    fileio.atomic_write(layout.settings, data, durable=True)
    layout.backups.mkdir(parents=True, exist_ok=True)
    fileio.atomic_write(layout.backups / layout.settings.name, data, durable=True)


def derive_kek(passphrase: str, kdf: dict[str, Any]) -> bytes:
    salt = base64.b64decode(kdf["salt"])
    return Scrypt(salt=salt, length=32, n=int(kdf["n"]), r=int(kdf["r"]), p=int(kdf["p"])).derive(
        passphrase.encode("utf-8")
    )


def new_kdf() -> dict[str, Any]:
    return {"name": "scrypt", "salt": _b64(os.urandom(16)), "n": SCRYPT_N, "r": 8, "p": 1}


def wrap(kek: bytes, key: bytes) -> str:
    nonce = os.urandom(12)
    return _b64(nonce + AESGCM(kek).encrypt(nonce, key, _WRAP_AAD))


def unwrap(kek: bytes, wrapped: str, layout: Layout) -> bytes:
    raw = _unb64(wrapped, "a wrapped key", layout)
    return AESGCM(kek).decrypt(raw[:12], raw[12:], _WRAP_AAD)


def new_key_id() -> str:
    return "k" + secrets.token_hex(4)


def encryption_section(settings: dict[str, Any] | None) -> dict[str, Any] | None:
    section = (settings or {}).get("encryption")
    return section if isinstance(section, dict) else None


def cipher_from_settings(layout: Layout, section: dict[str, Any], passphrase: str | None) -> Cipher:
    """The cipher of an encrypted store; ``EncryptionError`` for a missing or wrong passphrase."""
    if not passphrase:
        raise EncryptionError(f"{layout.root} is encrypted: set ENCRYPTION_KEY to its passphrase")
    try:
        kek = derive_kek(passphrase, section["kdf"])
        keys = {key_id: unwrap(kek, wrapped, layout) for key_id, wrapped in section["keys"].items()}
        current = section["current"]
    except InvalidTag:
        raise EncryptionError(f"wrong ENCRYPTION_KEY for the encrypted store {layout.root}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CorruptDataError(layout.settings, f"encryption settings are incomplete ({exc})") from None
    if current not in keys:
        raise CorruptDataError(layout.settings, f"current key {current!r} is not among the keys")
    migration = section.get("migration") or {}
    return Cipher(keys, current, allow_plain=migration.get("kind") == "encrypt")


def new_encryption_section(passphrase: str, *, migration: str | None) -> tuple[dict[str, Any], Cipher]:
    """Settings for a freshly encrypted store and its cipher."""
    kdf = new_kdf()
    kek = derive_kek(passphrase, kdf)
    key_id, key = new_key_id(), AESGCM.generate_key(256)
    section = {
        "cipher": "AES-256-GCM",
        "kdf": kdf,
        "keys": {key_id: wrap(kek, key)},
        "current": key_id,
        "migration": {"kind": migration} if migration else None,
    }
    return section, Cipher({key_id: key}, key_id, allow_plain=migration == "encrypt")
