"""The users pane: a filter box (id and name) over the sortable users table ``usersView``."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QTableView, QVBoxLayout, QWidget

from memgui.models.roles import ROW_ROLE
from memgui.models.users_model import COL_CURRENT, COL_ID, UsersModel, UserSummary

_WIDTHS = (105, 140, 122, 84, 52, 62, 72)


class UsersPane(QWidget):
    """Emits ``current_changed(user_id)`` ('' for none) as the current row of ``usersView`` moves."""

    current_changed = Signal(str)

    def __init__(self, model: UsersModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        # The model sorts and filters itself (see UsersModel): the view shows it directly. ``proxy`` names what
        # the view shows, for code that counts or walks the rows on screen.
        self.proxy = model
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("usersFilter")
        self.filter_edit.setPlaceholderText("Filter users by id or name  (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.view = QTableView(self)
        self.view.setObjectName("usersView")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(COL_ID, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        for column, width in enumerate(_WIDTHS):
            header.resizeSection(column, width)
        header.setMinimumSectionSize(40)
        # Id, name and streak first: what a laptop-wide pane shows without scrolling (the model keeps its order).
        header.moveSection(header.visualIndex(COL_CURRENT), 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.view, 1)
        self.filter_edit.textChanged.connect(self._on_filter)
        self.view.selectionModel().currentRowChanged.connect(self._on_current)

    @Slot(str)
    def _on_filter(self, text: str) -> None:
        current = self.current_user()
        self.model.set_filter(text)  # a reset when the text changed: the current row is set again
        if current and self.model.row_of(current) >= 0:
            self._set_current(self.model.row_of(current))
        elif current:
            self.current_changed.emit("")  # filtered out, as a proxy would have said

    @Slot(QModelIndex, QModelIndex)
    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.current_changed.emit(self.user_at(current))

    def user_at(self, index: QModelIndex) -> str:
        summary = index.siblingAtColumn(COL_ID).data(ROW_ROLE) if index.isValid() else None
        return summary.user_id if isinstance(summary, UserSummary) else ""

    def current_user(self) -> str:
        return self.user_at(self.view.currentIndex())

    def select_user(self, user_id: str) -> bool:
        """Make ``user_id`` the current row (clearing a filter that hides it); False if unknown."""
        if not self.model.knows(user_id):
            return False
        if self.model.row_of(user_id) < 0:
            self.filter_edit.clear()
        self._set_current(self.model.row_of(user_id))
        return True

    def _set_current(self, row: int) -> None:
        index = self.model.index(row, COL_ID)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.view.scrollTo(index)

    def shown_count(self) -> int:
        return self.model.rowCount()

    def focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()
