"""The documents of format v1 and their extensions: file names, shape checks and message records.

Shape checks run on every document read from disk, so a file of the wrong shape is reported as damaged
(``CorruptDataError``) instead of failing later inside a business rule. Unknown keys are always kept.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from memgui.store.errors import CorruptDataError

Doc = dict[str, Any]
DocKind = Literal["profile", "history", "facts", "metrics", "memories"]
LogKind = Literal["archive", "fact_versions"]

USER_FILES: dict[DocKind, str] = {
    "profile": "user_profile.json",
    "history": "conversation_history.json",
    "facts": "user_facts.json",
    "metrics": "interaction_metrics.json",
    "memories": "permanent_memories.json",
}
USER_LOGS: dict[LogKind, str] = {
    "archive": "conversation_archive.jsonl",
    "fact_versions": "fact_versions.jsonl",
}
INDEX_FILE = "users_index.json"
GLOBAL_FILE = "global_context.json"
#: The bookkeeping folder, in the store's folder and in each user's (locks, backups, quarantine, the journal).
META_DIR = ".memgui"
#: The user's write-ahead journal, inside the user's bookkeeping folder.
JOURNAL_FILE = "journal"
ROLES = ("user", "assistant", "system")


def _fail(path: Path, reason: str) -> CorruptDataError:
    return CorruptDataError(path, reason)


def _check_type(path: Path, where: str, value: Any, types: type | tuple[type, ...], label: str) -> None:
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise _fail(path, f"{where} should be {label}, not a boolean")
    if not isinstance(value, types):
        raise _fail(path, f"{where} should be {label}, not {type(value).__name__}")


def check_message(path: Path, where: str, msg: Any) -> None:
    _check_type(path, where, msg, dict, "an object")
    required: tuple[tuple[str, type, str], ...] = (
        ("content", str, "text"),
        ("timestamp", str, "text"),
        ("is_user", bool, "true or false"),
    )
    optional: tuple[tuple[str, type, str], ...] = (
        ("metadata", dict, "an object"),
        ("word_count", int, "a whole number"),
        ("id", str, "text"),
        ("role", str, "text"),
    )
    for key, types, label in required:
        if key not in msg:
            raise _fail(path, f"{where} has no {key!r}")
        _check_type(path, f"{where}.{key}", msg[key], types, label)
    for key, types, label in optional:
        if key in msg and not (key == "metadata" and msg[key] is None):
            _check_type(path, f"{where}.{key}", msg[key], types, label)


def _check_profile(path: Path, doc: Any) -> None:
    _check_type(path, "the profile", doc, dict, "an object")
    for key in ("name", "created_at", "timezone"):  # the fields the store itself reads
        if doc.get(key) is not None:
            _check_type(path, repr(key), doc[key], str, "text")


def _check_history(path: Path, doc: Any) -> None:
    _check_type(path, "the file", doc, dict, "an object")
    messages = doc.get("messages")
    if messages is None:
        raise _fail(path, "has no 'messages' list")
    _check_type(path, "'messages'", messages, list, "a list")
    for i, msg in enumerate(messages):
        check_message(path, f"message {i}", msg)


def _check_facts(path: Path, doc: Any) -> None:
    _check_type(path, "the file", doc, dict, "an object")
    categories = doc.get("categories")
    if categories is None:
        raise _fail(path, "has no 'categories' object")
    _check_type(path, "'categories'", categories, dict, "an object")
    for name, facts in categories.items():
        _check_type(path, f"category {name!r}", facts, list, "a list")
        for i, fact in enumerate(facts):
            _check_type(path, f"fact {i} of {name!r}", fact, str, "text")
    meta = doc.get("fact_meta", {})
    _check_type(path, "'fact_meta'", meta, dict, "an object")
    for name, entries in meta.items():
        _check_type(path, f"fact_meta {name!r}", entries, dict, "an object")
        for text, entry in entries.items():
            _check_type(path, f"fact_meta of {text!r}", entry, dict, "an object")


_METRIC_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "message_count": ((int,), "a whole number"),
    "total_words": ((int,), "a whole number"),
    "streak_days": ((int,), "a whole number"),
    "longest_streak": ((int,), "a whole number"),
    "interaction_dates": ((list,), "a list"),
    "user_active_dates": ((list,), "a list"),
    "first_interaction": ((str, type(None)), "text"),
    "last_interaction": ((str, type(None)), "text"),
    "last_interaction_date": ((str, type(None)), "text"),
}


def _check_metrics(path: Path, doc: Any) -> None:
    _check_type(path, "the file", doc, dict, "an object")
    for key, (types, label) in _METRIC_TYPES.items():
        if key in doc:
            _check_type(path, repr(key), doc[key], types, label)
    for key in ("interaction_dates", "user_active_dates"):
        days = doc.get(key, ())
        if not all(type(day) is str for day in days):  # the one pass that finds nothing wrong, quickly
            for i, day in enumerate(days):
                _check_type(path, f"{key}[{i}]", day, str, "a YYYY-MM-DD date")


def _check_memories(path: Path, doc: Any) -> None:
    _check_type(path, "the file", doc, dict, "an object")
    memories = doc.get("memories")
    if memories is None:
        raise _fail(path, "has no 'memories' object")
    _check_type(path, "'memories'", memories, dict, "an object")
    for kind, entries in memories.items():
        _check_type(path, f"memory type {kind!r}", entries, list, "a list")
        for i, entry in enumerate(entries):
            _check_type(path, f"memory {i} of {kind!r}", entry, dict, "an object")
            if "content" not in entry:
                raise _fail(path, f"memory {i} of {kind!r} has no 'content'")


def check_global(path: Path, doc: Any) -> None:
    _check_type(path, "the file", doc, dict, "an object")
    for key, entry in doc.items():
        _check_type(path, f"entry {key!r}", entry, dict, "an object")
        if "value" not in entry:
            raise _fail(path, f"entry {key!r} has no 'value'")


def check_index(path: Path, doc: Any) -> None:
    _check_type(path, "the file", doc, dict, "an object")
    users = doc.get("users")
    if users is None:
        raise _fail(path, "has no 'users' list")
    _check_type(path, "'users'", users, list, "a list")
    for i, name in enumerate(users):
        _check_type(path, f"user {i}", name, str, "text")


SHAPE_CHECKS: dict[DocKind, Callable[[Path, Any], None]] = {
    "profile": _check_profile,
    "history": _check_history,
    "facts": _check_facts,
    "metrics": _check_metrics,
    "memories": _check_memories,
}


def empty_doc(kind: DocKind) -> Doc:
    docs: dict[DocKind, Doc] = {
        "profile": {},
        "history": {"messages": []},
        "facts": {"categories": {}},
        "metrics": {},
        "memories": {"memories": {}},
    }
    return docs[kind]


def new_message_id() -> str:
    """A random 128-bit id, as hex (the same shape as ``uuid4().hex``, without its overhead)."""
    return os.urandom(16).hex()


def derived_message_id(msg: Doc) -> str:
    """A stable id for a message written without one (by the older implementation)."""
    basis = json.dumps(
        [msg.get("timestamp"), msg.get("is_user"), msg.get("content")], ensure_ascii=False
    ).encode("utf-8", "surrogatepass")
    return "v1-" + hashlib.blake2b(basis, digest_size=10).hexdigest()


def word_count(text: str) -> int:
    return len(text.split())


def message_id(msg: Doc) -> str:
    mid = msg.get("id")
    return mid if isinstance(mid, str) and mid else derived_message_id(msg)


def normalize_message(msg: Doc) -> Doc:
    """A message as read back: with ``id``, ``role``, ``metadata`` and ``word_count`` always present."""
    out = dict(msg)
    if not isinstance(out.get("id"), str) or not out["id"]:
        out["id"] = derived_message_id(msg)
    role = out.get("role")
    if role not in ROLES:
        out["role"] = "user" if out.get("is_user") else "assistant"
    if not isinstance(out.get("metadata"), dict):
        out["metadata"] = {}
    if not isinstance(out.get("word_count"), int) or isinstance(out.get("word_count"), bool):
        out["word_count"] = word_count(out.get("content", ""))
    return out
