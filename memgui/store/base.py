"""``MemoryStore``: the abstract store. Every business rule is here (through the rule mixins) once;
a backend subclasses it and implements only the persistence seam of ``seam.py``."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Any

from memgui.store.errors import ValidationError
from memgui.store.memories import MemoryRules


class MemoryStore(MemoryRules, abc.ABC):
    """The memory of an assistant: users, conversations, facts, metrics, streaks, memories, global context.

    Use ``create_memory_store(config)`` or ``initialize()`` rather than a backend class directly.
    """

    def store_extracted_context(self, user_id: str, context: dict[str, str]) -> bool:
        """Older API: store each text of ``context`` as a fact in category ``extracted_<key>``; True."""
        uid = self._uid(user_id)
        if not isinstance(context, dict):
            raise ValidationError(f"extracted context for {uid!r} must be a dict, not {type(context).__name__}")
        for key, text in context.items():
            if isinstance(text, str) and text.strip():
                self.add_user_fact(uid, text, f"extracted_{key}")
        return True

    def get_relevant_context(self, user_id: str, query: str | None = None) -> dict[str, Any]:
        """Older API: what the assistant puts in its prompt.

        ``{"profile": {...}, "facts": {category: [text, ...]}, "recent_messages": [...]}``: the profile,
        the facts containing ``query`` (case-insensitive; all facts without a query), the last 5 messages.
        """
        uid = self._uid(user_id)
        facts = self.get_user_facts(uid)
        if query:
            needle = query.casefold()
            facts = {cat: [f for f in items if needle in f.casefold()] for cat, items in facts.items()}
            facts = {cat: items for cat, items in facts.items() if items}
        return {
            "profile": self.get_user_profile(uid),
            "facts": facts,
            "recent_messages": self.get_message_history(uid, 5),
        }

    def initialize(self) -> bool:
        """Older API: make sure the store can be written (creates its folder for the JSON backend); True."""
        return True

    def cleanup(self) -> None:
        """Older API: release what the store holds; it can still be used afterwards."""
        self.close()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
