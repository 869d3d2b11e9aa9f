"""Edits of JSON values: profile fields, global context keys and permanent memories.

Each write is a compare-and-set: the store is given the value as shown (``expected``; ``ABSENT`` for a key
that must not exist yet) and refuses with ``ConflictError`` when it changed meanwhile. The inverse of a write
expects the value the write left, so an undo never overwrites a change made after it.
"""

from __future__ import annotations

import abc
import json
from typing import Any

from memgui.models.edits import GLOBAL_SCOPE, Edit, any_value, quote, require_user
from memgui.store import ABSENT, ConflictError, MemoryStore, MemoryStoreError, ValidationError


def parse_json(text: str, what: str) -> Any:
    """``text`` as a JSON value; ``ValidationError`` saying where it is wrong."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{what} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}), "
                              "so nothing was saved. Text needs quotes: \"like this\".") from None
    except RecursionError:
        raise ValidationError(f"{what} is nested too deeply to be saved.") from None


class KeyedValueEdit(Edit):
    """Set (``value`` given) or delete (``value`` is ``ABSENT``) one key of a JSON document, expecting
    ``expected`` there now."""

    NOUN = "value"

    def __init__(self, scope: str, key: str, value: Any, expected: Any, *, label: str | None = None) -> None:
        self.scope, self.key, self.value, self.expected = scope, key, value, expected
        if label is not None:
            self.label = label
        elif value is ABSENT:
            self.label = f"Delete {self.NOUN} {quote(key)}"
        elif expected is ABSENT:
            self.label = f"Add {self.NOUN} {quote(key)}"
        else:
            self.label = f"Change {self.NOUN} {quote(key)}"

    @abc.abstractmethod
    def current(self, store: MemoryStore) -> Any:
        """The key's value now (``ABSENT`` when it is not there)."""

    @abc.abstractmethod
    def write(self, store: MemoryStore) -> None: ...

    def validate(self) -> None:
        if not isinstance(self.key, str) or not self.key.strip():
            raise ValidationError(f"A {self.NOUN} needs a name.")
        if self.value is not ABSENT:
            try:
                json.dumps(self.value, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise ValidationError(f"{quote(self.key)} cannot be stored as JSON: {exc}") from None

    def apply(self, store: MemoryStore) -> Edit:
        if self.value is ABSENT and self.expected is ABSENT:
            raise ConflictError(f"{self.NOUN} {quote(self.key)} is not there")
        self.write(store)
        return type(self)(self.scope, self.key, self.expected, self.value, label=self.label)

    def rebased(self, store: MemoryStore) -> Edit | None:
        now = self.current(store)
        if (now is ABSENT and self.value is ABSENT) or (now is not ABSENT and now == self.value):
            return None
        return type(self)(self.scope, self.key, self.value, now, label=self.label)

    def explain(self, store: MemoryStore, error: MemoryStoreError) -> str:
        if not isinstance(error, ConflictError):
            return str(error)
        try:
            now = self.current(store)
        except MemoryStoreError as exc:
            return f"The {self.NOUN} {quote(self.key)} could not be read again: {exc}"
        if now is ABSENT:
            return f"The {self.NOUN} {quote(self.key)} was removed meanwhile (by another program or window)."
        if self.expected is ABSENT:
            return f"The {self.NOUN} {quote(self.key)} was added meanwhile, as {any_value(now)}."
        return f"The {self.NOUN} {quote(self.key)} was changed meanwhile to {any_value(now)}."


class ProfileEdit(KeyedValueEdit):
    NOUN = "profile field"

    def current(self, store: MemoryStore) -> Any:
        return store.get_user_profile(self.scope).get(self.key, ABSENT)

    def write(self, store: MemoryStore) -> None:
        if self.value is ABSENT:
            store.delete_profile_field(self.scope, self.key, expected=self.expected)
        else:
            store.set_profile_field(self.scope, self.key, self.value, expected=self.expected)


class GlobalEdit(KeyedValueEdit):
    NOUN = "global context key"

    def __init__(self, scope: str, key: str, value: Any, expected: Any, *, label: str | None = None) -> None:
        super().__init__(GLOBAL_SCOPE, key, value, expected, label=label)

    def current(self, store: MemoryStore) -> Any:
        entry = store.get_all_global_context().get(self.key)
        return entry.get("value") if isinstance(entry, dict) else ABSENT

    def write(self, store: MemoryStore) -> None:
        if self.value is ABSENT:
            store.delete_global_context(self.key, expected=self.expected)
        else:
            store.set_global_context(self.key, self.value, expected=self.expected)


# -- permanent memories ----------------------------------------------------------------------------------
def _check_content(content: Any) -> None:
    if content is None or (isinstance(content, str) and not content.strip()):
        raise ValidationError("A memory can't be empty.")


def _find_memory(store: MemoryStore, user_id: str, memory_type: str, entry: dict[str, Any]) -> int:
    """The index of ``entry`` (recognized by its creation time, else by equality) in its type, or -1."""
    entries = store.get_permanent_memories(user_id, memory_type)
    stamp = entry.get("created_at")
    for i, other in enumerate(entries):
        if other == entry or (stamp is not None and other.get("created_at") == stamp):
            return i
    return -1


def same_memory(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """The same memory in the same state: everything equal but ``updated_at``, which the store sets on every
    write (an undo that brings a memory back cannot give it its old one)."""
    return {k: v for k, v in a.items() if k != "updated_at"} == {k: v for k, v in b.items() if k != "updated_at"}


def _locate(store: MemoryStore, user_id: str, memory_type: str, index: int,
            expected: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Where the memory shown as ``expected`` at ``index`` is now, and how it is stored. Positions shift when
    another memory of the type is deleted or comes back at the end (an undo). ``ConflictError`` when it is
    not there in the state shown. The write that follows expects exactly the entry returned, so a change
    made in between is refused by the store."""
    entries = store.get_permanent_memories(user_id, memory_type)
    if 0 <= index < len(entries) and same_memory(entries[index], expected):
        return index, entries[index]
    for i, entry in enumerate(entries):
        if same_memory(entry, expected):
            return i, entry
    raise ConflictError(f"memory {index} of {memory_type!r} of {user_id!r} changed since it was read")


def _entry_at(store: MemoryStore, user_id: str, memory_type: str, index: int) -> dict[str, Any]:
    """The memory just written at ``index`` (``ConflictError`` if another process removed it meanwhile)."""
    entries = store.get_permanent_memories(user_id, memory_type)
    if not 0 <= index < len(entries):
        raise ConflictError(f"memory {index} of {memory_type!r} was removed right after it was written")
    entry: dict[str, Any] = entries[index]
    return entry


class MemoryUpdate(Edit):
    """Change the content of memory ``index`` of ``memory_type``, shown as ``expected``."""

    def __init__(self, user_id: str, memory_type: str, index: int, expected: dict[str, Any], content: Any,
                 *, label: str | None = None) -> None:
        self.scope, self.memory_type, self.index, self.expected, self.content = \
            user_id, memory_type, index, expected, content
        self.label = label or f"Change memory {any_value(expected.get('content'))}"

    def validate(self) -> None:
        _check_content(self.content)

    def apply(self, store: MemoryStore) -> Edit:
        index, entry = _locate(store, self.scope, self.memory_type, self.index, self.expected)
        store.update_permanent_memory(self.scope, index, self.memory_type, {"content": self.content},
                                      expected=entry)
        now = _entry_at(store, self.scope, self.memory_type, index)
        return MemoryUpdate(self.scope, self.memory_type, index, now, self.expected.get("content"),
                            label=self.label)

    def rebased(self, store: MemoryStore) -> Edit | None:
        index = _find_memory(store, self.scope, self.memory_type, self.expected)
        if index < 0:
            return None
        now = store.get_permanent_memories(self.scope, self.memory_type)[index]
        if now.get("content") == self.content:
            return None
        return MemoryUpdate(self.scope, self.memory_type, index, now, self.content, label=self.label)

    def explain(self, store: MemoryStore, error: MemoryStoreError) -> str:
        return _memory_news(store, self.scope, self.memory_type, self.expected, error)


class MemoryAdd(Edit):
    """Append a memory; with ``original`` (an entry that was deleted), its creation time and any other keys
    come back too (the store appends: the memory returns at the end of its type's list)."""

    def __init__(self, user_id: str, memory_type: str, content: Any, *, original: dict[str, Any] | None = None,
                 label: str | None = None) -> None:
        self.scope, self.memory_type, self.content, self.original = user_id, memory_type, content, original
        self.label = label or f"Add memory {any_value(content)}"

    def validate(self) -> None:
        _check_content(self.content)
        if not isinstance(self.memory_type, str) or not self.memory_type.strip():
            raise ValidationError("A memory needs a type: pick one or type a new one.")

    def apply(self, store: MemoryStore) -> Edit:
        require_user(store, self.scope)
        store.store_permanent_memory(self.scope, self.content, self.memory_type)
        entries = store.get_permanent_memories(self.scope, self.memory_type)
        index = max((i for i, e in enumerate(entries) if e.get("content") == self.content), default=-1)
        if index < 0:
            raise ConflictError(f"the memory {any_value(self.content)} was removed again right after it was added")
        if self.original:
            extra = {k: v for k, v in self.original.items() if k not in ("content", "updated_at")}
            if extra:
                store.update_permanent_memory(self.scope, index, self.memory_type, extra, expected=entries[index])
        return MemoryDelete(self.scope, self.memory_type, index, _entry_at(store, self.scope, self.memory_type, index),
                            label=self.label)


class MemoryDelete(Edit):
    def __init__(self, user_id: str, memory_type: str, index: int, expected: dict[str, Any],
                 *, label: str | None = None) -> None:
        self.scope, self.memory_type, self.index, self.expected = user_id, memory_type, index, expected
        self.label = label or f"Delete memory {any_value(expected.get('content'))}"

    def apply(self, store: MemoryStore) -> Edit:
        index, entry = _locate(store, self.scope, self.memory_type, self.index, self.expected)
        if not store.delete_permanent_memory(self.scope, index, self.memory_type, expected=entry):
            raise ConflictError(f"memory {self.index} of {self.memory_type!r} is not there")
        return MemoryAdd(self.scope, self.memory_type, entry.get("content"), original=entry, label=self.label)

    def rebased(self, store: MemoryStore) -> Edit | None:
        index = _find_memory(store, self.scope, self.memory_type, self.expected)
        if index < 0:
            return None
        now = store.get_permanent_memories(self.scope, self.memory_type)[index]
        return MemoryDelete(self.scope, self.memory_type, index, now, label=self.label)

    def explain(self, store: MemoryStore, error: MemoryStoreError) -> str:
        return _memory_news(store, self.scope, self.memory_type, self.expected, error)


def _memory_news(store: MemoryStore, user_id: str, memory_type: str, expected: dict[str, Any],
                 error: MemoryStoreError) -> str:
    if not isinstance(error, ConflictError):
        return str(error)
    shown = any_value(expected.get("content"))
    try:
        index = _find_memory(store, user_id, memory_type, expected)
        now = store.get_permanent_memories(user_id, memory_type)[index] if index >= 0 else None
    except MemoryStoreError as exc:
        return f"The memories of {user_id!r} could not be read again: {exc}"
    if now is None:
        return f"The memory {shown} was removed meanwhile (by another program or window)."
    if now.get("content") != expected.get("content"):
        return f"The memory {shown} was changed meanwhile to {any_value(now.get('content'))}."
    return f"The memory {shown} was changed or moved meanwhile."
