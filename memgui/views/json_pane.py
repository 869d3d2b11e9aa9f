"""A pane over a JSON tree (the profile, the global context) that edits it: a leaf value in place (text stays
text, anything else must be valid JSON), any value as JSON in a dialog, new keys, deletion. Each edit is a
compare-and-set of the top-level entry as shown."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QPushButton, QTreeView, QWidget

from memgui.models.edit_commands import EditController
from memgui.models.edits import quote
from memgui.models.json_tree_model import JsonTreeModel, Node, replaced
from memgui.store import ABSENT
from memgui.views.detail_pane import DetailPane
from memgui.views.dialogs import NO_VALUE, Dialogs
from memgui.views.labels import plain_label


class JsonPane(DetailPane):
    def __init__(self, model: JsonTreeModel, object_name: str, empty_text: str, noun: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(QTreeView(), object_name, empty_text, parent)
        self.model = model
        self.noun = noun
        self.editor: EditController | None = None
        view = self.view
        assert isinstance(view, QTreeView)
        self.tree = view
        view.setModel(model)
        bar = self.add_edit_bar()
        self.add_button = QPushButton(f"Add {noun}…", self)
        self.add_button.setObjectName("addKeyButton")
        self.edit_button = QPushButton("Edit as JSON…", self)
        self.edit_button.setObjectName("editJsonButton")
        self.edit_button.setToolTip("Edit the selected value (and what it holds) as JSON")
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setObjectName("deleteKeyButton")
        self.delete_button.setToolTip("Delete the selected value (Del); Ctrl+Z brings it back")
        hint = plain_label("Double-click a value to change it", self, name="editHint", wrap=True)
        hint.setToolTip("Text stays text; numbers, true/false, null, lists and objects are typed as JSON")
        bar.addWidget(self.add_button)
        bar.addWidget(self.edit_button)
        bar.addWidget(self.delete_button)
        bar.addSpacing(12)
        bar.addWidget(hint, 1)
        self.add_button.clicked.connect(self.add_entry)
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), view, self.delete_selected,
                  context=Qt.ShortcutContext.WidgetShortcut)
        view.selectionModel().selectionChanged.connect(self._update_buttons)
        model.modelReset.connect(self._update_buttons)
        self._update_buttons()

    def set_editor(self, editor: EditController) -> None:
        self.editor = editor
        self.set_editable(editor.can_edit())

    def selected_node(self) -> Node | None:
        rows = self.tree.selectionModel().selectedRows()
        return self.model.node_at(rows[0]) if rows else None

    @Slot()
    def _update_buttons(self, *_args: QItemSelection) -> None:
        node = self.selected_node()
        self.edit_button.setEnabled(node is not None)
        self.delete_button.setEnabled(node is not None)

    @Slot()
    def add_entry(self) -> None:
        """A new top-level key and its value, from the JSON dialog."""
        if self.editor is None:
            return
        keys = [key for key, _, _ in self.model.entries()]
        answer = Dialogs.edit_json(self, f"Add {self.noun}", "", NO_VALUE, key_editable=True, taken=keys)
        if answer is not None:
            key, value = answer
            self.editor.submit(self.model.make_edit(key, value, ABSENT))

    @Slot()
    def edit_selected(self) -> None:
        """The selected value (nested ones too) as JSON in a dialog."""
        node = self.selected_node()
        if self.editor is None or node is None:
            return
        top, path = self.model.top_node(node), self.model.path(node)
        shown = top.value  # live refresh may replace it in the tree while the dialog is open: expect this one
        name = ".".join(str(step) for step in [top.key, *path])
        answer = Dialogs.edit_json(self, f"Edit {name}", name, node.value, key_editable=False)
        if answer is not None:
            value = replaced(shown, path, answer[1]) if path else answer[1]
            self.editor.submit(self.model.make_edit(top.key, value, shown))

    @Slot()
    def delete_selected(self) -> None:
        node = self.selected_node()
        if self.editor is None or node is None:
            return
        top = self.model.top_node(node)
        edit = self.model.edit_at(node, ABSENT)
        if node is not top:
            edit.label = f"Delete {node.key} of {quote(top.key)}"
        self.editor.submit(edit)
