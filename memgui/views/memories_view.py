"""The permanent memories pane (``memoriesView``), by type: content editable in place, an add bar, delete."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QComboBox, QHeaderView, QLineEdit, QPushButton, QTableView, QWidget

from memgui.models.edit_commands import EditController
from memgui.models.edits import CompositeEdit, Edit
from memgui.models.json_edits import MemoryAdd, MemoryDelete
from memgui.models.memories_model import COL_CONTENT, COL_CREATED, COL_TYPE, COL_UPDATED, MemoriesModel, MemoryRow
from memgui.models.roles import ROW_ROLE
from memgui.views.detail_pane import DetailPane
from memgui.views.dialogs import Dialogs

DEFAULT_TYPE = "general"


class MemoriesPane(DetailPane):
    def __init__(self, model: MemoriesModel, parent: QWidget | None = None) -> None:
        super().__init__(QTableView(), "memoriesView", "No permanent memories for this user.", parent)
        self.model = model
        self.editor: EditController | None = None
        view = self.view
        assert isinstance(view, QTableView)
        self.table = view
        view.setModel(model)
        header = view.horizontalHeader()
        header.setSectionResizeMode(COL_CONTENT, QHeaderView.ResizeMode.Stretch)
        for column, width in ((COL_TYPE, 130), (COL_CREATED, 130), (COL_UPDATED, 130)):
            header.resizeSection(column, width)
        bar = self.add_edit_bar()
        self.type_input = QComboBox(self)
        self.type_input.setObjectName("memoryTypeInput")
        self.type_input.setEditable(True)
        self.type_input.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.type_input.setMinimumWidth(130)
        self.type_input.setToolTip("The new memory's type: pick one or type a new one")
        self.type_input.addItem(DEFAULT_TYPE)
        self.text_input = QLineEdit(self)
        self.text_input.setObjectName("memoryTextInput")
        self.text_input.setPlaceholderText("A new permanent memory…")
        self.text_input.setClearButtonEnabled(True)
        self.add_button = QPushButton("Add memory", self)
        self.add_button.setObjectName("addMemoryButton")
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setObjectName("deleteMemoryButton")
        self.delete_button.setToolTip("Delete the selected memories (Del); Ctrl+Z brings them back")
        bar.addWidget(self.type_input)
        bar.addWidget(self.text_input, 1)
        bar.addWidget(self.add_button)
        bar.addSpacing(16)
        bar.addWidget(self.delete_button)
        self.text_input.returnPressed.connect(self.add_memory)
        self.add_button.clicked.connect(self.add_memory)
        self.delete_button.clicked.connect(self.delete_selected)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), view, self.delete_selected,
                  context=Qt.ShortcutContext.WidgetShortcut)
        model.modelReset.connect(self._refresh_types)
        model.rowsInserted.connect(self._refresh_types)
        view.selectionModel().selectionChanged.connect(self._update_buttons)
        model.modelReset.connect(self._update_buttons)
        model.rowsRemoved.connect(self._update_buttons)
        self._update_buttons()

    def set_editor(self, editor: EditController) -> None:
        self.editor = editor
        self.set_editable(editor.can_edit())

    def selected_memories(self) -> list[MemoryRow]:
        rows = sorted(self.table.selectionModel().selectedRows(), key=lambda i: i.row())
        return [r for r in (i.data(ROW_ROLE) for i in rows) if isinstance(r, MemoryRow)]

    @Slot()
    def _update_buttons(self) -> None:
        count = len(self.selected_memories())
        self.delete_button.setEnabled(count > 0)
        self.delete_button.setText(f"Delete {count}" if count > 1 else "Delete")

    @Slot()
    def _refresh_types(self) -> None:
        typed = self.type_input.currentText()
        types = list(dict.fromkeys([*self.model.types(), DEFAULT_TYPE]))
        if types != [self.type_input.itemText(i) for i in range(self.type_input.count())]:
            self.type_input.clear()
            self.type_input.addItems(types)
            self.type_input.setCurrentText(typed or DEFAULT_TYPE)

    @Slot()
    def add_memory(self) -> None:
        if self.editor is None:
            return
        memory_type = self.type_input.currentText().strip()
        if self.editor.submit(MemoryAdd(self.editor.user_id, memory_type, self.text_input.text().strip())):
            self.text_input.clear()

    @Slot()
    def delete_selected(self) -> None:
        """Delete the selected memories (several after a preview), highest position first so that the
        positions of the others stay what was shown."""
        rows = [r for r in self.selected_memories() if r.entry is not None]
        if self.editor is None or not rows:
            return
        uid = self.editor.user_id
        if len(rows) > 1 and not Dialogs.confirm(
                self, "Delete memories", f"Delete these {len(rows)} memories? Edit > Undo brings them back.",
                [f"[{r.memory_type}] {r.content}" for r in rows], f"Delete {len(rows)} memories"):
            return
        ordered = sorted(rows, key=lambda r: (r.memory_type, -r.index))
        edits: list[Edit] = [MemoryDelete(uid, r.memory_type, r.index, r.entry or {}) for r in ordered]
        self.editor.submit(edits[0] if len(edits) == 1 else CompositeEdit(edits, f"Delete {len(edits)} memories"))
