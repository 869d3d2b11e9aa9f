"""The conversation pane: the message list (``conversationView``), find with next/previous, jump to a date,
and a reading pane with the selected message in full, as selectable plain text."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QItemSelection, QItemSelectionModel, QModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QColor, QKeySequence, QShortcut, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QSplitter,
    QTableView,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from memgui.models.conversation_model import ROLE_NAMES, ConversationModel
from memgui.models.conversation_worker import MessageRow
from memgui.views.message_delegate import MessageDelegate, row_height


class ConversationView(QTableView):
    """One column of fixed-height message bubbles. A table view, not a list view: ``QListView`` calls the
    model's Python ``rowCount`` once per row on every layout (5 s for a million rows), ``QTableView`` does not."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversationView")
        self.horizontalHeader().hide()
        self.horizontalHeader().setStretchLastSection(True)
        header = self.verticalHeader()
        header.hide()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setDefaultSectionSize(row_height(self.font()))
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setItemDelegate(MessageDelegate(self))
        self._at_bottom = True
        self._scroll_before = 0

    def setModel(self, model: ConversationModel) -> None:  # type: ignore[override]
        super().setModel(model)
        model.rowsAboutToBeInserted.connect(self._before_insert)
        model.rowsInserted.connect(self._after_insert)

    @Slot(QModelIndex, int, int)
    def _before_insert(self, _parent: QModelIndex, _first: int, _last: int) -> None:
        bar = self.verticalScrollBar()
        self._at_bottom = bar.value() >= bar.maximum() - 2
        self._scroll_before = bar.value()

    @Slot(QModelIndex, int, int)
    def _after_insert(self, _parent: QModelIndex, first: int, last: int) -> None:
        """Older rows arriving in front must not move what is on screen; at the bottom, stay there."""
        if self._at_bottom:
            self.scrollToBottom()
        elif first == 0:
            rows = last - first + 1
            self.verticalScrollBar().setValue(self._scroll_before + rows * self.verticalHeader().defaultSectionSize())

    def copy_selection(self) -> str:
        """The selected messages as plain text (what Ctrl+C puts on the clipboard)."""
        model = self.model()
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()})
        parts = []
        for r in rows:
            msg = model.message(r) if isinstance(model, ConversationModel) else None
            if msg is not None:
                parts.append(f"[{msg.time}] {ROLE_NAMES.get(msg.role, msg.role)}: {msg.content}")
        return "\n\n".join(parts)


