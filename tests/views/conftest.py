"""Fixtures for window tests: a generated store and a MainWindow over it with throwaway settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from live_helpers import WAIT_MS, Writer, seed
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from memgui.app import MainWindow
from memgui.demo import generate
from memgui.store import JsonMemoryStore, MemoryStore


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[JsonMemoryStore]:
    store = generate(tmp_path / "demo", users=12, seed=3)
    yield store
    store.close()


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "memgui.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot: object, settings: QSettings) -> Callable[..., MainWindow]:
    """Build a window, show it and wait until it finished loading."""

    def make(store: MemoryStore, **kwargs: object) -> MainWindow:
        window = MainWindow(store, settings=settings, **kwargs)  # type: ignore[arg-type]
        qtbot.addWidget(window)  # type: ignore[attr-defined]
        with qtbot.waitSignal(window.loaded, timeout=20_000):  # type: ignore[attr-defined]
            window.show()
        return window

    return make


# -- live refresh: a seeded store, another process writing it, a window following it ------------------------
@pytest.fixture
def live_store(data_dir: Path) -> Iterator[JsonMemoryStore]:
    store = seed(data_dir)
    yield store
    store.close()


@pytest.fixture
def writer(data_dir: Path, live_store: JsonMemoryStore) -> Iterator[Writer]:
    proc = Writer(data_dir, "--fast")
    yield proc
    proc.close()


@pytest.fixture
def live_window(make_window: Callable[..., MainWindow], live_store: JsonMemoryStore, qtbot: QtBot) -> MainWindow:
    """A window on ``live_store`` with alice selected, loaded, and its watcher armed."""
    w = make_window(live_store, select="alice")
    w.resize(1100, 700)
    qtbot.waitUntil(lambda: w.live.watcher is not None and w.live.watcher.is_ready and w.is_loaded()
                    and w.conversation_model.rowCount() == 400, timeout=WAIT_MS)
    return w
