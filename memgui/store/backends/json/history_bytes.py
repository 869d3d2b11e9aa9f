"""The bytes of a conversation history file, built from the encoded messages of the previous version.

The v1 history file is rewritten after every message (so that code reading it directly sees the message at
once), and encoding a hundred messages again each time would cost more than the journal's sync. The encoder
keeps the message objects of the version it last wrote with their bytes: documents of the store are never
changed in place (every write builds new ones), so the same object encodes to the same bytes. The output is
byte for byte what ``codec.dump_json(doc)`` gives.
"""

from __future__ import annotations

import operator
import threading
from typing import Any

from memgui.store.codec import dump_json

#: Histories longer than this are encoded whole; at most ``TOTAL`` encoded messages are kept in all (about 16 MiB
#: of typical messages), those of the files written most recently.
KEPT = 4096
TOTAL = 65_536


class HistoryBytes:
    """Per history file: the message objects of the version last written and their JSON bytes."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[list[Any], list[bytes]]] = {}
        self._mutex = threading.Lock()  # writers of different users may encode at once
        self._total = 0

    def encode(self, doc: dict[str, Any], what: str) -> bytes:
        """``doc`` as compact strict JSON (``ValidationError`` naming ``what`` if it cannot be stored)."""
        messages = doc.get("messages")
        if not isinstance(messages, list) or len(messages) > KEPT:
            self.forget(what)
            return dump_json(doc, what)
        with self._mutex:
            old, old_chunks = self._last.get(what, ([], []))
        chunks = _reuse(old, old_chunks, messages)
        chunks += [dump_json(m, what) for m in messages[len(chunks):]]
        parts = []
        for key, value in doc.items():
            body = b"[" + b",".join(chunks) + b"]" if key == "messages" else dump_json(value, what)
            parts.append(dump_json(key, what) + b":" + body)
        with self._mutex:
            dropped = self._last.pop(what, ([], []))[0]
            self._last[what] = (list(messages), chunks)
            self._total += len(chunks) - len(dropped)
            while self._total > TOTAL and len(self._last) > 1:
                self._total -= len(self._last.pop(next(iter(self._last)))[0])
        return b"{" + b",".join(parts) + b"}"

    def forget(self, prefix: str = "") -> None:
        with self._mutex:
            for what in [w for w in self._last if w.startswith(prefix)]:
                self._total -= len(self._last.pop(what)[0])


def _reuse(old: list[Any], chunks: list[bytes], new: list[Any]) -> list[bytes]:
    """The bytes of ``new``'s first messages when they are the same objects as a run of ``old`` (the usual
    case: the oldest messages trimmed off the front, new ones appended); [] otherwise."""
    if not old or not new:
        return []
    first = new[0]
    for start in range(len(old)):  # where the new history begins in the old one: at the front, most often
        if old[start] is first:
            break
    else:
        return []
    run = min(len(old) - start, len(new))
    if not all(map(operator.is_, old[start:start + run], new[:run])):
        return []
    return chunks[start:start + run]
