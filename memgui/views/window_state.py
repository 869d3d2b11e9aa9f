"""What the window remembers between runs (QSettings): geometry, splitter, last and recent folders."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QObject, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

MAX_RECENT = 8


class WindowState(QObject):
    def __init__(self, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings  # the caller's: not re-parented, another window may share it

    def restore(self, window: QMainWindow) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            window.restoreGeometry(geometry)
        else:
            window.resize(1280, 800)
        splitter = window.findChild(QSplitter, "mainSplitter")
        sizes = self.settings.value("window/splitter")
        if splitter is not None and isinstance(sizes, QByteArray) and not sizes.isEmpty():
            splitter.restoreState(sizes)
        elif splitter is not None:  # first run: the users table wide enough for all its columns
            width = window.width()
            left = min(700, width // 2)
            splitter.setSizes([left, width - left])

    def save(self, window: QMainWindow) -> None:
        self.settings.setValue("window/geometry", window.saveGeometry())
        splitter = window.findChild(QSplitter, "mainSplitter")
        if splitter is not None:
            self.settings.setValue("window/splitter", splitter.saveState())
        self.settings.sync()

    def recent_folders(self) -> list[str]:
        value = self.settings.value("folders/recent", [])
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        return [str(v) for v in items][:MAX_RECENT]

    def last_folder(self) -> str | None:
        value = self.settings.value("folders/last")
        return str(value) if value else None

    def remember_folder(self, folder: str) -> None:
        recent = [folder, *(f for f in self.recent_folders() if f != folder)][:MAX_RECENT]
        self.settings.setValue("folders/recent", recent)
        self.settings.setValue("folders/last", folder)
        self.settings.sync()
