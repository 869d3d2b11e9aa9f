"""The permanent memories pane (``memoriesView``), by type."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QTableView, QWidget

from memgui.models.memories_model import COL_CONTENT, COL_CREATED, COL_TYPE, COL_UPDATED, MemoriesModel
from memgui.views.detail_pane import DetailPane


class MemoriesPane(DetailPane):
    def __init__(self, model: MemoriesModel, parent: QWidget | None = None) -> None:
        super().__init__(QTableView(), "memoriesView", "No permanent memories for this user.", parent)
        self.model = model
        view = self.view
        assert isinstance(view, QTableView)
        view.setModel(model)
        header = view.horizontalHeader()
        header.setSectionResizeMode(COL_CONTENT, QHeaderView.ResizeMode.Stretch)
        for column, width in ((COL_TYPE, 130), (COL_CREATED, 130), (COL_UPDATED, 130)):
            header.resizeSection(column, width)
