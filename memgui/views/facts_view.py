"""The facts pane (``factsView``): category, fact text, when, by whom and from where. Read-only for now."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QHeaderView, QTableView, QWidget

from memgui.models.facts_model import COL_ADDED, COL_BY, COL_CATEGORY, COL_SOURCE, COL_TEXT, FactsModel
from memgui.models.roles import SORT_ROLE
from memgui.views.detail_pane import DetailPane


class FactsPane(DetailPane):
    def __init__(self, model: FactsModel, parent: QWidget | None = None) -> None:
        super().__init__(QTableView(), "factsView", "No facts about this user yet.", parent)
        self.model = model
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setSortRole(SORT_ROLE)
        view = self.view
        assert isinstance(view, QTableView)
        view.setModel(self.proxy)
        view.setSortingEnabled(True)
        view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # store order until the admin sorts
        header = view.horizontalHeader()
        header.setSectionResizeMode(COL_TEXT, QHeaderView.ResizeMode.Stretch)
        for column, width in ((COL_CATEGORY, 120), (COL_ADDED, 130), (COL_BY, 80), (COL_SOURCE, 170)):
            header.resizeSection(column, width)
