"""Rules for facts: add, edit, recategorize, remove, with provenance and a version log.

The v1 shape ``{"categories": {category: [text, ...]}}`` stays what old readers expect. Provenance lives
beside it in ``fact_meta[category][text]`` (id, when and by whom added and changed, the message it came
from); every change appends the previous and new state to ``fact_versions.jsonl``. A fact is identified
by (category, text), which stays true while other processes append facts.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from memgui.store.backend import UserTxn
from memgui.store.documents import Doc
from memgui.store.errors import ConflictError, ValidationError
from memgui.store.rules.messages import MessageRules
from memgui.store.values import clone

SOURCES = ("assistant", "admin", "import")
DEFAULT_CATEGORY = "general"


def _fact_id(category: str, text: str) -> str:
    basis = f"{category}\x00{text}".encode("utf-8", "surrogatepass")
    return "v1f-" + hashlib.blake2b(basis, digest_size=10).hexdigest()


def _check_text(text: Any, what: str) -> str:
    if not isinstance(text, str):
        raise ValidationError(f"{what} must be text, not {type(text).__name__}")
    if not text.strip():
        raise ValidationError(f"{what} must not be empty")
    return text


def _check_source(by: str) -> str:
    if by not in SOURCES:
        raise ValidationError(f"fact source must be one of {', '.join(SOURCES)}, not {by!r}")
    return by


class FactRules(MessageRules):
    """User facts by category."""

    def _fact_meta(self, doc: Doc, category: str, text: str) -> dict[str, Any]:
        meta = doc.get("fact_meta", {}).get(category, {}).get(text)
        return meta if isinstance(meta, dict) else {}

    def _record(self, doc: Doc, category: str, text: str) -> dict[str, Any]:
        meta = self._fact_meta(doc, category, text)
        return {
            "id": meta.get("id") or _fact_id(category, text),
            "category": category,
            "text": text,
            "added_at": meta.get("added_at"),
            "added_by": meta.get("added_by"),
            "changed_at": meta.get("changed_at"),
            "changed_by": meta.get("changed_by"),
            "source_message_id": meta.get("source_message_id"),
            "context_message_id": meta.get("context_message_id"),
        }

    def _place(self, doc: Doc, category: str, text: str, meta: dict[str, Any] | None, at: int | None = None) -> Doc:
        """A copy of the facts doc with ``text`` in ``category`` (at position ``at``) and its meta."""
        out = dict(doc)
        categories = dict(out.get("categories", {}))
        facts = list(categories.get(category, []))
        facts.insert(len(facts) if at is None else at, text)
        categories[category] = facts
        out["categories"] = categories
        if meta is not None:
            all_meta = dict(out.get("fact_meta", {}))
            cat_meta = dict(all_meta.get(category, {}))
            cat_meta[text] = meta
            all_meta[category] = cat_meta
            out["fact_meta"] = all_meta
        out["last_updated"] = self._iso_now()
        return out

    def _unplace(self, doc: Doc, category: str, text: str) -> tuple[Doc, int]:
        """A copy of the facts doc without that fact, and where it was."""
        out = dict(doc)
        categories = dict(out.get("categories", {}))
        facts = list(categories.get(category, []))
        position = facts.index(text)
        del facts[position]
        if facts:
            categories[category] = facts
        else:
            del categories[category]
        out["categories"] = categories
        all_meta = dict(out.get("fact_meta", {}))
        if text in all_meta.get(category, {}):
            cat_meta = {k: v for k, v in all_meta[category].items() if k != text}
            if cat_meta:
                all_meta[category] = cat_meta
            else:
                del all_meta[category]
            out["fact_meta"] = all_meta
        out["last_updated"] = self._iso_now()
        return out, position

    def _log_version(self, txn: UserTxn, fact_id: str, action: str, by: str,
                     before: tuple[str, str] | None, after: tuple[str, str] | None) -> None:
        def state(pair: tuple[str, str] | None) -> dict[str, str] | None:
            return None if pair is None else {"category": pair[0], "text": pair[1]}

        txn.append("fact_versions", [{
            "id": uuid.uuid4().hex, "fact_id": fact_id, "at": self._iso_now(), "by": by, "action": action,
            "before": state(before), "after": state(after),
        }])

    def _log_original(self, txn: UserTxn, doc: Doc, category: str, text: str) -> None:
        """Before the first change of a fact the older implementation wrote (no provenance, no version yet),
        record its original state, so that the change can be undone by restoring that entry."""
        if self._fact_meta(doc, category, text):
            return
        stamp = doc.get("last_updated")
        txn.append("fact_versions", [{
            "id": uuid.uuid4().hex, "fact_id": self._record(doc, category, text)["id"],
            "at": stamp if isinstance(stamp, str) else self._iso_now(), "by": "import", "action": "add",
            "before": None, "after": {"category": category, "text": text},
        }])

    def _latest_message_id(self, txn: UserTxn) -> str | None:
        messages = self._doc(txn, "history")["messages"]
        from memgui.store.documents import message_id

        return message_id(messages[-1]) if messages else None

    # -- documented and compatible API -------------------------------------------------------------
    def add_user_fact(
        self, user_id: str, fact: str, category: str = DEFAULT_CATEGORY, *, by: str = "assistant",
        source_message_id: str | None = None,
    ) -> bool:
        """Add a fact (text first, then category); True when added, False when it was already there."""
        uid = self._uid(user_id)
        text = _check_text(fact, f"fact for {uid!r}")
        category = _check_text(category, f"fact category for {uid!r}")
        _check_source(by)
        with self._user_txn(uid, create=True) as txn:
            self._ensure_user(txn)
            doc = self._doc(txn, "facts")
            if text in doc.get("categories", {}).get(category, []):
                return False
            now = self._iso_now()
            fact_id = uuid.uuid4().hex
            meta = {"id": fact_id, "added_at": now, "added_by": by, "changed_at": now,
                    "changed_by": by, "source_message_id": source_message_id,
                    "context_message_id": source_message_id or self._latest_message_id(txn)}
            txn.write("facts", self._place(doc, category, text, meta))
            self._log_version(txn, fact_id, "add", by, None, (category, text))
        return True

    def store_user_fact(self, user_id: str, fact_type: str, fact: str) -> bool:
        """Older API (category first): store a fact; True, also when it was already there."""
        self.add_user_fact(user_id, fact, fact_type)
        return True

    def get_user_facts(self, user_id: str, fact_type: str | None = None) -> Any:
        """``{category: [text, ...]}``; with ``fact_type``, that category's list ([] when unknown)."""
        doc = self._read_doc(self._uid(user_id), "facts") or {"categories": {}}
        if fact_type is not None:
            return list(doc["categories"].get(fact_type, []))
        return {name: list(facts) for name, facts in doc["categories"].items()}

    def get_fact_records(self, user_id: str) -> list[dict[str, Any]]:
        """Every fact with its provenance, in category order then insertion order."""
        doc = self._read_doc(self._uid(user_id), "facts") or {"categories": {}}
        return [self._record(doc, cat, text) for cat, facts in doc["categories"].items() for text in facts]

    def update_user_fact(
        self, user_id: str, category: str, old_text: str, new_text: str, *,
        new_category: str | None = None, by: str = "admin",
    ) -> dict[str, Any]:
        """Change a fact's text and/or category; ``ConflictError`` if it is no longer there."""
        uid = self._uid(user_id)
        text = _check_text(new_text, f"fact for {uid!r}")
        target = _check_text(new_category, f"fact category for {uid!r}") if new_category is not None else category
        _check_source(by)
        with self._user_txn(uid, create=False) as txn:
            doc = self._doc(txn, "facts") if txn.exists else {"categories": {}}
            if old_text not in doc["categories"].get(category, []):
                raise ConflictError(f"fact {old_text!r} in {category!r} of {uid!r} is no longer there")
            if (target, text) == (category, old_text):
                return self._record(doc, category, old_text)
            if text in doc["categories"].get(target, []):
                raise ValidationError(f"fact {text!r} already exists in category {target!r}")
            self._log_original(txn, doc, category, old_text)
            record = self._record(doc, category, old_text)
            meta = dict(self._fact_meta(doc, category, old_text))
            meta.update(id=record["id"], changed_at=self._iso_now(), changed_by=by)
            doc, position = self._unplace(doc, category, old_text)
            doc = self._place(doc, target, text, meta, position if target == category else None)
            txn.write("facts", doc)
            action = "update" if target == category else ("recategorize" if text == old_text else "update")
            self._log_version(txn, record["id"], action, by, (category, old_text), (target, text))
            return self._record(doc, target, text)

    def remove_user_fact(self, user_id: str, category: str, text: str, *, by: str = "admin") -> dict[str, Any]:
        """Remove a fact; ``ConflictError`` if it is no longer there. Returns what was removed."""
        uid = self._uid(user_id)
        _check_source(by)
        with self._user_txn(uid, create=False) as txn:
            doc = self._doc(txn, "facts") if txn.exists else {"categories": {}}
            if text not in doc["categories"].get(category, []):
                raise ConflictError(f"fact {text!r} in {category!r} of {uid!r} is no longer there")
            self._log_original(txn, doc, category, text)
            record = self._record(doc, category, text)
            doc, _ = self._unplace(doc, category, text)
            txn.write("facts", doc)
            self._log_version(txn, record["id"], "remove", by, (category, text), None)
        return record

    def get_fact_versions(self, user_id: str, fact_id: str | None = None) -> list[dict[str, Any]]:
        """The version log, oldest first; only one fact's entries when ``fact_id`` is given."""
        entries = self._read_log(self._uid(user_id), "fact_versions")
        return [clone(e) for e in entries if fact_id is None or e.get("fact_id") == fact_id]

    def restore_fact_version(self, user_id: str, version_id: str, *, by: str = "admin") -> dict[str, Any]:
        """Bring a fact back to the state a version entry recorded (its ``after``, or for a removal its
        ``before``), re-adding it if it was removed. Returns the fact as now stored."""
        uid = self._uid(user_id)
        _check_source(by)
        with self._user_txn(uid, create=False) as txn:
            if not txn.exists:
                raise ConflictError(f"user {uid!r} does not exist")
            entry = next((e for e in txn.read_log("fact_versions") if e.get("id") == version_id), None)
            if entry is None:
                raise ConflictError(f"fact version {version_id!r} of {uid!r} does not exist")
            state = entry.get("after") or entry.get("before")
            if not isinstance(state, dict):
                raise ConflictError(f"fact version {version_id!r} records no state to restore")
            category, text = state["category"], state["text"]
            fact_id = entry["fact_id"]
            doc = self._doc(txn, "facts")
            current = next(((c, t) for c, facts in doc["categories"].items() for t in facts
                            if self._record(doc, c, t)["id"] == fact_id), None)
            if current == (category, text):
                return self._record(doc, category, text)
            if text in doc["categories"].get(category, []):
                raise ValidationError(f"fact {text!r} already exists in category {category!r}")
            now = self._iso_now()
            if current is None:
                meta = {"id": fact_id, "added_at": now, "added_by": by, "changed_at": now, "changed_by": by,
                        "source_message_id": None, "context_message_id": None}
                doc = self._place(doc, category, text, meta)
            else:
                meta = dict(self._fact_meta(doc, *current))
                meta.update(id=fact_id, changed_at=now, changed_by=by)
                doc, position = self._unplace(doc, *current)
                doc = self._place(doc, category, text, meta, position if current[0] == category else None)
            txn.write("facts", doc)
            self._log_version(txn, fact_id, "restore", by, current, (category, text))
            return self._record(doc, category, text)
