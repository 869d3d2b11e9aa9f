"""A stand-in for the older ``memory_management.JsonMemoryStore``, for the compatibility tests and benchmarks.

The older code itself is not part of this project. This is its behaviour as the seed document, STORE.md
("Format v1") and the fixture it wrote (``tests/data/elysia-demo-data``) describe it: every call loads the
v1 file with ``json.load`` and writes it back whole with ``json.dump(indent=2)`` — no lock, no journal, no
temporary file, no archive (trimmed messages are dropped). Folder names are the plain user ids. Run as a
script it prints what its reads answer, as JSON, so that a test can read a folder from another process::

    python older_store.py DATA_DIR USER_ID [GLOBAL_KEY ...]
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from typing import Any


class OlderStore:
    """The older reads (and ``store_message``) over a v1 folder."""

    def __init__(self, data_dir: str, max_messages: int = 100) -> None:
        self.data_dir = data_dir
        self.max_messages = max_messages

    def _path(self, user_id: str, name: str) -> str:
        return os.path.join(self.data_dir, user_id, name)

    def _load(self, path: str, default: Any) -> Any:
        if not os.path.exists(path):
            return default
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)

    def _save(self, path: str, doc: Any) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(doc, handle, indent=2, ensure_ascii=False)

    # -- reads ---------------------------------------------------------------------------------------
    def get_message_history(self, user_id: str) -> list[dict[str, Any]]:
        return list(self._load(self._path(user_id, "conversation_history.json"), {"messages": []})["messages"])

    def get_user_facts(self, user_id: str) -> dict[str, list[str]]:
        return dict(self._load(self._path(user_id, "user_facts.json"), {"categories": {}})["categories"])

    def get_permanent_memories(self, user_id: str) -> dict[str, list[dict[str, Any]]]:
        return dict(self._load(self._path(user_id, "permanent_memories.json"), {"memories": {}})["memories"])

    def get_conversation_metrics(self, user_id: str) -> dict[str, Any]:
        return dict(self._load(self._path(user_id, "interaction_metrics.json"), {}))

    def get_global_context(self, key: str) -> Any:
        entry = self._load(os.path.join(self.data_dir, "global_context.json"), {}).get(key)
        return None if entry is None else entry.get("value")

    # -- the older hot path ----------------------------------------------------------------------------
    def store_message(self, user_id: str, content: str, is_user: bool = True) -> bool:
        path = self._path(user_id, "conversation_history.json")
        history = self._load(path, {"messages": []})
        now = datetime.now()
        history["messages"].append({"content": content, "timestamp": now.isoformat(), "is_user": is_user,
                                    "metadata": {}, "word_count": len(content.split())})
        if self.max_messages and len(history["messages"]) > self.max_messages:
            history["messages"] = history["messages"][-self.max_messages:]
        self._save(path, history)
        metrics_path = self._path(user_id, "interaction_metrics.json")
        metrics = self._load(metrics_path, {"message_count": 0, "total_words": 0, "interaction_dates": []})
        metrics["message_count"] = metrics.get("message_count", 0) + 1
        metrics["total_words"] = metrics.get("total_words", 0) + len(content.split())
        metrics.setdefault("first_interaction", now.isoformat())
        metrics["last_interaction"] = now.isoformat()
        day = now.date().isoformat()
        if day not in metrics.setdefault("interaction_dates", []):
            metrics["interaction_dates"].append(day)
        self._save(metrics_path, metrics)
        return True


def main(argv: list[str]) -> int:
    data_dir, user_id, *keys = argv
    older = OlderStore(data_dir)
    print(json.dumps({"history": older.get_message_history(user_id), "facts": older.get_user_facts(user_id),
                      "memories": older.get_permanent_memories(user_id),
                      "metrics": older.get_conversation_metrics(user_id),
                      "global": {key: older.get_global_context(key) for key in keys}}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
