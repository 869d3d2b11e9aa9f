"""Edits of facts as store writes that know their inverse: the unit of undo and redo.

An ``Edit`` is one change the admin asked for, made through the store's stale-read checks. ``apply`` writes
it (raising ``ConflictError`` when what was shown is no longer there, ``ValidationError`` for bad input)
and returns the edit that undoes it, itself checked against the state it leaves. ``rebased`` is the same
intent re-expressed on what the store holds now (the banner's "Reapply"); ``explain`` says in words what
changed meanwhile. Plain Python over a ``MemoryStore``: no Qt here.
"""

from __future__ import annotations

import abc
import contextlib
import json
from collections.abc import Sequence
from typing import Any

from memgui.store import ConflictError, MemoryStore, MemoryStoreError, ValidationError

#: The scope of an edit of the global context (a user's edits have the user id as scope).
GLOBAL_SCOPE = ""


def quote(text: str, limit: int = 60) -> str:
    """``text`` in quotes, shortened to ``limit`` characters, on one line."""
    one_line = " ".join(str(text).split())
    return f"“{one_line if len(one_line) <= limit else one_line[: limit - 1] + '…'}”"


class Edit(abc.ABC):
    """One write and what it needs to be undone, redone and explained."""

    scope: str  # the user id, or GLOBAL_SCOPE
    label: str  # what the Edit menu says ("Change fact “x”")

    def validate(self) -> None:  # noqa: B027 - most edits have nothing to check before the store does
        """Raise ``ValidationError`` (a message for people) for input that must not reach the store."""

    @abc.abstractmethod
    def apply(self, store: MemoryStore) -> Edit:
        """Write the change; return the edit that undoes it."""

    def rebased(self, store: MemoryStore) -> Edit | None:
        """The same change expressed on what the store holds now; None when nothing is left to do."""
        return None

    def explain(self, store: MemoryStore, error: MemoryStoreError) -> str:
        """What changed meanwhile, for the conflict banner."""
        return str(error)


# -- facts ---------------------------------------------------------------------------------------------
def find_fact(store: MemoryStore, user_id: str, fact_id: str) -> tuple[str, str] | None:
    """(category, text) of the fact ``fact_id`` as stored now, or None when it is gone."""
    for record in store.get_fact_records(user_id):
        if record["id"] == fact_id:
            return str(record["category"]), str(record["text"])
    return None


def fact_exists(store: MemoryStore, user_id: str, category: str, text: str) -> bool:
    return text in (store.get_user_facts(user_id).get(category) or [])


def require_user(store: MemoryStore, user_id: str) -> None:
    """An edit never brings back a user that was erased meanwhile (the store's adds would create them)."""
    if not store.user_exists(user_id):
        raise ConflictError(f"The user {user_id!r} no longer exists: they were erased or renamed meanwhile.")


