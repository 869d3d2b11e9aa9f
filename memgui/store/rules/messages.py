"""Rules for the conversation: storing messages, trimming to MAX_MESSAGES into the archive, reading back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from memgui.store.documents import ROLES, Doc, message_id, new_message_id, normalize_message, word_count
from memgui.store.errors import ValidationError
from memgui.store.rules import streaks
from memgui.store.rules.users import UserRules
from memgui.store.timeutil import as_aware, local_date, parse_timestamp
from memgui.store.values import clone


class MessageRules(UserRules):
    """Conversation history and the metrics every message updates."""

    def _message_time(self, timestamp: str | datetime | None) -> tuple[str, datetime]:
        """The timestamp text to store and the moment it names."""
        if timestamp is None:
            moment = self._now()
            return moment.isoformat(), moment
        if isinstance(timestamp, datetime):
            return timestamp.isoformat(), as_aware(timestamp, self.default_zone)
        if isinstance(timestamp, str):
            try:
                return timestamp, parse_timestamp(timestamp, self.default_zone)
            except ValueError as exc:
                raise ValidationError(f"timestamp: {exc}") from None
        raise ValidationError(f"timestamp must be ISO 8601 text or a datetime, not {type(timestamp).__name__}")

    def _new_message(self, uid: str, role: str, content: str, timestamp: str | datetime | None,
                     metadata: dict[str, Any] | None) -> tuple[Doc, datetime]:
        """A validated message record and the moment it names."""
        if role not in ROLES:
            raise ValidationError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if not isinstance(content, str):
            raise ValidationError(f"message content for {uid!r} must be text, not {type(content).__name__}")
        if metadata is not None and not isinstance(metadata, dict):
            raise ValidationError(f"message metadata for {uid!r} must be a dict, not {type(metadata).__name__}")
        stamp, moment = self._message_time(timestamp)
        message: Doc = {
            "content": content,
            "timestamp": stamp,
            "is_user": role == "user",
            "metadata": clone(metadata) if metadata else {},
            "word_count": word_count(content),
            "id": new_message_id(),
            "role": role,
        }
        return message, moment

    def add_message(
        self,
        user_id: str,
        role: str,
        content: str,
        *,
        timestamp: str | datetime | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store one message (creating the user if needed) and count it in the metrics and streak.

        The streak is updated from the message's own timestamp, in the same transaction as the message,
        so it can never be lost to another writer. Returns the message as stored.
        """
        uid = self._uid(user_id)
        message, moment = self._new_message(uid, role, content, timestamp, metadata)
        with self._user_txn(uid, create=True) as txn:
            self._ensure_user(txn)
            txn.append_message(message, local_date(moment, self._txn_zone(txn)))
        return {**message, "metadata": clone(message["metadata"])}

    def add_messages(self, user_id: str, messages: list[dict[str, Any]]) -> int:
        """Store many messages in one transaction (an import): each a dict with ``role``, ``content`` and
        optionally ``timestamp`` and ``metadata``, oldest first. All are validated before any is stored.
        Returns how many were stored."""
        uid = self._uid(user_id)
        if not isinstance(messages, list):
            raise ValidationError(f"messages for {uid!r} must be a list, not {type(messages).__name__}")
        built = []
        for i, item in enumerate(messages):
            if not isinstance(item, dict):
                raise ValidationError(f"message {i} for {uid!r} must be a dict, not {type(item).__name__}")
            built.append(self._new_message(uid, item.get("role", "user"), item.get("content"),  # type: ignore[arg-type]
                                           item.get("timestamp"), item.get("metadata")))
        with self._user_txn(uid, create=True) as txn:
            self._ensure_user(txn)
            zone = self._txn_zone(txn)
            for message, moment in built:
                txn.append_message(message, local_date(moment, zone))
        return len(built)

    def store_message(
        self,
        user_id: str,
        message: str,
        is_user: bool = True,
        timestamp: str | datetime | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> bool:
        """Older API: store a user (``is_user``) or assistant message; True."""
        self.add_message(user_id, "user" if is_user else "assistant", message, timestamp=timestamp,
                         metadata=metadata)
        return True

    def get_message_history(
        self, user_id: str, limit: int | None = None, *, include_archived: bool = False
    ) -> list[dict[str, Any]]:
        """Messages oldest first; ``limit`` N keeps the newest N (None or 0: all). With
        ``include_archived`` the archived (trimmed) messages come first."""
        uid = self._uid(user_id)
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise ValidationError(f"limit must be a whole number >= 0, not {limit!r}")
        recent = (self._read_doc(uid, "history") or {"messages": []})["messages"]
        if include_archived and (not limit or limit > len(recent)):
            # History first, then the archive: a trim in between shows a message twice, never zero times.
            archived = self._read_log(uid, "archive")
            seen = {message_id(m) for m in archived}
            messages = [*archived, *(m for m in recent if message_id(m) not in seen)]
        else:
            messages = recent
        if limit:
            messages = messages[-limit:]
        return [clone(normalize_message(m)) for m in messages]

    def get_recent_messages(self, user_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """Older API: the kept (not archived) history, newest ``limit`` of it."""
        return self.get_message_history(user_id, limit)

    def recount_metrics(self, user_id: str) -> dict[str, Any]:
        """Rebuild message counts, dates and streaks from every stored message (a repair); the new metrics."""
        uid = self._uid(user_id)
        with self._user_txn(uid, create=False) as txn:
            if not txn.exists:
                return {}
            archived = txn.read_log("archive")
            seen = {message_id(m) for m in archived}
            recent = [m for m in self._doc(txn, "history")["messages"] if message_id(m) not in seen]
            messages = [normalize_message(m) for m in (*archived, *recent)]
            metrics = streaks.recount(messages, self._txn_zone(txn), self.default_zone, txn.read("metrics"))
            txn.write("metrics", metrics)
        return clone(metrics)
