"""The line above the detail tabs: who is selected, their zone and streak, and any damage in their files."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from memgui.models.users_model import UserSummary
from memgui.views.detail_pane import ErrorBanner


class UserHeader(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(self)
        self.title.setObjectName("userTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.subtitle = QLabel(self)
        self.subtitle.setObjectName("userSubtitle")
        self.subtitle.setTextFormat(Qt.TextFormat.PlainText)
        self.subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle.setWordWrap(True)
        self.banner = ErrorBanner(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 4)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.banner)
        self.show_user(None)

    def show_user(self, summary: UserSummary | None) -> None:
        if summary is None:
            self.title.setText("No user selected")
            self.subtitle.setText("Pick a user on the left to read their conversation, facts and memories.")
            self.banner.show_error(None)
            return
        self.title.setText(summary.name or summary.user_id)
        streak = f"streak {summary.current_streak} day{'s' if summary.current_streak != 1 else ''}" \
                 f" (longest {summary.longest_streak})"
        last = f"last active {summary.last_active}" if summary.last_active else "never active"
        items = [summary.user_id, summary.zone, f"{summary.messages:,} messages", streak, last]
        # Non-breaking spaces inside each item: a narrow pane wraps between items, never inside one.
        self.subtitle.setText("  ·  ".join(item.replace(" ", "\u00a0") for item in items))
        self.banner.show_error(f"Some files of this user are damaged: {summary.error}" if summary.error else None)
