"""A detail pane: an item view over one model, with a banner that names damage in the file behind it, and
for the editable panes a bar of edit controls above the view."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QTableView, QTreeView, QVBoxLayout, QWidget

EDIT_TRIGGERS = QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
READ_ONLY_TIP = "Read-only window: editing is off"


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
        self.edit_bar: QWidget | None = None
        self.editable = False
        layout = self._layout = QVBoxLayout(self)
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

    def add_edit_bar(self) -> QHBoxLayout:
        """A row for edit controls above the view; disabled with the pane when the window is read-only."""
        bar = self.edit_bar = QWidget(self)
        bar.setObjectName("editBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 4)
        self._layout.insertWidget(1, bar)
        return row

    def put_view_in(self, holder: QWidget) -> None:
        """Show ``holder`` (which took the view, a splitter with a details panel) where the view was."""
        index = self._layout.indexOf(self.view)
        if index < 0:
            index = self._layout.indexOf(self.empty)
        self._layout.insertWidget(index, holder, 1)

    def set_editable(self, editable: bool) -> None:
        """Open editors on double click and F2, and enable the edit bar; or neither (read-only)."""
        self.editable = editable
        self.view.setEditTriggers(EDIT_TRIGGERS if editable else QAbstractItemView.EditTrigger.NoEditTriggers)
        if self.edit_bar is not None:
            self.edit_bar.setEnabled(editable)
            self.edit_bar.setToolTip("" if editable else READ_ONLY_TIP)

    def set_state(self, error: str | None, rows: int) -> None:
        """Show damage (``error``) or an empty note when there are no rows."""
        self.banner.show_error(error)
        self.empty.setVisible(error is None and rows == 0)
