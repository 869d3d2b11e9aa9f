"""The selected user's whole conversation, one row per message, fetched on demand from a worker.

Rows are never all in memory: the newest rows (what ``open`` shows first) stay pinned, older ones come in
blocks of ``BLOCK`` rows from the worker when a view asks for them (``data`` answers a placeholder meanwhile
and ``dataChanged`` follows), kept in a small LRU. No proxy sits on top: a proxy's Python calls per row
would cost seconds over a million rows. Opening shows the newest rows at once; the older ones are inserted
in front when the archive index is complete.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal, Slot

from memgui.models.conversation_worker import BLOCK, ConversationWorker, MessageRow
from memgui.models.roles import ERROR_ROLE, ROW_ROLE

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
MAX_BLOCKS = 64
ROLE_NAMES = {"user": "User", "assistant": "Assistant", "system": "System", "error": "Unreadable"}


class ConversationModel(QAbstractTableModel):
    """One column; ``ROW_ROLE`` gives the ``MessageRow`` (None while the row is being fetched)."""

    # requests, queued to the worker's thread
    _open = Signal(int, str)
    _fetch = Signal(int, int)
    _search = Signal(int, int, str, int, bool)
    _jump = Signal(int, int, str)
    _find_message = Signal(int, int, str)
    _refresh = Signal(int)
    # news for the view
    loading = Signal(int, int)  # done, total (bytes of archive indexed); total 0 when finished
    ready = Signal()  # the newest rows are in
    found = Signal(int, int)  # token, row (-1: not found)
    failed = Signal(str)

    def __init__(self, worker: ConversationWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        self._token = 0
        self._count = 0
        self._pinned_start = 0
        self._pinned: list[MessageRow] = []
        self._blocks: OrderedDict[int, list[MessageRow]] = OrderedDict()
        self._pending: set[int] = set()
        self.user_id = ""
        self.zone = ""
        self.is_loading = False
        self._refresh_wanted = False  # a refresh asked for while loading: sent once the index is complete
        self._open.connect(worker.open)
        self._fetch.connect(worker.fetch)
        self._search.connect(worker.search)
        self._jump.connect(worker.jump)
        self._find_message.connect(worker.find_message)
        self._refresh.connect(worker.refresh)
        worker.opened.connect(self._on_opened)
        worker.open_failed.connect(self._on_failed)
        worker.indexing.connect(self._on_indexing)
        worker.indexed.connect(self._on_indexed)
        worker.fetched.connect(self._on_fetched)
        worker.found.connect(self._on_found)
        worker.grown.connect(self._on_grown)

    # -- Qt interface ----------------------------------------------------------------------------------
    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else 1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._count:
            return None
        if role == ROW_ROLE:
            return self.message(index.row())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, ERROR_ROLE):
            row = self.message(index.row())
            if row is None:
                return "" if role == Qt.ItemDataRole.DisplayRole else None
            if role == Qt.ItemDataRole.DisplayRole:
                return row.content
            if role == ERROR_ROLE:
                return row.error
            return f"{ROLE_NAMES.get(row.role, row.role)}, {row.time} ({self.zone})"
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and section == 0:
            return "Message"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # -- rows ----------------------------------------------------------------------------------------
    def message(self, row: int) -> MessageRow | None:
        """The row's message, or None while it is fetched (a fetch is requested)."""
        if self._pinned_start <= row < self._pinned_start + len(self._pinned):
            return self._pinned[row - self._pinned_start]
        block = row // BLOCK
        rows = self._blocks.get(block)
        if rows is not None:
            self._blocks.move_to_end(block)
            offset = row - block * BLOCK
            if offset < len(rows):
                return rows[offset]
        if block not in self._pending:
            self._pending.add(block)
            self._fetch.emit(self._generation, block)
        return None

    # -- requests ------------------------------------------------------------------------------------
    def set_user(self, user_id: str | None) -> None:
        """Show another user's conversation (a reset: nothing relates it to the one shown)."""
        self._generation += 1
        self.beginResetModel()
        self._count = self._pinned_start = 0
        self._pinned, self._blocks, self._pending = [], OrderedDict(), set()
        self.user_id = user_id or ""
        self.endResetModel()
        self.is_loading = bool(user_id)
        self._refresh_wanted = False
        self._open.emit(self._generation, self.user_id)
        if user_id:
            self.loading.emit(0, 1)

    def find(self, needle: str, start: int, *, backward: bool = False) -> int:
        """Look for ``needle`` from ``start`` on (wrapping); the answer comes as ``found(token, row)``."""
        self._token += 1
        self._search.emit(self._generation, self._token, needle, start, backward)
        return self._token

    def jump_to(self, day: date) -> int:
        """Find the first message on ``day`` or later; answered by ``found(token, row)``."""
        self._token += 1
        self._jump.emit(self._generation, self._token, day.isoformat())
        return self._token

    def find_message(self, message_id: str) -> int:
        """Find the row of the message ``message_id``; answered by ``found(token, row)`` (-1: not there)."""
        self._token += 1
        self._find_message.emit(self._generation, self._token, message_id)
        return self._token

    def refresh(self) -> None:
        """Take in messages written since the conversation was opened (rows appended at the end). While it
        is still loading, the refresh is sent once it is done: what was read first may be stale by then."""
        if not self.user_id:
            return
        if self.is_loading:
            self._refresh_wanted = True
        else:
            self._refresh.emit(self._generation)

    # -- answers -------------------------------------------------------------------------------------
    @Slot(int, object, str)
    def _on_opened(self, generation: int, rows: list[MessageRow], zone: str) -> None:
        if generation != self._generation:
            return
        self.zone = zone
        if rows:
            self.beginInsertRows(_ROOT, 0, len(rows) - 1)
            self._pinned, self._pinned_start, self._count = rows, 0, len(rows)
            self.endInsertRows()
        self.ready.emit()

    @Slot(int, str)
    def _on_failed(self, generation: int, error: str) -> None:
        if generation == self._generation:
            self.is_loading = False
            self.loading.emit(0, 0)
            self.failed.emit(error)

    @Slot(int, int, int)
    def _on_indexing(self, generation: int, done: int, total: int) -> None:
        if generation == self._generation:
            self.loading.emit(done, total)

    @Slot(int, int)
    def _on_indexed(self, generation: int, added: int) -> None:
        if generation != self._generation:
            return
        if added > 0:
            self.beginInsertRows(_ROOT, 0, added - 1)
            self._pinned_start += added
            self._count += added
            self.endInsertRows()
        self.is_loading = False
        if self._refresh_wanted:
            self._refresh_wanted = False
            self._refresh.emit(self._generation)
        self.loading.emit(0, 0)

    @Slot(int, int, object)
    def _on_fetched(self, generation: int, block: int, rows: list[MessageRow]) -> None:
        if generation != self._generation:
            return
        self._pending.discard(block)
        self._blocks[block] = rows
        while len(self._blocks) > MAX_BLOCKS:
            self._blocks.popitem(last=False)
        first = block * BLOCK
        last = min(first + len(rows), self._count) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, 0))

    @Slot(int, int, int)
    def _on_found(self, generation: int, token: int, row: int) -> None:
        if generation == self._generation:
            self.found.emit(token, row)

    @Slot(int, int)
    def _on_grown(self, generation: int, added: int) -> None:
        if generation != self._generation:
            return
        if added < 0:
            self.set_user(self.user_id)
            return
        if added:
            last_block = (self._count - 1) // BLOCK if self._count else 0
            self._blocks.pop(last_block, None)  # it may have been short
            self.beginInsertRows(_ROOT, self._count, self._count + added - 1)
            self._count += added
            self.endInsertRows()
