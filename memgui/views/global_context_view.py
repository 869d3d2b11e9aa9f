"""The global context pane (``globalContextView``): every key, nested values as a tree; editable."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHeaderView, QWidget

from memgui.models.json_tree_model import GlobalContextModel
from memgui.views.json_pane import JsonPane


class GlobalContextPane(JsonPane):
    def __init__(self, model: GlobalContextModel, parent: QWidget | None = None) -> None:
        super().__init__(model, "globalContextView", "The global context is empty.", "key", parent)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.resizeSection(0, 180)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # values elided, never a sideways scroll
        model.modelReset.connect(self._expand)

    @Slot()
    def _expand(self) -> None:
        """Open the first level of nested values: a glance shows what each key holds."""
        self.tree.expandToDepth(0)
