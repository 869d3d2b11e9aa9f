"""The conversation pane's worker: opens a user's conversation (tail first, then the archive index in
chunks), serves blocks of rows, finds text and dates. Runs in its own thread; see ``jobs.py``."""

from __future__ import annotations

import dataclasses
from datetime import date

from PySide6.QtCore import Signal, Slot

from memgui.models.jobs import Job, JobWorker
from memgui.models.timefmt import FORMAT
from memgui.store import MemoryStore, MemoryStoreError
from memgui.store.read.conversation import Conversation, Entry
from memgui.store.timeutil import zone_label

BLOCK = 512  # rows per fetched block
ID_SCAN_ROWS = 4096  # rows looked at per step when finding a message by id


@dataclasses.dataclass(frozen=True, slots=True)
class MessageRow:
    """One message as the conversation pane shows it; ``time`` is in the user's zone."""

    id: str
    role: str
    content: str
    time: str
    day: date | None
    error: str | None = None


class ConversationWorker(JobWorker):
    opened = Signal(int, object, str)  # generation, [MessageRow] (the newest rows), zone label
    open_failed = Signal(int, str)
    indexing = Signal(int, int, int)  # generation, bytes done, bytes total
    indexed = Signal(int, int)  # generation, rows added in front
    fetched = Signal(int, int, object)  # generation, block number, [MessageRow]
    found = Signal(int, int, int)  # generation, request token, row (-1: none)
    searching = Signal(int, int, int, int)  # generation, token, rows scanned, rows in all
    grown = Signal(int, int)  # generation, rows added at the end (-1: reopen)

    def __init__(self, store: MemoryStore) -> None:
        super().__init__()
        self.store = store
        self._conv: Conversation | None = None
        self._generation = -1

    def _rows(self, entries: list[Entry]) -> list[MessageRow]:
        assert self._conv is not None
        out = []
        for entry in entries:
            msg = entry.message
            if msg is None:
                out.append(MessageRow(f"row-{entry.row}", "error", "", "", None, entry.error))
                continue
            moment = self._conv.local_time(msg)
            content = msg.get("content")
            out.append(MessageRow(msg["id"], str(msg["role"]), content if isinstance(content, str) else str(content),
                                  moment.strftime(FORMAT) if moment else str(msg.get("timestamp", "")),
                                  moment.date() if moment else None))
        return out

    @Slot(object)
    def set_store(self, store: MemoryStore) -> None:
        """Read ``store`` from now on (another folder was opened)."""
        self.open(-1, "")
        self.store = store

    @Slot(int, str)
    def open(self, generation: int, user_id: str) -> None:
        for name in ("open", "search", "jump", "message"):
            self.cancel_job(name)
        if self._conv is not None:
            self._conv.close()
            self._conv = None
        self._generation = generation
        if user_id:
            self.start_job("open", self._open(generation, user_id))

    def _open(self, generation: int, user_id: str) -> Job:
        conv = Conversation(self.store, user_id)
        try:
            conv.open()
        except (MemoryStoreError, OSError) as exc:
            conv.close()
            self.open_failed.emit(generation, str(exc))
            return
        self._conv = conv
        self.opened.emit(generation, self._rows(conv.entries(0, len(conv))), zone_label(conv.zone))
        yield
        before = len(conv)
        for done, total in conv.index_steps():
            self.indexing.emit(generation, done, total)
            yield
        self.indexed.emit(generation, len(conv) - before)

    def _ready(self, generation: int) -> Conversation | None:
        conv = self._conv
        return conv if conv is not None and generation == self._generation and conv.indexed else None

    @Slot(int, int)
    def fetch(self, generation: int, block: int) -> None:
        conv = self._ready(generation)
        if conv is not None:
            self.fetched.emit(generation, block, self._rows(conv.entries(block * BLOCK, (block + 1) * BLOCK)))

    @Slot(int, int, str, int, bool)
    def search(self, generation: int, token: int, needle: str, start: int, backward: bool) -> None:
        self.start_job("search", self._search(generation, token, needle, start, backward))

    def _search(self, generation: int, token: int, needle: str, start: int, backward: bool) -> Job:
        while self._conv is not None and not self._conv.indexed and generation == self._generation:
            yield  # wait for the index: row numbers change when the older rows arrive
        conv = self._ready(generation)
        if conv is None:
            return
        for hit in conv.search_steps(needle, start, backward=backward):
            if hit.done:
                self.found.emit(generation, token, -1 if hit.row is None else hit.row)
                return
            self.searching.emit(generation, token, hit.scanned, len(conv))
            yield

    @Slot(int, int, str)
    def jump(self, generation: int, token: int, day: str) -> None:
        self.start_job("jump", self._jump(generation, token, date.fromisoformat(day)))

    def _jump(self, generation: int, token: int, day: date) -> Job:
        while self._conv is not None and not self._conv.indexed and generation == self._generation:
            yield
        conv = self._ready(generation)
        if conv is not None:
            row = conv.row_for_date(day)
            self.found.emit(generation, token, min(row, len(conv) - 1))

    @Slot(int, int, str)
    def find_message(self, generation: int, token: int, message_id: str) -> None:
        self.start_job("message", self._find_message(generation, token, message_id))

    def _find_message(self, generation: int, token: int, message_id: str) -> Job:
        """The row of the message ``message_id``, newest rows first (facts come from recent messages)."""
        while self._conv is not None and not self._conv.indexed and generation == self._generation:
            yield
        conv = self._ready(generation)
        if conv is None:
            return
        stop = len(conv)
        while stop > 0:
            start = max(0, stop - ID_SCAN_ROWS)
            for entry in reversed(conv.entries(start, stop)):
                if entry.message is not None and entry.message.get("id") == message_id:
                    self.found.emit(generation, token, entry.row)
                    return
            stop = start
            yield
        self.found.emit(generation, token, -1)

    @Slot(int)
    def refresh(self, generation: int) -> None:
        conv = self._ready(generation)
        if conv is not None:
            try:
                added = conv.refresh()
            except (MemoryStoreError, OSError):
                added = None
            self.grown.emit(generation, -1 if added is None else added)

    @Slot()
    def close(self) -> None:
        self.open(-1, "")
