"""The global context pane (``globalContextView``): every key, nested values as a tree."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QTreeView, QWidget

from memgui.models.json_tree_model import GlobalContextModel
from memgui.views.detail_pane import DetailPane


class GlobalContextPane(DetailPane):
    def __init__(self, model: GlobalContextModel, parent: QWidget | None = None) -> None:
        super().__init__(QTreeView(), "globalContextView", "The global context is empty.", parent)
        self.model = model
        view = self.view
        assert isinstance(view, QTreeView)
        view.setModel(model)
        view.header().resizeSection(0, 220)
        view.header().resizeSection(1, 380)
        model.modelReset.connect(self._expand)

    @Slot()
    def _expand(self) -> None:
        """Open the first level of nested values: a glance shows what each key holds."""
        view = self.view
        assert isinstance(view, QTreeView)
        view.expandToDepth(0)
