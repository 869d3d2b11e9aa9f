"""Fixtures for the model tests: generated stores and a conversation worker in its own thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject

from memgui.demo import generate
from memgui.models.conversation_model import ConversationModel
from memgui.models.conversation_worker import ConversationWorker
from memgui.models.jobs import WorkerThread
from memgui.store import JsonMemoryStore


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[JsonMemoryStore]:
    """A small generated store: 12 users (one damaged), varied histories."""
    store = generate(tmp_path / "demo", users=12, seed=7)
    yield store
    store.close()


@pytest.fixture
def owner(qapp: object) -> Iterator[QObject]:
    """A parent for models and threads; its threads are stopped at the end."""
    parent = QObject()
    yield parent
    for thread in parent.findChildren(WorkerThread):
        thread.stop()


def conversation_model(store: JsonMemoryStore, parent: QObject) -> ConversationModel:
    worker = ConversationWorker(store)
    WorkerThread(worker, "test-conversation", parent)
    return ConversationModel(worker, parent)
