"""The profile pane (``profileView``): the selected user's profile fields, nested ones as a tree; editable."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from memgui.models.json_tree_model import ProfileModel
from memgui.views.json_pane import JsonPane


class ProfilePane(JsonPane):
    def __init__(self, model: ProfileModel, parent: QWidget | None = None) -> None:
        super().__init__(model, "profileView", "This user has no profile.", "field", parent)
        self.tree.header().resizeSection(0, 200)
        model.modelReset.connect(self.tree.expandAll)
