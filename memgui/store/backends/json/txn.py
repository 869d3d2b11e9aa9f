"""Transactions of the JSON backend: what a rule staged, for ``JsonMemoryStore`` to commit."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from memgui.store.backend import GlobalTxn, UserTxn
from memgui.store.backends.json.journal import SEQ_KEY
from memgui.store.documents import Doc, DocKind, LogKind

if TYPE_CHECKING:
    from pathlib import Path

    from memgui.store.backends.json.files import JsonFiles


class JsonUserTxn(UserTxn):
    """Staged changes to one user folder. Reads of the history and metrics include the journal."""

    def __init__(self, files: JsonFiles, folder: Path, user_id: str, exists: bool) -> None:
        super().__init__(user_id, exists)
        self.files = files
        self.folder = folder
        self.staged: dict[DocKind, Doc] = {}
        self.appends: dict[LogKind, list[Doc]] = {}
        self.messages: list[tuple[Doc, date]] = []
        self.replaced: dict[LogKind, list[Doc]] = {}

    @property
    def dirty(self) -> bool:
        return bool(self.staged or self.appends or self.messages or self.replaced)

    def read(self, kind: DocKind) -> Doc | None:
        if kind in self.staged:
            return self.staged[kind]
        if not self.exists:
            return None
        if kind in ("history", "metrics"):
            if kind == "history":
                doc = self.files.logical_history(self.folder, locked=True)[0]
            else:
                doc = self.files.logical_metrics(self.folder, locked=True)
            return None if doc is None else {k: v for k, v in doc.items() if k != SEQ_KEY}
        return self.files.load_doc(self.folder, kind)

    def write(self, kind: DocKind, doc: Doc) -> None:
        self.staged[kind] = doc

    def append(self, log: LogKind, entries: list[Doc]) -> None:
        self.appends.setdefault(log, []).extend(entries)

    def replace_log(self, log: LogKind, entries: list[Doc]) -> None:
        self.replaced[log] = entries
        self.appends.pop(log, None)

    def read_log(self, log: LogKind) -> list[Doc]:
        committed: list[Doc] = []
        if log in self.replaced:
            committed = self.replaced[log]
        elif self.exists:
            committed = self.files.load_log(self.folder, log)
            if log == "archive":
                committed = [*committed, *self.files.logical_history(self.folder, locked=True)[1]]
        return [*committed, *self.appends.get(log, [])]

    def append_message(self, message: Doc, day: date) -> None:
        self.messages.append((message, day))


class JsonGlobalTxn(GlobalTxn):
    def __init__(self, current: Doc | None) -> None:
        self.current = current
        self.staged: Doc | None = None

    def read(self) -> Doc | None:
        return self.staged if self.staged is not None else self.current

    def write(self, doc: Doc) -> None:
        self.staged = doc
