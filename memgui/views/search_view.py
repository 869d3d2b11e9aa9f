"""The search pane: one field over the whole store (``searchField``), filters (kind, user, role, date range),
the results as they arrive (``searchView``), and a line saying what the search did (indexing progress, hits,
time, where the index is). It emits what the admin asks; the window's ``StoreSearch`` runs it and opens a result.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QItemSelection, QModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QLineEdit,
    QListView,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from memgui.models.roles import ROW_ROLE
from memgui.models.search_model import SearchResultsModel
from memgui.models.search_worker import LIMIT, SearchDone
from memgui.store.search import Filters, Hit
from memgui.views.labels import plain_label
from memgui.views.search_delegate import SearchResultDelegate

DEBOUNCE_MS = 250  # a search starts this long after the last key stroke (Enter: at once)
KIND_CHOICES = (("Everything", ""), ("Messages", "message"), ("Facts", "fact"), ("Memories", "memory"),
                ("Profiles", "profile"), ("Global context", "global"))
ROLE_CHOICES = (("Any role", ""), ("From users", "user"), ("From the assistant", "assistant"),
                ("System notes", "system"))
_NO_DAY = QDate(2000, 1, 1)  # the date edits' minimum, shown as "any day"


def _day_edit(parent: QWidget, name: str, tip: str) -> QDateEdit:
    edit = QDateEdit(parent)
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setMinimumDate(_NO_DAY)
    edit.setSpecialValueText("any day")
    edit.setDate(_NO_DAY)
    edit.setToolTip(tip)
    return edit


def _day(edit: QDateEdit) -> date | None:
    qdate = edit.date()
    return None if qdate <= _NO_DAY else date(qdate.year(), qdate.month(), qdate.day())


class SearchPane(QWidget):
    """``search_requested(text, filters)`` after typing stops or on Enter; ``hit_selected(hit)`` when a result
    becomes current (click or keys); ``plaintext_changed(bool)`` for an encrypted store's on-disk index."""

    search_requested = Signal(str, object)
    hit_selected = Signal(object)
    plaintext_changed = Signal(bool)

    def __init__(self, model: SearchResultsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.field = QLineEdit(self)
        self.field.setObjectName("searchField")
        self.field.setPlaceholderText('Search every user  (Ctrl+Shift+F): words, "a phrase", prefix*')
        self.field.setClearButtonEnabled(True)
        self.kind = QComboBox(self)
        self.kind.setObjectName("searchKind")
        for text, value in KIND_CHOICES:
            self.kind.addItem(text, value)
        self.role = QComboBox(self)
        self.role.setObjectName("searchRole")
        for text, value in ROLE_CHOICES:
            self.role.addItem(text, value)
        self.user = QLineEdit(self)
        self.user.setObjectName("searchUser")
        self.user.setPlaceholderText("Only this user id")
        self.user.setClearButtonEnabled(True)
        self.since = _day_edit(self, "searchSince", "From this day on (as the record's time stamp says)")
        self.until = _day_edit(self, "searchUntil", "Up to this day, included")
        self.plaintext = QCheckBox("Keep the index on disk, unencrypted", self)
        self.plaintext.setObjectName("searchPlaintext")
        self.plaintext.setToolTip(
            "This store is encrypted: its search index is kept in memory and built again in every session, unless "
            "you allow an unencrypted index on disk (in the store's bookkeeping folder; read-only: in your cache).")
        self.plaintext.hide()
        self.progress = QProgressBar(self)
        self.progress.setObjectName("searchProgress")
        self.progress.setMaximumHeight(12)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = plain_label("", self, name="searchStatus", wrap=True)
        self.view = QListView(self)
        self.view.setObjectName("searchView")
        self.view.setModel(model)
        self.view.setItemDelegate(SearchResultDelegate(self.view))
        self.view.setUniformItemSizes(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setAlternatingRowColors(True)

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.addWidget(self.kind, 0, 0)
        grid.addWidget(self.role, 0, 1)
        grid.addWidget(self.user, 1, 0, 1, 2)
        grid.addWidget(self.since, 2, 0)
        grid.addWidget(self.until, 2, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.field)
        layout.addLayout(grid)
        layout.addWidget(self.plaintext)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.view, 1)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.request)
        self.field.textChanged.connect(self._later)
        self.field.returnPressed.connect(self.request)
        self.user.textChanged.connect(self._later)
        self.kind.currentIndexChanged.connect(self._on_kind)
        self.role.currentIndexChanged.connect(self.request)
        self.since.dateChanged.connect(self.request)
        self.until.dateChanged.connect(self.request)
        self.plaintext.toggled.connect(self.plaintext_changed)
        self.view.selectionModel().selectionChanged.connect(self._on_selection)

    # -- asking ------------------------------------------------------------------------------------------
    def text(self) -> str:
        return self.field.text().strip()

    def filters(self) -> Filters:
        kind = str(self.kind.currentData() or "")
        return Filters(kinds=frozenset({kind}) if kind else frozenset(), user=self.user.text().strip(),
                       role=str(self.role.currentData() or ""), since=_day(self.since), until=_day(self.until))

    def focus(self) -> None:
        self.field.setFocus()
        self.field.selectAll()

    @Slot()
    def _later(self) -> None:
        self._debounce.start()

    @Slot()
    def _on_kind(self) -> None:
        self.role.setEnabled(str(self.kind.currentData() or "") in ("", "message"))
        self.request()

    @Slot()
    def request(self) -> None:
        self._debounce.stop()
        self.search_requested.emit(self.text(), self.filters())

    @Slot(QItemSelection, QItemSelection)
    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.view.selectionModel().selectedRows()
        hit = rows[0].data(ROW_ROLE) if rows else None
        if isinstance(hit, Hit):
            self.hit_selected.emit(hit)

    def select_row(self, row: int) -> None:
        self.view.setCurrentIndex(self.model.index(row, 0) if row >= 0 else QModelIndex())

    # -- what the search did -------------------------------------------------------------------------------
    def show_started(self) -> None:
        self.status.setText("Searching…")

    def show_cleared(self) -> None:
        self.progress.hide()
        self.status.setText("")

    def show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setVisible(done < total)
        self.status.setText(f"Indexing the store: {done:,} of {total:,} users…")

    def show_done(self, done: SearchDone) -> None:
        self.progress.hide()
        if done.error:
            self.status.setText(f"Search failed: {done.error}")
            return
        parts = ["No result" if not done.count else
                 f"The first {LIMIT:,} results" if done.truncated else
                 f"{done.count:,} result{'s' if done.count != 1 else ''}"]
        parts.append(f"{done.seconds * 1000:,.0f} ms")
        if done.indexed:
            parts.append(f"{done.indexed:,} indexed")
        if done.rebuilt:
            parts.append("a damaged index was made again")
        where = "in memory" if done.where == "memory" else f"at {done.where}"
        self.status.setText(" · ".join(parts))
        self.status.setToolTip(f"Index {where}, {done.size / 1e6:,.1f} MB")

    def set_encrypted(self, encrypted: bool) -> None:
        self.plaintext.setVisible(encrypted)
