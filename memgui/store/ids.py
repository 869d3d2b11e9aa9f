"""User ids and the folder names they are stored under.

An id made only of ``[A-Za-z0-9_-]`` is its own folder name, so data written by the older implementation keeps
working. Any other accepted id is stored under ``~`` followed by its UTF-8 bytes percent-encoded (upper-case
hex): the mapping is reversible, cannot collide with a plain id (``~`` is never in one) and cannot leave
``DATA_DIR`` (the result holds no separator, dot or reserved name). When that encoding would exceed
``MAX_FOLDER_BYTES``, the folder is ``~~`` plus a SHA-256 digest of the id and the id itself is kept in the
folder's bookkeeping (``.memgui/user_id``).
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata

from memgui.store.errors import InvalidUserIdError

MAX_ID_CHARS = 128
MAX_FOLDER_BYTES = 200
PLAIN_ID = re.compile(r"[A-Za-z0-9_-]+")
ENCODED_PREFIX = "~"
HASHED_PREFIX = "~~"

# Bidirectional embeddings, overrides and isolates: an id holding them displays as another id.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_WINDOWS_RESERVED = re.compile(r"(?i)(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])")


def normalize_user_id(user_id: object) -> str:
    """The id as stored: surrounding whitespace stripped, or ``InvalidUserIdError`` saying why not."""
    if not isinstance(user_id, str):
        raise InvalidUserIdError(user_id, f"must be text, not {type(user_id).__name__}")
    text = user_id.strip()
    if not text:
        raise InvalidUserIdError(user_id, "is empty or blank")
    if len(text) > MAX_ID_CHARS:
        raise InvalidUserIdError(user_id, f"is longer than {MAX_ID_CHARS} characters ({len(text)})")
    if PLAIN_ID.fullmatch(text):  # the common case, on every call: nothing below can refuse it
        return text
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc":
            raise InvalidUserIdError(user_id, f"contains the control character U+{ord(ch):04X}")
        if category == "Cs":
            raise InvalidUserIdError(user_id, f"contains the lone surrogate U+{ord(ch):04X}")
        if ch in _BIDI_CONTROLS:
            raise InvalidUserIdError(user_id, f"contains the bidirectional control U+{ord(ch):04X}")
        if category in ("Zl", "Zp"):
            raise InvalidUserIdError(user_id, f"contains the line separator U+{ord(ch):04X}")
    return text


def _needs_encoding(user_id: str) -> bool:
    if PLAIN_ID.fullmatch(user_id) is None:
        return True
    # On Windows a device name cannot be a folder; POSIX keeps them as they are.
    return sys.platform == "win32" and _WINDOWS_RESERVED.fullmatch(user_id) is not None


def _percent_encode(user_id: str) -> str:
    out = []
    for ch in user_id:
        if PLAIN_ID.fullmatch(ch):
            out.append(ch)
        else:
            out.extend(f"%{byte:02X}" for byte in ch.encode("utf-8"))
    return ENCODED_PREFIX + "".join(out)


def folder_for(user_id: object) -> str:
    """The folder name of a user id (validated first)."""
    text = normalize_user_id(user_id)
    if not _needs_encoding(text):
        return text
    encoded = _percent_encode(text)
    if len(encoded.encode("ascii")) <= MAX_FOLDER_BYTES:
        return encoded
    return HASHED_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_hashed_folder(folder: str) -> bool:
    """True for folders whose id lives in bookkeeping rather than in the name."""
    return folder.startswith(HASHED_PREFIX)


_PERCENT = re.compile(r"%([0-9A-F]{2})")
_ENCODED_BODY = re.compile(r"(?:[A-Za-z0-9_-]|%[0-9A-F]{2})+")


def id_from_folder(folder: str) -> str | None:
    """The user id stored under ``folder``; None for a name no id maps to, or a hashed folder."""
    if _is_plain_folder(folder):
        return folder  # the common case, a plain id that is its own folder name
    if folder.startswith(HASHED_PREFIX):
        return None
    if folder.startswith(ENCODED_PREFIX):
        body = folder[len(ENCODED_PREFIX) :]
        if not _ENCODED_BODY.fullmatch(body):
            return None
        raw = bytearray()
        pos = 0
        for match in _PERCENT.finditer(body):
            raw.extend(body[pos : match.start()].encode("ascii"))
            raw.append(int(match.group(1), 16))
            pos = match.end()
        raw.extend(body[pos:].encode("ascii"))
        try:
            user_id = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    elif PLAIN_ID.fullmatch(folder):
        user_id = folder
    else:
        return None
    try:
        return user_id if folder_for(user_id) == folder else None
    except InvalidUserIdError:
        return None


def _is_plain_folder(name: str) -> bool:
    return len(name) <= MAX_ID_CHARS and not _needs_encoding(name)


#: A plain id as a whole line of a text (POSIX: no reserved names), what ``_is_plain_folder`` accepts.
_PLAIN_LINE = re.compile(rf"^[A-Za-z0-9_-]{{1,{MAX_ID_CHARS}}}$", re.MULTILINE)


def split_plain(names: list[str]) -> tuple[list[str], list[str]]:
    """``names`` (distinct, as a directory's entries are) split into plain ids, their own folder names, and the
    rest, which need ``id_from_folder``. Listing 100,000 users spends most of its time here."""
    text = "\n".join(names)
    if sys.platform != "win32" and text.count("\n") == len(names) - 1:  # no name holds a line break
        plain = _PLAIN_LINE.findall(text)  # one pass in C: a call per name cost 0.16 s for 100,000 users
    else:
        plain = [name for name in names if _is_plain_folder(name)]
    if len(plain) == len(names):
        return plain, []
    kept = set(plain)
    return plain, [name for name in names if name not in kept]


def is_user_folder_name(name: str) -> bool:
    """Whether a directory entry of DATA_DIR can be a user's folder (bookkeeping starts with '.')."""
    if name.startswith("."):
        return False
    if is_hashed_folder(name):
        return re.fullmatch(r"~~[0-9a-f]{64}", name) is not None
    return id_from_folder(name) is not None
