"""``MemoryStore``: the abstract store. Every business rule is here (through the rule mixins) once;
a backend subclasses it and implements only the persistence seam of ``seam.py``."""

from __future__ import annotations

import abc
import os
from types import TracebackType
from typing import Any

from memgui.store.backend import ConversationSource
from memgui.store.errors import ValidationError
from memgui.store.rules.transfer import TransferRules


class MemoryStore(TransferRules, abc.ABC):
    """The memory of an assistant: users, conversations, facts, metrics, streaks, memories, global context.

    Use ``create_memory_store(config)`` or ``initialize()`` rather than a backend class directly.
    """

    def conversation_source(self, user_id: str) -> ConversationSource:
        """Where the conversation reader (``memgui.store.read.conversation``) starts; by default the whole
        conversation, archive included (a backend with an archive file hands that file over instead)."""
        return ConversationSource(self.get_message_history(user_id, include_archived=True), None)

    def store_extracted_context(self, user_id: str, context: dict[str, str]) -> bool:
        """Older API: store each text of ``context`` as a fact in category ``extracted_<key>``; True."""
        uid = self._uid(user_id)
        if not isinstance(context, dict):
            raise ValidationError(f"extracted context for {uid!r} must be a dict, not {type(context).__name__}")
        for key, text in context.items():
            if isinstance(text, str) and text.strip():
                self.add_user_fact(uid, text, f"extracted_{key}")
        return True

    def get_relevant_context(self, user_id: str, query: str | None = None) -> list[dict[str, Any]]:
        """Older API: what the assistant puts in its prompt, in the older shape: a list of items.

        ``{"type": "profile", "content", "category"}`` for the name (and interests), then
        ``{"type": "fact", "content", "category"}`` for each fact containing ``query`` (case-insensitive; every
        fact without a query), then ``{"type": "message", "content", "is_user", "timestamp"}`` for the last 5
        messages. ``[]`` for a user that does not exist.
        """
        uid = self._uid(user_id)
        if not self.user_exists(uid):
            return []
        context: list[dict[str, Any]] = []
        profile = self.get_user_profile(uid)
        if profile:
            context.append({"type": "profile", "content": f"User name: {profile.get('name', 'Unknown')}",
                            "category": "identity"})
            interests = profile.get("interests")
            if interests and isinstance(interests, (list, str)):
                listed = interests if isinstance(interests, str) else ", ".join(str(i) for i in interests)
                context.append({"type": "profile", "content": f"User interests: {listed}",
                                "category": "interests"})
        needle = query.casefold() if isinstance(query, str) and query else None
        for category, facts in self.get_user_facts(uid).items():
            context.extend({"type": "fact", "content": fact, "category": category}
                           for fact in facts if needle is None or needle in fact.casefold())
        context.extend({"type": "message", "content": m["content"], "is_user": m["is_user"],
                        "timestamp": m["timestamp"]} for m in self.get_message_history(uid, 5))
        return context

    def initialize(self, user_data_path: str | os.PathLike[str] | None = None) -> bool:
        """Older API: make sure the store can be written (creates its folder for the JSON backend); True.

        ``user_data_path`` is how the older code named the folder (``initialize(user_data_path=...)``); a
        backend with a folder raises ``ConfigError`` when it is not ``DATA_DIR``, rather than write elsewhere.
        """
        return True

    def cleanup(self) -> None:
        """Older API: release what the store holds; it can still be used afterwards."""
        self.close()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
