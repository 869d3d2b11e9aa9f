"""The selected fact's provenance (when added and changed, by whom, the message it came from, with a button
that shows that message) and its version history: each change with the difference it made, and "restore
this version"."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from memgui.models.fact_history_model import (
    ACTIONS,
    COL_BY,
    COL_CHANGE,
    COL_WHEN,
    FactHistoryModel,
    VersionRow,
    word_diff,
)
from memgui.models.facts_model import FactRow
from memgui.models.roles import ROW_ROLE
from memgui.views.labels import plain_label

_REMOVED_BG, _ADDED_BG = QColor("#fde2e1"), QColor("#dcfce7")


class FactDetails(QWidget):
    message_requested = Signal(str)  # a message id to show in the conversation
    restore_requested = Signal(object, object)  # the FactRow shown, the VersionRow to bring back

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("factDetails")
        self.fact: FactRow | None = None
        self.editable = True
        self.history = FactHistoryModel(self)
        self.title = plain_label("", self, name="factDetailsTitle", wrap=True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.category = self._value()
        self.added = self._value()
        self.changed = self._value()
        self.source = self._value()
        self.show_message_button = QPushButton("Show in conversation", self)
        self.show_message_button.setObjectName("showMessageButton")
        self.show_message_button.setToolTip("Open the Conversation tab at the message this fact came from")
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Category", self.category)
        form.addRow("Added", self.added)
        form.addRow("Changed", self.changed)
        form.addRow("From", self.source)
        left = QVBoxLayout()
        left.addWidget(self.title)
        left.addLayout(form)
        left.addWidget(self.show_message_button, 0, Qt.AlignmentFlag.AlignLeft)
        left.addStretch(1)

        self.history_view = QTableView(self)
        self.history_view.setObjectName("factHistoryView")
        self.history_view.setModel(self.history)
        self.history_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.history_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history_view.verticalHeader().hide()
        self.history_view.setShowGrid(False)
        self.history_view.setWordWrap(False)
        self.history_view.setAlternatingRowColors(True)
        header = self.history_view.horizontalHeader()
        header.setHighlightSections(False)
        header.resizeSection(COL_WHEN, 125)
        header.resizeSection(COL_BY, 60)
        header.setSectionResizeMode(COL_CHANGE, QHeaderView.ResizeMode.Stretch)
        self.diff = QTextEdit(self)
        self.diff.setObjectName("versionDiff")
        self.diff.setReadOnly(True)
        self.diff.setAcceptRichText(False)
        self.diff.setPlaceholderText("Select a version to see what it changed.")
        self.diff.setMinimumHeight(60)
        self.history_view.setMinimumHeight(70)
        self.restore_button = QPushButton("Restore this version", self)
        self.restore_button.setObjectName("restoreVersionButton")
        self.restore_button.setToolTip("Make the fact what it was after this change (undo with Ctrl+Z)")
        self.history_note = plain_label("", self, name="historyNote", wrap=True)
        right = QVBoxLayout()
        heading = QHBoxLayout()
        heading.addWidget(plain_label("History", self, name="detailsHeading", wrap=True))
        heading.addWidget(self.history_note, 1)
        heading.addWidget(self.restore_button)
        right.addLayout(heading)
        right.addWidget(self.history_view, 3)
        right.addWidget(self.diff, 2)

        self.placeholder = plain_label("Select a fact to see where it came from and how it changed.", self,
                                       name="emptyNote", wrap=True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body = QWidget(self)
        body = QHBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(left, 2)
        body.addSpacing(12)
        body.addLayout(right, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.body, 1)

        self.show_message_button.clicked.connect(self._on_show_message)
        self.restore_button.clicked.connect(self._on_restore)
        self.history_view.selectionModel().selectionChanged.connect(self._on_version_selected)
        self.show_fact(None)

    def _value(self) -> QLabel:
        label = plain_label("", self, wrap=True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    # -- showing -------------------------------------------------------------------------------------
    def show_fact(self, fact: FactRow | None) -> None:
        """Show ``fact`` (None: nothing selected). The history follows through ``set_versions``."""
        same = fact is not None and self.fact is not None and fact.id == self.fact.id
        self.fact = fact
        self.placeholder.setVisible(fact is None)
        self.body.setVisible(fact is not None)
        if fact is None:
            self.history.replace_rows([])
            return
        if not same:
            self.history.replace_rows([])
            self.history_note.setText("loading…")
        self.title.setText(fact.text)
        self.category.setText(fact.category)
        self.added.setText(_when_who(fact.added, fact.added_by, "before provenance was kept"))
        self.changed.setText(_when_who(fact.changed, fact.changed_by, "never"))
        if fact.source_message_id:
            self.source.setText(f"message {fact.source_message_id}")
        elif fact.context_message_id:
            self.source.setText(f"the conversation, after message {fact.context_message_id} (its newest then)")
        else:
            self.source.setText("unknown: no message was recorded")
        self.show_message_button.setEnabled(fact.message_id is not None)
        self._update_restore()

    def set_versions(self, rows: list[VersionRow] | None, error: str = "") -> None:
        """The shown fact's history, newest first (None and ``error``: it could not be read)."""
        selected = self.selected_version()
        self.history.apply_rows(rows or [])
        if error:
            self.history_note.setText(f"could not be read: {error}")
        else:
            count = len(rows or [])
            self.history_note.setText(f"{count} change{'s' if count != 1 else ''}" if count else
                                      "no changes recorded (written by an older version)")
        row = self.history.row_of(selected.id) if selected else -1
        if row < 0 and self.history.rowCount():
            row = 0
        if row >= 0:
            self.select_version(row)
        else:
            self._show_diff(None)

    def set_editable(self, editable: bool) -> None:
        self.editable = editable
        self._update_restore()

    def select_version(self, row: int) -> None:
        """Select history row ``row`` (not ``selectRow``, which follows the keyboard modifiers held)."""
        index = self.history.index(row, 0)
        self.history_view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)

    def selected_version(self) -> VersionRow | None:
        rows = self.history_view.selectionModel().selectedRows()
        value = rows[0].data(ROW_ROLE) if rows else None
        return value if isinstance(value, VersionRow) else None

    @Slot(QItemSelection, QItemSelection)
    def _on_version_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._show_diff(self.selected_version())
        self._update_restore()

    def _update_restore(self) -> None:
        version = self.selected_version()
        current = (self.fact.category, self.fact.text) if self.fact else None
        self.restore_button.setEnabled(self.editable and version is not None and version.state is not None
                                       and version.state != current)

    def _show_diff(self, version: VersionRow | None) -> None:
        """What the change did, word by word: removed words struck out in red, added ones in green."""
        self.diff.clear()
        if version is None:
            return
        cursor = self.diff.textCursor()
        plain, removed, added = QTextCharFormat(), QTextCharFormat(), QTextCharFormat()
        removed.setBackground(_REMOVED_BG)
        removed.setFontStrikeOut(True)
        added.setBackground(_ADDED_BG)
        bold = QTextCharFormat()
        bold.setFontWeight(QFont.Weight.DemiBold)
        before, after = version.before, version.after
        verb = ACTIONS.get(version.action, version.action)
        cursor.insertText(f"{version.when} · {version.by or 'unknown'} · {verb}\n", bold)
        if before and after and before[0] != after[0]:
            cursor.insertText("category: ", plain)
            cursor.insertText(before[0], removed)
            cursor.insertText(" ", plain)
            cursor.insertText(after[0], added)
            cursor.insertText("\n", plain)
        formats = {"=": plain, "-": removed, "+": added}
        for op, text in word_diff(before[1] if before else "", after[1] if after else ""):
            cursor.insertText(text, formats[op])
        self.diff.moveCursor(QTextCursor.MoveOperation.Start)

    def diff_text(self) -> str:
        return self.diff.toPlainText()

    # -- requests ------------------------------------------------------------------------------------
    @Slot()
    def _on_show_message(self) -> None:
        if self.fact is not None and self.fact.message_id:
            self.message_requested.emit(self.fact.message_id)

    @Slot()
    def _on_restore(self) -> None:
        version = self.selected_version()
        if self.fact is not None and version is not None and version.state is not None:
            self.restore_requested.emit(self.fact, version)


def _when_who(when: str, who: str, missing: str) -> str:
    if not when and not who:
        return missing
    return f"{when or 'at an unknown time'}, by {who or 'unknown'}"

