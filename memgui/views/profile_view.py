"""The profile pane (``profileView``): the selected user's profile fields, nested ones as a tree."""

from __future__ import annotations

from PySide6.QtWidgets import QTreeView, QWidget

from memgui.models.json_tree_model import ProfileModel
from memgui.views.detail_pane import DetailPane


class ProfilePane(DetailPane):
    def __init__(self, model: ProfileModel, parent: QWidget | None = None) -> None:
        super().__init__(QTreeView(), "profileView", "This user has no profile.", parent)
        self.model = model
        view = self.view
        assert isinstance(view, QTreeView)
        view.setModel(model)
        view.header().resizeSection(0, 200)
        model.modelReset.connect(view.expandAll)
