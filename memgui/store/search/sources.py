"""What the search index holds of a store, read through the public ``MemoryStore`` API (any backend), and the
signatures that tell whether a user changed since it was indexed.

An ``Entry`` is one searchable text: a message (archive included), a fact, a permanent memory, a profile field,
or a global-context key (user ''). A folder store's signature of a user is the (name, mtime_ns, size) of every
file in the user's folder and its bookkeeping folder (the journal included), so a write of any process, the
older code editing files by hand included, changes it. A store without a folder has no signature (None): its
users are compared entry by entry, or told by its ``ChangeFeed``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from memgui.store.documents import META_DIR, message_id
from memgui.store.interface import MemoryStore

KINDS = ("message", "fact", "memory", "profile", "global")
GLOBAL_USER = ""  # the owner of the global context's entries


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """``ref`` names the record within the user and kind (message id, fact id, 'type/index', profile key);
    ``role`` is a message's role ('' otherwise); ``field`` a fact's category, a memory's type, a key."""

    kind: str
    ref: str
    ts: str
    role: str
    field: str
    text: str


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _stamp(*values: Any) -> str:
    return next((v for v in values if isinstance(v, str) and v), "")


def user_entries(store: MemoryStore, user_id: str) -> list[Entry]:
    """Everything searchable of one user, read through the store's API (typed errors as the store raises)."""
    out = [Entry("message", message_id(m), _stamp(m.get("timestamp")), str(m.get("role", "")), "",
                 _as_text(m.get("content", "")))
           for m in store.get_message_history(user_id, include_archived=True)]
    out.extend(Entry("fact", str(f["id"]), _stamp(f.get("changed_at"), f.get("added_at")), "",
                     str(f["category"]), str(f["text"])) for f in store.get_fact_records(user_id))
    for memory_type, memories in store.get_permanent_memories(user_id).items():
        for i, memory in enumerate(memories):
            if isinstance(memory, dict):
                out.append(Entry("memory", f"{memory_type}/{i}",
                                 _stamp(memory.get("updated_at"), memory.get("created_at")), "", memory_type,
                                 _as_text(memory.get("content", ""))))
    for key, value in store.get_user_profile(user_id).items():
        if value not in (None, "", [], {}):
            out.append(Entry("profile", key, "", "", key, f"{key}: {_as_text(value)}"))
    return out


def global_entries(store: MemoryStore) -> list[Entry]:
    out = []
    for key, value in store.get_all_global_context().items():
        stamp = ""
        if isinstance(value, dict) and "value" in value:  # the stored shape: {"value", "updated_at"}
            stamp = _stamp(value.get("updated_at"))
            value = value["value"]
        out.append(Entry("global", key, stamp, "", key, f"{key}: {_as_text(value)}"))
    return out


def _files_signature(folders: list[Path], skip: str = "") -> str:
    digest = hashlib.blake2b(digest_size=16)
    for folder in folders:
        try:
            with os.scandir(folder) as it:
                items = sorted((e.name, e.stat(follow_symlinks=False)) for e in it
                               if e.is_file(follow_symlinks=False) and not (skip and e.name.startswith(skip)))
        except OSError:
            items = []
        for name, st in items:
            digest.update(f"{folder.name}/{name}\0{st.st_mtime_ns}\0{st.st_size}\n".encode("utf-8", "replace"))
    return digest.hexdigest()


def folder_signatures(store: MemoryStore, skip: str) -> dict[str, str] | None:
    """Each user's signature (and the global context's, under ''), for a store kept in a folder whose
    ``change_source`` maps folder names to users; None for another store. ``skip``: a file name prefix of the
    bookkeeping folder not to count (the index's own files)."""
    from memgui.store.backend import FolderChanges

    source = store.change_source()
    if not isinstance(source, FolderChanges):
        return None
    out: dict[str, str] = {GLOBAL_USER: _files_signature([source.root, source.root / META_DIR], skip)}
    try:
        with os.scandir(source.root) as it:
            names = [e.name for e in it if e.is_dir(follow_symlinks=False)]
    except OSError:
        return out
    for name in names:
        user = source.user_of(name)
        if user:
            folder = source.root / name
            out[user] = _files_signature([folder, folder / META_DIR])
    return out
