"""``PendingSelection``: select a row of an item view that may not be there yet.

Opening a search result selects a user, whose facts, memories and profile arrive a moment later from the store
worker; the row to highlight is asked for at once and selected as soon as the view's model holds it (rows
inserted, a reset, a layout change), or now when it is already there. A newer wish, or ``clear``, replaces it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QObject, Slot
from PySide6.QtWidgets import QAbstractItemView

Match = Callable[[QModelIndex], bool]


class PendingSelection(QObject):
    """Selects, in ``view``, the first top-level row whose column-0 index ``match`` accepts."""

    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view)
        self.view = view
        self._match: Match | None = None
        model = view.model()
        model.rowsInserted.connect(self._retry)
        model.modelReset.connect(self._retry)
        model.layoutChanged.connect(self._retry)

    @property
    def waiting(self) -> bool:
        return self._match is not None

    def select(self, match: Match) -> bool:
        """Select the row ``match`` accepts now, or once it arrives; True when selected now."""
        self._match = match
        return self._try()

    def clear(self) -> None:
        self._match = None

    @Slot()
    def _retry(self) -> None:
        if self._match is not None:
            self._try()

    def _try(self) -> bool:
        model = self.view.model()
        if self._match is None:
            return False
        for row in range(model.rowCount()):
            index = model.index(row, 0)
            if self._match(index):
                self._match = None
                flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
                self.view.selectionModel().setCurrentIndex(index, flags)
                self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
                return True
        return False
