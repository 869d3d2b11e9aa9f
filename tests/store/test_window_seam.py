"""What the window asks of any backend through the seam, never by knowing the backend's class: where the
store is, what to watch, and where the conversation reader starts (the whole conversation, or the recent
messages plus an archive file to read in place) — the same conversation either way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from memgui.store import MemoryStore
from memgui.store.backend import ChangeFeed, FolderChanges
from memgui.store.read.conversation import Conversation

StoreMaker = Callable[..., MemoryStore]


def fill(store: MemoryStore) -> list[str]:
    texts = [f"message {i}" for i in range(25)]
    for i, text in enumerate(texts):
        store.add_message("alice", "user" if i % 2 == 0 else "assistant", text)
    return texts


def test_location_folder_and_change_source(any_store: MemoryStore, backend: str, tmp_path: Path) -> None:
    fill(any_store)
    if backend == "json":
        folder = any_store.folder()
        assert folder is not None and folder.is_dir() and tmp_path in folder.parents
        assert any_store.location() == str(folder)
        source = any_store.change_source()
        assert isinstance(source, FolderChanges) and source.root == folder
        assert source.user_of("alice") == "alice" and source.user_of(".memgui") is None
    elif backend == "postgres":
        assert any_store.folder() is None
        assert "dbname=" in any_store.location() and "password" not in any_store.location()
        assert isinstance(any_store.change_source(), ChangeFeed)
    else:
        assert (any_store.folder(), any_store.location(), any_store.change_source()) == (None, "", None)


def test_the_conversation_reader_reads_every_backend_alike(make_store: StoreMaker, backend: str) -> None:
    any_store = make_store(STORAGE_BACKEND=backend, MAX_MESSAGES=10)
    texts = fill(any_store)  # 15 of them went to the archive
    assert len(any_store.get_message_history("alice")) == 10
    source = any_store.conversation_source("alice")
    assert (source.archive is not None) == (backend == "json")
    conversation = Conversation(any_store, "alice")
    conversation.open()
    for _ in conversation.index_steps():
        pass
    rows = conversation.entries(0, len(conversation))
    assert [e.message["content"] for e in rows if e.message] == texts
    assert [m["content"] for m in any_store.get_message_history("alice", include_archived=True)] == texts
    conversation.close()
