"""``plain_label``: the one way the window makes a label for text that may come from users (ids, names,
messages, facts): plain text, never guessed as rich text, so ``<img src=...>`` shows as those characters."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


def plain_label(text: str = "", parent: QWidget | None = None, *, name: str = "", wrap: bool = False) -> QLabel:
    """A label that shows ``text`` as plain text; ``wrap`` breaks long lines at word boundaries."""
    label = QLabel(text, parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    if name:
        label.setObjectName(name)
    return label
