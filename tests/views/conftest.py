"""Fixtures for window tests: a generated store and a MainWindow over it with throwaway settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

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
