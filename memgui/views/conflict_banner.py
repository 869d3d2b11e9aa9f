"""The strip above the tabs that reports an edit that was not made: a conflict (the data changed since it
was shown; "Reload" or "Reapply") or a refusal (invalid input, read-only), with a close button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget


class EditBanner(QFrame):
    reload_requested = Signal()
    reapply_requested = Signal()
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conflictBanner")
        self.text = QLabel(self)
        self.text.setObjectName("conflictText")
        self.text.setTextFormat(Qt.TextFormat.PlainText)  # it quotes facts and values
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reload_button = QPushButton("Reload", self)
        self.reload_button.setObjectName("conflictReload")
        self.reload_button.setToolTip("Show what is stored now; your change is dropped")
        self.reapply_button = QPushButton("Reapply my change", self)
        self.reapply_button.setObjectName("conflictReapply")
        self.reapply_button.setToolTip("Make your change again, on top of what is stored now")
        self.close_button = QToolButton(self)
        self.close_button.setObjectName("bannerClose")
        self.close_button.setText("✕")
        self.close_button.setToolTip("Hide this message")
        self.close_button.setAutoRaise(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.reload_button)
        layout.addWidget(self.reapply_button)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.reload_button.clicked.connect(self.reload_requested)
        self.reapply_button.clicked.connect(self.reapply_requested)
        self.close_button.clicked.connect(self._close)
        self.kind = ""
        self.hide()

    def show_conflict(self, message: str) -> None:
        """The data changed since it was shown: nothing was written; offer reload and reapply."""
        self._show("conflict", f"Not saved — it changed since it was shown. {message}\nNothing was overwritten.")

    def show_changed_while_editing(self, message: str) -> None:
        """What an open editor edits changed on disk (live refresh): the editor stays open with the admin's
        text, and nothing is written until they choose."""
        self._show("conflict", f"{message}\nYour edit is still open: Reload drops it and shows what is stored "
                               "now; Reapply saves it on top.")

    def show_refusal(self, message: str) -> None:
        self._show("refusal", message)

    def _show(self, kind: str, text: str) -> None:
        self.kind = kind
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.text.setText(text)
        self.reload_button.setVisible(kind == "conflict")
        self.reapply_button.setVisible(kind == "conflict")
        self.show()

    def clear(self) -> None:
        self.kind = ""
        self.text.clear()
        self.hide()

    @Slot()
    def _close(self) -> None:
        was_conflict = self.kind == "conflict"
        self.clear()
        if was_conflict:
            self.dismissed.emit()
