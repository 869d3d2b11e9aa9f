"""Rules for permanent memories (by type) and the global context."""

from __future__ import annotations

from typing import Any

from memgui.store.documents import Doc
from memgui.store.errors import ValidationError
from memgui.store.rules.metrics import MetricRules
from memgui.store.values import ABSENT, MISSING, check_expected, clone


def _check_type(memory_type: Any) -> str:
    if not isinstance(memory_type, str) or not memory_type.strip():
        raise ValidationError(f"memory type must be non-empty text, not {memory_type!r}")
    return memory_type


class MemoryRules(MetricRules):
    """Permanent memories and the global context."""

    def _with_memories(self, doc: Doc, memory_type: str, entries: list[Doc]) -> Doc:
        out = dict(doc)
        memories = dict(out.get("memories", {}))
        if entries:
            memories[memory_type] = entries
        else:
            memories.pop(memory_type, None)
        out["memories"] = memories
        return out

    def store_permanent_memory(self, user_id: str, content: Any, memory_type: str = "general") -> bool:
        """Append a memory of ``memory_type`` (creating the user if needed); True."""
        uid = self._uid(user_id)
        _check_type(memory_type)
        if content is None or (isinstance(content, str) and not content.strip()):
            raise ValidationError(f"memory content for {uid!r} must not be empty")
        now = self._iso_now()
        with self._user_txn(uid, create=True) as txn:
            self._ensure_user(txn)
            doc = self._doc(txn, "memories")
            entries = [*doc["memories"].get(memory_type, []),
                       {"content": clone(content), "created_at": now, "updated_at": now}]
            txn.write("memories", self._with_memories(doc, memory_type, entries))
        return True

    def get_permanent_memories(self, user_id: str, memory_type: str | None = None) -> Any:
        """``{type: [memory, ...]}``; with ``memory_type``, that list ([] when unknown)."""
        doc = self._read_doc(self._uid(user_id), "memories") or {"memories": {}}
        if memory_type is not None:
            return clone(doc["memories"].get(memory_type, []))
        return clone(doc["memories"])

    def update_permanent_memory(
        self, user_id: str, index: int, memory_type: str, updates: dict[str, Any], *, expected: Any = MISSING
    ) -> bool:
        """Merge ``updates`` into memory ``index`` of ``memory_type``; False if there is no such memory.

        With ``expected`` (the memory as read), ``ConflictError`` if it changed meanwhile.
        """
        uid = self._uid(user_id)
        if not isinstance(updates, dict):
            raise ValidationError(f"memory update for {uid!r} must be a dict, not {type(updates).__name__}")
        if "content" in updates and updates["content"] is None:
            raise ValidationError(f"memory content for {uid!r} must not be empty")
        with self._user_txn(uid, create=False) as txn:
            doc = self._doc(txn, "memories") if txn.exists else {"memories": {}}
            entries = list(doc["memories"].get(memory_type, []))
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(entries):
                check_expected(ABSENT, expected, f"memory {index} of {memory_type!r} of {uid!r}")
                return False
            check_expected(entries[index], expected, f"memory {index} of {memory_type!r} of {uid!r}")
            entries[index] = {**entries[index], **clone(updates), "updated_at": self._iso_now()}
            txn.write("memories", self._with_memories(doc, memory_type, entries))
        return True

    def delete_permanent_memory(self, user_id: str, index: int, memory_type: str, *, expected: Any = MISSING) -> bool:
        """Remove memory ``index`` of ``memory_type``; False if there is no such memory."""
        uid = self._uid(user_id)
        with self._user_txn(uid, create=False) as txn:
            doc = self._doc(txn, "memories") if txn.exists else {"memories": {}}
            entries = list(doc["memories"].get(memory_type, []))
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(entries):
                check_expected(ABSENT, expected, f"memory {index} of {memory_type!r} of {uid!r}")
                return False
            check_expected(entries[index], expected, f"memory {index} of {memory_type!r} of {uid!r}")
            del entries[index]
            txn.write("memories", self._with_memories(doc, memory_type, entries))
        return True

    # -- global context ----------------------------------------------------------------------------
    def set_global_context(self, key: str, value: Any, *, expected: Any = MISSING) -> bool:
        """Set a global context key; with ``expected`` (the value read, or ``ABSENT``) a compare-and-set."""
        if not isinstance(key, str) or not key:
            raise ValidationError(f"global context key must be non-empty text, not {key!r}")
        with self._global_txn() as txn:
            doc = dict(txn.read() or {})
            current = doc[key]["value"] if key in doc else ABSENT
            check_expected(current, expected, f"global context {key!r}")
            doc[key] = {**doc.get(key, {}), "value": clone(value), "updated_at": self._iso_now()}
            txn.write(doc)
        return True

    def get_global_context(self, key: str) -> Any:
        """The value of a global context key; None when it is not set."""
        entry = (self._read_global() or {}).get(key)
        return clone(entry["value"]) if entry is not None else None

    def get_all_global_context(self) -> dict[str, Any]:
        """Every global context entry: ``{key: {"value", "updated_at"}}``."""
        return clone(self._read_global() or {})

    def delete_global_context(self, key: str, *, expected: Any = MISSING) -> bool:
        """Remove a global context key; True, also when it was not set (the older answer: nothing is left).
        With ``expected`` (the value read), ``ConflictError`` if it changed or is already gone."""
        with self._global_txn() as txn:
            doc = dict(txn.read() or {})
            if key not in doc:
                check_expected(ABSENT, expected, f"global context {key!r}")
                return True
            check_expected(doc[key]["value"], expected, f"global context {key!r}")
            del doc[key]
            txn.write(doc)
        return True


