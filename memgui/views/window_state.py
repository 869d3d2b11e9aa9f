"""What the window remembers between runs (QSettings): geometry, splitter, last and recent folders."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QObject, QSettings
from PySide6.QtGui import QGuiApplication
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
            self.fit_to_screen(window)
        splitter = window.findChild(QSplitter, "mainSplitter")
        sizes = self.settings.value("window/splitter")
        if splitter is not None and isinstance(sizes, QByteArray) and not sizes.isEmpty():
            splitter.restoreState(sizes)
        elif splitter is not None:  # first run: id, name and streak on the left, the rest for the details
            width = window.width()
            left = max(360, min(700, round(width * 0.4)))
            splitter.setSizes([left, width - left])

    @staticmethod
    def fit_to_screen(window: QMainWindow) -> None:
        """A first launch: 85 % of the screen's available area (all of a small one, at most 1600x1000),
        centred on it."""
        screen = window.screen() or QGuiApplication.primaryScreen()
        area = screen.availableGeometry()
        width = min(area.width(), max(min(1024, area.width()), min(1600, round(area.width() * 0.85))))
        height = min(area.height(), max(min(640, area.height()), min(1000, round(area.height() * 0.85))))
        window.resize(width, height)
        window.move(area.x() + (area.width() - width) // 2, area.y() + (area.height() - height) // 2)

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