class ConversationPane(QWidget):
    """Find bar, message list, reading pane."""

    status = Signal(str)

    def __init__(self, model: ConversationModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._find_token = -1
        self._jump_token = -1
        self._message_token = -1
        self._mark = ""  # a search result's match, highlighted in the reading pane
        self.find_edit = QLineEdit(self)
        self.find_edit.setObjectName("conversationFind")
        self.find_edit.setPlaceholderText("Find in conversation…")
        self.find_edit.setClearButtonEnabled(True)
        self.prev_button = QToolButton(self)
        self.prev_button.setText("▲")
        self.prev_button.setToolTip("Previous match (Shift+Enter)")
        self.next_button = QToolButton(self)
        self.next_button.setText("▼")
        self.next_button.setToolTip("Next match (Enter)")
        self.find_label = QLabel(self)
        self.find_label.setTextFormat(Qt.TextFormat.PlainText)
        self.find_label.setMinimumWidth(110)
        self.date_edit = QDateEdit(self)
        self.date_edit.setObjectName("conversationDate")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setDate(QDate.currentDate())
        self.date_edit.setToolTip("Jump to the first message on this day (in the user's time zone)")
        self.go_button = QToolButton(self)
        self.go_button.setText("Go to date")
        self.progress = QProgressBar(self)
        self.progress.setObjectName("conversationProgress")
        self.progress.setMaximumHeight(4)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.view = ConversationView(self)
        self.view.setModel(model)
        self.reader = QPlainTextEdit(self)
        self.reader.setObjectName("messageText")
        self.reader.setReadOnly(True)
        self.reader.setPlaceholderText("Select a message to read it in full.")
        self.reader.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                            | Qt.TextInteractionFlag.TextSelectableByKeyboard)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.find_edit, 1)
        bar.addWidget(self.prev_button)
        bar.addWidget(self.next_button)
        bar.addWidget(self.find_label)
        bar.addSpacing(12)
        bar.addWidget(self.date_edit)
        bar.addWidget(self.go_button)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.view)
        splitter.addWidget(self.reader)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([600, 110])
        self.reader.setMinimumHeight(60)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.progress)
        layout.addWidget(splitter, 1)

        self.find_edit.returnPressed.connect(self.find_next)
        self.next_button.clicked.connect(self.find_next)
        self.prev_button.clicked.connect(self.find_previous)
        self.go_button.clicked.connect(self.jump_to_date)
        QShortcut(QKeySequence("Shift+Return"), self.find_edit, self.find_previous)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Copy), self.view, self.copy_selection,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        model.found.connect(self._on_found)
        model.ready.connect(self._on_ready)
        model.loading.connect(self._on_loading)
        model.failed.connect(self._on_failed)
        model.dataChanged.connect(self._on_data_changed)
        model.modelReset.connect(self._on_reset)

    # -- finding -------------------------------------------------------------------------------------
    def _current_row(self) -> int:
        index = self.view.currentIndex()
        return index.row() if index.isValid() else self.model.rowCount() - 1

    @Slot()
    def find_next(self) -> None:
        self._find(backward=False)

    @Slot()
    def find_previous(self) -> None:
        self._find(backward=True)

    def _find(self, *, backward: bool) -> None:
        needle = self.find_edit.text()
        count = self.model.rowCount()
        if not needle or not count:
            self.find_label.clear()
            return
        current = self.view.currentIndex()
        if not current.isValid():
            start = count - 1 if backward else 0
        else:
            start = (current.row() + (-1 if backward else 1)) % count
        self.find_label.setText("Searching…")
        self._find_token = self.model.find(needle, start, backward=backward)

    @Slot()
    def jump_to_date(self) -> None:
        qdate = self.date_edit.date()
        if self.model.rowCount():
            self._jump_token = self.model.jump_to(date(qdate.year(), qdate.month(), qdate.day()))

    def show_message(self, message_id: str, mark: str = "") -> None:
        """Scroll to and select the message ``message_id`` (found by the worker, the archive included);
        ``mark``: text to highlight in the reading pane (a search result's match), besides the find field's."""
        self._mark = mark
        self._message_token = self.model.find_message(message_id)
        self.status.emit("Looking for the message…")

    @Slot(int, int)
    def _on_found(self, token: int, row: int) -> None:
        if token == self._message_token:
            self.status.emit("" if row >= 0 else "That message is no longer in the conversation.")
        elif token == self._find_token:
            self.find_label.setText("No match" if row < 0 else f"Match at {row + 1:,}")
        elif token != self._jump_token:
            return
        if row >= 0:
            self.select_row(row)

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    # -- reading pane --------------------------------------------------------------------------------
    @Slot(QItemSelection, QItemSelection)
    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._show_current()

    def _show_current(self) -> None:
        index = self.view.currentIndex()
        msg: MessageRow | None = self.model.message(index.row()) if index.isValid() else None
        if msg is None:
            self.reader.clear()
            return
        who = ROLE_NAMES.get(msg.role, msg.role)
        head = f"{who} · {msg.time} ({self.model.zone})"
        self.reader.setPlainText(f"{head}\n\n{msg.error or msg.content}")
        self._highlight(len(head) + 2)

    def _highlight(self, offset: int) -> None:
        selections = []
        doc = self.reader.document()
        fmt = QTextCharFormat()
        fmt.setBackground(QColor("#fde68a"))
        for needle in dict.fromkeys(n for n in (self.find_edit.text(), self._mark) if n):
            cursor = doc.find(needle, offset)
            while not cursor.isNull():
                sel = QTextEdit.ExtraSelection()
                sel.cursor = cursor
                sel.format = fmt
                selections.append(sel)
                cursor = doc.find(needle, cursor)
        self.reader.setExtraSelections(selections)
        self.reader.moveCursor(QTextCursor.MoveOperation.Start)

    @Slot(QModelIndex, QModelIndex)
    def _on_data_changed(self, first: QModelIndex, last: QModelIndex) -> None:
        current = self.view.currentIndex()
        if current.isValid() and first.row() <= current.row() <= last.row():
            self._show_current()

    @Slot()
    def copy_selection(self) -> None:
        from PySide6.QtWidgets import QApplication

        QApplication.clipboard().setText(self.view.copy_selection())

    # -- loading -------------------------------------------------------------------------------------
    @Slot()
    def _on_reset(self) -> None:
        self.reader.clear()
        self.find_label.clear()

    @Slot()
    def _on_ready(self) -> None:
        self.view.scrollToBottom()

    @Slot(int, int)
    def _on_loading(self, done: int, total: int) -> None:
        if total <= 0:  # loaded; the header already says how many messages (the status bar keeps user counts)
            self.progress.hide()
            return
        self.progress.setRange(0, 1000)
        self.progress.setValue(int(1000 * done / total) if total else 0)
        self.progress.show()

    @Slot(str)
    def _on_failed(self, error: str) -> None:
        self.reader.setPlainText(f"The conversation could not be read:\n{error}")
