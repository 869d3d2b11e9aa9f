"""A detail pane: an item view over one model, with a banner that names damage in the file behind it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QTableView, QTreeView, QVBoxLayout, QWidget


class ErrorBanner(QLabel):
    """A red note, plain text (a reason quotes file content), hidden when there is nothing to say."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_error(self, text: str | None) -> None:
        self.setText(f"⚠  {text}" if text else "")
        self.setVisible(bool(text))


class DetailPane(QWidget):
    """``view`` (a QTableView or QTreeView named ``object_name``) under an ``ErrorBanner``."""

    def __init__(self, view: QAbstractItemView, object_name: str, empty_text: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        view.setParent(self)
        view.setObjectName(object_name)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setAlternatingRowColors(True)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.banner = ErrorBanner(self)
        self.empty = QLabel(empty_text, self)
        self.empty.setObjectName("emptyNote")
        self.empty.setTextFormat(Qt.TextFormat.PlainText)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.banner)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty)
        if isinstance(view, (QTableView, QTreeView)):
            view.setWordWrap(False)
        if isinstance(view, QTableView):
            view.verticalHeader().hide()
            view.setShowGrid(False)
            view.horizontalHeader().setHighlightSections(False)
        if isinstance(view, QTreeView):
            view.setUniformRowHeights(True)

    def set_state(self, error: str | None, rows: int) -> None:
        """Show damage (``error``) or an empty note when there are no rows."""
        self.banner.show_error(error)
        self.empty.setVisible(error is None and rows == 0)