def check_fact(category: str, text: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("A fact can't be empty: type what the assistant should remember.")
    if not isinstance(category, str) or not category.strip():
        raise ValidationError("A fact needs a category: pick one or type a new one.")


class FactAdd(Edit):
    def __init__(self, user_id: str, category: str, text: str) -> None:
        self.scope, self.category, self.text = user_id, category, text
        self.label = f"Add fact {quote(text)}"

    def validate(self) -> None:
        check_fact(self.category, self.text)

    def apply(self, store: MemoryStore) -> Edit:
        require_user(store, self.scope)
        if not store.add_user_fact(self.scope, self.text, self.category, by="admin"):
            raise ConflictError(f"{quote(self.text)} is already a fact in {quote(self.category)}: it was "
                                "added meanwhile")
        record = next((r for r in store.get_fact_records(self.scope)
                       if (r["category"], r["text"]) == (self.category, self.text)), None)
        if record is None:  # another process removed it in the instant between the two calls
            raise ConflictError(f"{quote(self.text)} was removed again right after it was added.")
        return FactRemove(self.scope, self.category, self.text, str(record["id"]), label=self.label)

    def rebased(self, store: MemoryStore) -> Edit | None:
        return None if fact_exists(store, self.scope, self.category, self.text) else self


class FactUpdate(Edit):
    """Change a fact's text and/or category, from the state shown (``category``, ``text``)."""

    def __init__(self, user_id: str, fact_id: str, category: str, text: str, new_category: str, new_text: str,
                 *, label: str | None = None) -> None:
        self.scope, self.fact_id = user_id, fact_id
        self.category, self.text, self.new_category, self.new_text = category, text, new_category, new_text
        if label is not None:
            self.label = label
        elif new_category != category and new_text == text:
            self.label = f"Move fact {quote(text)} to {quote(new_category)}"
        else:
            self.label = f"Change fact {quote(text)}"

    def validate(self) -> None:
        check_fact(self.new_category, self.new_text)

    def apply(self, store: MemoryStore) -> Edit:
        try:
            store.update_user_fact(self.scope, self.category, self.text, self.new_text,
                                   new_category=self.new_category if self.new_category != self.category else None,
                                   by="admin")
        except ValidationError as exc:
            if not fact_exists(store, self.scope, self.new_category, self.new_text):
                raise
            raise ValidationError(f"{quote(self.new_text)} is already a fact in {quote(self.new_category)}.") \
                from exc
        return FactUpdate(self.scope, self.fact_id, self.new_category, self.new_text, self.category, self.text,
                          label=self.label)

    def rebased(self, store: MemoryStore) -> Edit | None:
        now = find_fact(store, self.scope, self.fact_id)
        if now == (self.new_category, self.new_text):
            return None
        if now is None:
            if fact_exists(store, self.scope, self.new_category, self.new_text):
                return None
            return FactAdd(self.scope, self.new_category, self.new_text)
        return FactUpdate(self.scope, self.fact_id, *now, self.new_category, self.new_text, label=self.label)

    def explain(self, store: MemoryStore, error: MemoryStoreError) -> str:
        return _fact_news(store, self.scope, self.fact_id, self.category, self.text, error)


class FactRemove(Edit):
    def __init__(self, user_id: str, category: str, text: str, fact_id: str, *, label: str | None = None) -> None:
        self.scope, self.category, self.text, self.fact_id = user_id, category, text, fact_id
        self.label = label or f"Delete fact {quote(text)}"

    def apply(self, store: MemoryStore) -> Edit:
        record = store.remove_user_fact(self.scope, self.category, self.text, by="admin")
        versions = store.get_fact_versions(self.scope, str(record["id"]))
        removal = next((v for v in reversed(versions) if v.get("action") == "remove"), None)
        if removal is None:
            raise MemoryStoreError(f"the removal of {quote(self.text)} was not recorded: it cannot be undone")
        return FactRestore(self.scope, str(removal["id"]), self.category, self.text, str(record["id"]),
                           label=self.label)

    def rebased(self, store: MemoryStore) -> Edit | None:
        now = find_fact(store, self.scope, self.fact_id)
        return None if now is None else FactRemove(self.scope, *now, self.fact_id, label=self.label)

    def explain(self, store: MemoryStore, error: MemoryStoreError) -> str:
        return _fact_news(store, self.scope, self.fact_id, self.category, self.text, error)


class FactRestore(Edit):
    """Bring back a removed fact from the version entry of its removal (same id, history continues)."""

    def __init__(self, user_id: str, version_id: str, category: str, text: str, fact_id: str,
                 *, label: str | None = None) -> None:
        self.scope, self.version_id, self.category, self.text, self.fact_id = \
            user_id, version_id, category, text, fact_id
        self.label = label or f"Restore fact {quote(text)}"

    def apply(self, store: MemoryStore) -> Edit:
        now = find_fact(store, self.scope, self.fact_id)
        if now is not None:
            raise ConflictError(f"The fact {quote(self.text)} is back already, as {quote(now[1])} in "
                                f"{quote(now[0])}.")
        if fact_exists(store, self.scope, self.category, self.text):
            raise ConflictError(f"{quote(self.text)} was added to {quote(self.category)} again meanwhile.")
        try:
            store.restore_fact_version(self.scope, self.version_id, by="admin")
        except ValidationError as exc:
            raise ConflictError(str(exc)) from exc
        return FactRemove(self.scope, self.category, self.text, self.fact_id, label=self.label)

    def rebased(self, store: MemoryStore) -> Edit | None:
        gone = find_fact(store, self.scope, self.fact_id) is None
        return self if gone and not fact_exists(store, self.scope, self.category, self.text) else None


def _fact_news(store: MemoryStore, user_id: str, fact_id: str, category: str, text: str,
               error: MemoryStoreError) -> str:
    if not isinstance(error, ConflictError):
        return str(error)
    try:
        now = find_fact(store, user_id, fact_id)
    except MemoryStoreError as exc:
        return f"The facts of {user_id!r} could not be read again: {exc}"
    if now is None:
        return f"The fact {quote(text)} was removed meanwhile (by another program or window)."
    if now[0] != category and now[1] == text:
        return f"The fact {quote(text)} was moved meanwhile from {quote(category)} to {quote(now[0])}."
    where = f" in {quote(now[0])}" if now[0] != category else ""
    return f"The fact {quote(text)} was changed meanwhile to {quote(now[1])}{where}."


# -- several edits as one ------------------------------------------------------------------------------
class CompositeEdit(Edit):
    """Edits made one after the other as one undo step. If one is refused, those already made are undone
    (each through its own checks), so the store is left as it was; the refusal is then raised."""

    def __init__(self, edits: Sequence[Edit], label: str) -> None:
        self.edits = list(edits)
        self.scope = self.edits[0].scope if self.edits else GLOBAL_SCOPE
        self.label = label
        self.failed: Edit | None = None

    def validate(self) -> None:
        for edit in self.edits:
            edit.validate()

    def apply(self, store: MemoryStore) -> Edit:
        inverses: list[Edit] = []
        for edit in self.edits:
            try:
                inverses.append(edit.apply(store))
            except MemoryStoreError:
                self.failed = edit
                for inverse in reversed(inverses):
                    with contextlib.suppress(MemoryStoreError):  # changed again in between: theirs stays
                        inverse.apply(store)
                raise
        return CompositeEdit(list(reversed(inverses)), self.label)

    def rebased(self, store: MemoryStore) -> Edit | None:
        edits = [e for e in (edit.rebased(store) for edit in self.edits) if e is not None]
        return CompositeEdit(edits, self.label) if edits else None

    def explain(self, store: MemoryStore, error: MemoryStoreError) -> str:
        return self.failed.explain(store, error) if self.failed is not None else str(error)


def fact_move_plan(selected: Sequence[tuple[str, str, str]], target: str,
                   existing: Sequence[tuple[str, str]]) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Which of the ``selected`` facts (id, category, text) a move to category ``target`` changes, and one
    line per selected fact saying what happens to it (the preview). ``existing`` is every (category, text)
    the user has: a fact whose text is already in ``target`` is skipped, not duplicated."""
    moving: list[tuple[str, str, str]] = []
    lines: list[str] = []
    texts_in_target = {text for category, text in existing if category == target}
    for fact_id, category, text in selected:
        if category == target:
            lines.append(f"[{category}] {text}   (already there: unchanged)")
        elif text in texts_in_target:
            lines.append(f"[{category}] {text}   (skipped: {target} has the same fact)")
        else:
            texts_in_target.add(text)
            moving.append((fact_id, category, text))
            lines.append(f"[{category}] {text}   →   [{target}]")
    return moving, lines


def any_value(value: Any) -> str:
    """A value for a message: text as it is, the rest as short JSON."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return quote(text, 80)
