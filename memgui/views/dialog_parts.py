"""Building blocks of the window's dialogs: a read-only list of plain-text lines, and the preview dialog
(a question, the list of what will happen, a button that says it)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QListWidget, QVBoxLayout, QWidget

from memgui.views.labels import plain_label


def info_list(parent: QWidget, lines: Sequence[str], name: str = "previewList") -> QListWidget:
    """A list of plain-text lines to read (nothing to select in it)."""
    widget = QListWidget(parent)
    widget.setObjectName(name)
    widget.setWordWrap(True)
    widget.setSelectionMode(QListWidget.SelectionMode.NoSelection)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    widget.addItems(list(lines))
    return widget


class PreviewDialog(QDialog):
    """A question with the list of what will happen (one plain-text line each), and a button that says it."""

    def __init__(self, title: str, text: str, lines: Sequence[str], ok_text: str, parent: QWidget | None = None,
                 *, cancel: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("previewDialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self.text = plain_label(text, self, name="previewText", wrap=True)
        self.list = info_list(self, lines)
        self.list.setVisible(bool(lines))
        buttons = QDialogButtonBox(self)
        self.ok = buttons.addButton(ok_text, QDialogButtonBox.ButtonRole.AcceptRole)
        if cancel:
            buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)

    def lines(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]
