"""The logical history and metrics of a user: the files plus the journal's message records they lack."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from memgui.store.backends.json.journal import SEQ_KEY, MessageRecord
from memgui.store.documents import Doc, normalize_message

CountFn = Callable[[Doc, Doc, date], Doc]


def file_seq(doc: Doc | None, base: int) -> int:
    """The last journal seq a history or metrics file includes (a file without the key: the base)."""
    value = (doc or {}).get(SEQ_KEY)
    return value if isinstance(value, int) and not isinstance(value, bool) else base


def merge_history(doc: Doc | None, base: int, records: list[MessageRecord]) -> tuple[Doc, list[Doc]]:
    """(history with the pending messages, in order and trimmed as each record asked; the messages trimmed
    on the way that go to the archive)."""
    doc = doc if doc is not None else {"messages": []}
    seq = file_seq(doc, base)
    pending = [r for r in records if r["seq"] > seq]
    if not pending:
        return doc, []
    messages = list(doc["messages"])
    archived: list[Doc] = []
    for record in pending:
        messages.append(record["msg"])
        limit = record.get("max") or 0
        if limit and len(messages) > limit:
            cut = len(messages) - limit
            if record.get("archive", True):
                archived.extend(normalize_message(m) for m in messages[:cut])
            messages = messages[cut:]
    out = dict(doc)
    out["messages"] = messages
    out[SEQ_KEY] = pending[-1]["seq"]
    return out, archived


def merge_metrics(doc: Doc | None, base: int, records: list[MessageRecord], count: CountFn) -> Doc:
    """Metrics with every pending message counted, each on the local day its record names."""
    doc = doc if doc is not None else {}
    seq = file_seq(doc, base)
    pending = [r for r in records if r["seq"] > seq]
    if not pending:
        return doc
    for record in pending:
        doc = count(doc, record["msg"], date.fromisoformat(record["day"]))
    out = dict(doc)
    out[SEQ_KEY] = pending[-1]["seq"]
    return out


def bulk_append(
    history: Doc | None, items: list[tuple[Doc, date]], limit: int, archive: bool
) -> tuple[Doc, list[Doc]]:
    """(history with ``items``' messages added and trimmed to ``limit``; the trimmed messages to archive)."""
    history = history if history is not None else {"messages": []}
    messages = [*history["messages"], *(m for m, _ in items)]
    archived: list[Doc] = []
    if limit and len(messages) > limit:
        trimmed, messages = messages[:-limit], messages[-limit:]
        if archive:
            archived = [normalize_message(m) for m in trimmed]
    return {**history, "messages": messages}, archived


def public_metrics(doc: Doc) -> Doc:
    """Metrics as callers see them, without the store's bookkeeping key."""
    return {k: v for k, v in doc.items() if k != SEQ_KEY} if SEQ_KEY in doc else doc
