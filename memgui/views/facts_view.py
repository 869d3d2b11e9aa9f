"""The facts pane (``factsView``): category, fact text, when, by whom and from where, editable in place
(the category with a combo of the existing ones, new allowed), an add bar, deleting and moving several
facts at once with a preview, and the selected fact's provenance and history below."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import (
    QAbstractItemModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from memgui.models.edit_commands import EditController
from memgui.models.edits import CompositeEdit, Edit, FactAdd, FactRemove, FactUpdate, fact_move_plan, quote
from memgui.models.fact_history_model import VersionRow
from memgui.models.facts_model import COL_ADDED, COL_BY, COL_CATEGORY, COL_SOURCE, COL_TEXT, FactRow, FactsModel
from memgui.models.roles import ROW_ROLE, SORT_ROLE
from memgui.views.detail_pane import DetailPane
from memgui.views.dialogs import Dialogs
from memgui.views.fact_details import FactDetails

NARROW_WIDTH = 700


class CategoryDelegate(QStyledItemDelegate):
    """Edits a category with a combo of the categories the user has; a new one may be typed."""

    def __init__(self, categories: Callable[[], list[str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.categories = categories

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        combo = QComboBox(parent)
        combo.setObjectName("categoryEditor")
        combo.setEditable(True)
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        combo.addItems(self.categories())
        return combo

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentText(str(index.data(Qt.ItemDataRole.EditRole) or ""))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel,
                     index: QModelIndex | QPersistentModelIndex) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText().strip(), Qt.ItemDataRole.EditRole)


class FactsPane(DetailPane):
    versions_wanted = Signal(str)  # the selected fact's id: its history should be loaded
    message_wanted = Signal(str)  # a message id to show in the conversation

    def __init__(self, model: FactsModel, parent: QWidget | None = None) -> None:
        super().__init__(QTableView(), "factsView", "No facts about this user yet.", parent)
        self.model = model
        self.editor: EditController | None = None
        self._history_of: FactRow | None = None
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setSortRole(SORT_ROLE)
        view = self.view
        assert isinstance(view, QTableView)
        self.table = view
        view.setModel(self.proxy)
        view.setSortingEnabled(True)
        view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # store order until the admin sorts
        view.setItemDelegateForColumn(COL_CATEGORY, CategoryDelegate(model.categories, view))
        header = view.horizontalHeader()
        header.setSectionResizeMode(COL_TEXT, QHeaderView.ResizeMode.Stretch)
        for column, width in ((COL_CATEGORY, 120), (COL_ADDED, 125), (COL_BY, 75), (COL_SOURCE, 135)):
            header.resizeSection(column, width)
        self._build_bar()
        self.details = FactDetails(self)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setObjectName("factsSplitter")
        splitter.addWidget(view)
        splitter.addWidget(self.details)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([420, 230])
        self.put_view_in(splitter)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), view, self.delete_selected,
                  context=Qt.ShortcutContext.WidgetShortcut)
        view.selectionModel().selectionChanged.connect(self._update_details)
        view.selectionModel().currentRowChanged.connect(self._update_details)
        for signal in (model.dataChanged, model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._on_rows_changed)
        self.details.message_requested.connect(self.message_wanted)
        self.details.restore_requested.connect(self.restore_version)
        self.set_editable(False)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """On a narrow pane the fact text keeps its room: "By" and "From" hide (the details panel below
        shows both for the selected fact)."""
        super().resizeEvent(event)
        narrow = event.size().width() < NARROW_WIDTH
        header = self.table.horizontalHeader()
        for column in (COL_BY, COL_SOURCE):
            if header.isSectionHidden(column) != narrow:
                header.setSectionHidden(column, narrow)

    def _build_bar(self) -> None:
        bar = self.add_edit_bar()
        self.category_input = QComboBox(self)
        self.category_input.setObjectName("factCategoryInput")
        self.category_input.setEditable(True)
        self.category_input.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.category_input.setMinimumWidth(110)
        self.category_input.setToolTip("The new fact's category: pick one or type a new one")
        line = self.category_input.lineEdit()
        assert line is not None
        line.setPlaceholderText("category")
        self.text_input = QLineEdit(self)
        self.text_input.setObjectName("factTextInput")
        self.text_input.setPlaceholderText("A new fact about this user…")
        self.text_input.setClearButtonEnabled(True)
        self.add_button = QPushButton("Add fact", self)
        self.add_button.setObjectName("addFactButton")
        self.move_button = QPushButton("Move to…", self)
        self.move_button.setObjectName("moveFactsButton")
        self.move_button.setToolTip("Move the selected facts to another category (with a preview)")
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setObjectName("deleteFactsButton")
        self.delete_button.setToolTip("Delete the selected facts (Del); Ctrl+Z brings them back")
        bar.addWidget(self.category_input)
        bar.addWidget(self.text_input, 1)
        bar.addWidget(self.add_button)
        bar.addSpacing(16)
        bar.addWidget(self.move_button)
        bar.addWidget(self.delete_button)
        self.text_input.returnPressed.connect(self.add_fact)
        self.add_button.clicked.connect(self.add_fact)
        self.move_button.clicked.connect(self.move_selected)
        self.delete_button.clicked.connect(self.delete_selected)

    def set_editor(self, editor: EditController) -> None:
        self.editor = editor
        self.set_editable(editor.can_edit())

    def set_editable(self, editable: bool) -> None:
        super().set_editable(editable)
        self.details.set_editable(editable)
        self._update_buttons()

    # -- reading the selection ---------------------------------------------------------------------------
    def selected_facts(self) -> list[FactRow]:
        rows = sorted(self.table.selectionModel().selectedRows(), key=lambda i: i.row())
        return [r for r in (i.data(ROW_ROLE) for i in rows) if isinstance(r, FactRow)]

    def current_fact(self) -> FactRow | None:
        index = self.table.currentIndex()
        selected = self.table.selectionModel().isRowSelected(index.row(), QModelIndex()) if index.isValid() else False
        row = index.data(ROW_ROLE) if selected else None
        if not isinstance(row, FactRow):
            facts = self.selected_facts()
            return facts[0] if len(facts) == 1 else None
        return row

    def select_fact(self, fact_id: str) -> bool:
        row = self.model.row_of_id(fact_id)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, COL_TEXT))
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)
        return True

    # -- details -------------------------------------------------------------------------------------
    @Slot()
    def _on_rows_changed(self) -> None:
        self._refresh_categories()
        self._update_details()

    @Slot()
    def _update_details(self) -> None:
        fact = self.current_fact()
        self.details.show_fact(fact)
        if fact is not None and fact != self._history_of:
            self._history_of = fact
            self.versions_wanted.emit(fact.id)
        elif fact is None:
            self._history_of = None
        self._update_buttons()

    def set_versions(self, fact_id: str, rows: list[VersionRow] | None, error: str = "") -> None:
        """The history of ``fact_id`` was read (dropped when another fact is shown by now)."""
        if self.details.fact is not None and self.details.fact.id == fact_id:
            self.details.set_versions(rows, error)

    def _update_buttons(self) -> None:
        count = len(self.selected_facts())
        self.delete_button.setEnabled(count > 0)
        self.move_button.setEnabled(count > 0)
        self.delete_button.setText(f"Delete {count}" if count > 1 else "Delete")

    def _refresh_categories(self) -> None:
        typed = self.category_input.currentText()
        categories = self.model.categories()
        if categories != [self.category_input.itemText(i) for i in range(self.category_input.count())]:
            self.category_input.clear()
            self.category_input.addItems(categories)
            self.category_input.setCurrentText(typed)

    # -- editing ---------------------------------------------------------------------------------------
    def _submit(self, edit: Edit) -> bool:
        return self.editor is not None and self.editor.submit(edit)

    @Slot()
    def add_fact(self) -> None:
        """Add the fact typed in the bar (checked first: not empty, not already there)."""
        if self.editor is None:
            return
        category, text = self.category_input.currentText().strip(), self.text_input.text().strip()
        problem = self.model.problem(category, text)
        if problem is not None and self.editor.can_edit():
            self.editor.refused.emit(f"Not added: {problem}")
            return
        if self._submit(FactAdd(self.editor.user_id, category, text)):
            self.text_input.clear()
            added = next((r for r in self.model.rows if (r.category, r.text) == (category, text)), None)
            if added is not None:
                self.select_fact(added.id)

    @Slot()
    def delete_selected(self) -> None:
        """Delete the selected facts: one at once (Ctrl+Z brings it back), several after a preview."""
        facts = self.selected_facts()
        if self.editor is None or not facts:
            return
        uid = self.editor.user_id
        if len(facts) == 1:
            self._submit(FactRemove(uid, facts[0].category, facts[0].text, facts[0].id))
            return
        lines = [f"[{f.category}] {f.text}" for f in facts]
        if not Dialogs.confirm(self, "Delete facts", f"Delete these {len(facts)} facts? Edit > Undo brings them "
                               "back.", lines, f"Delete {len(facts)} facts"):
            return
        self._submit(CompositeEdit([FactRemove(uid, f.category, f.text, f.id) for f in facts],
                                   f"Delete {len(facts)} facts"))

    def move_preview(self, target: str) -> tuple[int, list[str]]:
        """How many of the selected facts a move to ``target`` changes, and what happens to each."""
        selected = [(f.id, f.category, f.text) for f in self.selected_facts()]
        moving, lines = fact_move_plan(selected, target, [(r.category, r.text) for r in self.model.rows])
        return len(moving), lines

    @Slot()
    def move_selected(self) -> None:
        """Move the selected facts to a category chosen in a dialog that previews the effect."""
        facts = self.selected_facts()
        if self.editor is None or not facts:
            return
        target = Dialogs.choose_category(self, self.model.categories(), self.move_preview)
        if not target:
            return
        selected = [(f.id, f.category, f.text) for f in facts]
        moving, _ = fact_move_plan(selected, target, [(r.category, r.text) for r in self.model.rows])
        edits: list[Edit] = [FactUpdate(self.editor.user_id, fid, c, t, target, t) for fid, c, t in moving]
        if len(edits) == 1:
            self._submit(edits[0])
        elif edits:
            self._submit(CompositeEdit(edits, f"Move {len(edits)} facts to {quote(target)}"))

    @Slot(object, object)
    def restore_version(self, fact: FactRow, version: VersionRow) -> None:
        """Make ``fact`` what ``version`` recorded (an update checked against the fact as shown)."""
        if self.editor is None or version.state is None:
            return
        label = f"Restore fact {quote(fact.text)} as of {version.when}"
        self._submit(FactUpdate(self.editor.user_id, fact.id, fact.category, fact.text, *version.state, label=label))
