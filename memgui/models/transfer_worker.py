"""Export, import and erase of whole users, off the GUI thread (an export or an import reads and writes a
user's whole conversation, which grows without bound).

``TransferController`` lives on the GUI side; its requests are queued to a ``TransferWorker`` in its own
thread, which calls the store (``write_export``, ``read_bundle``, ``import_user_bundle``, ``erase_user``)
and answers with ``finished(kind, result)`` or ``failed(kind, message)``. Export files are written by the
store, never by a view.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from memgui.models.jobs import Job, JobWorker, WorkerThread
from memgui.store import ImportPlan, MemoryStore, MemoryStoreError
from memgui.store.read.users_summary import SummaryCache

FORMATS = {"json": ".json", "markdown": ".md", "csv": ".csv"}


@dataclasses.dataclass(frozen=True)
class ImportPreview:
    """A bundle read from ``path`` and the dry-run plan of each way to import it: ``{"create": plan}`` for a
    user new to the store, else ``merge``, ``replace`` and ``skip``."""

    path: str
    bundle: dict[str, Any]
    user_id: str
    plans: dict[str, ImportPlan]


class TransferWorker(JobWorker):
    finished = Signal(str, object)  # kind ("export", "preview", "import", "erase"), result
    refused = Signal(str, str)  # kind, message

    def __init__(self, store: MemoryStore) -> None:
        super().__init__()
        self.store = store

    @Slot(object)
    def set_store(self, store: MemoryStore) -> None:
        self.store = store

    @Slot(str, object)
    def run(self, kind: str, args: tuple[Any, ...]) -> None:
        self.start_job(kind, self._run(kind, args))

    def _run(self, kind: str, args: tuple[Any, ...]) -> Job:
        try:
            result = getattr(self, f"_{kind}")(*args)
        except (MemoryStoreError, OSError) as exc:
            self.refused.emit(kind, str(exc))
        else:
            self.finished.emit(kind, result)
        yield

    def _export(self, user_id: str, path: str, fmt: str) -> Path:
        return self.store.write_export(user_id, path, fmt)  # type: ignore[arg-type]

    def _preview(self, path: str) -> ImportPreview:
        bundle = self.store.read_bundle(path)
        uid = str(bundle["user_id"])
        modes = ("merge", "replace", "skip") if self.store.user_exists(uid) else ("merge",)
        plans = {mode: self.store.import_user_bundle(bundle, on_conflict=mode, dry_run=True)  # type: ignore[arg-type]
                 for mode in modes}
        if "replace" not in plans:
            plans = {"create": plans["merge"]}
        return ImportPreview(path, bundle, uid, plans)

    def _import(self, bundle: dict[str, Any], mode: str) -> ImportPlan:
        conflict = "merge" if mode == "create" else mode
        return self.store.import_user_bundle(bundle, on_conflict=conflict, dry_run=False)  # type: ignore[arg-type]

    def _erase(self, user_id: str) -> Any:
        report = self.store.erase_user(user_id)
        SummaryCache.forget_on_disk(self.store, user_id)  # the users list's cache named them too
        return report


class TransferController(QObject):
    """The window's side of transfers: one request at a time; ``busy`` while one runs."""

    finished = Signal(str, object)
    refused = Signal(str, str)
    _run = Signal(str, object)
    _set_store = Signal(object)

    def __init__(self, store: MemoryStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = TransferWorker(store)
        self.worker_thread = WorkerThread(self.worker, "memgui-transfer", self)
        self._run.connect(self.worker.run)
        self._set_store.connect(self.worker.set_store)
        self.worker.finished.connect(self._on_finished)
        self.worker.refused.connect(self._on_refused)
        self.running = ""

    def busy(self) -> bool:
        return bool(self.running)

    def set_store(self, store: MemoryStore) -> None:
        self._set_store.emit(store)

    def export_user(self, user_id: str, path: str, fmt: str) -> None:
        self._start("export", (user_id, path, fmt))

    def preview_import(self, path: str) -> None:
        self._start("preview", (path,))

    def import_bundle(self, bundle: dict[str, Any], mode: str) -> None:
        self._start("import", (bundle, mode))

    def erase(self, user_id: str) -> None:
        self._start("erase", (user_id,))

    def _start(self, kind: str, args: tuple[Any, ...]) -> None:
        self.running = kind
        self._run.emit(kind, args)

    @Slot(str, object)
    def _on_finished(self, kind: str, result: object) -> None:
        self.running = ""
        self.finished.emit(kind, result)

    @Slot(str, str)
    def _on_refused(self, kind: str, message: str) -> None:
        self.running = ""
        self.refused.emit(kind, message)

    def stop(self) -> None:
        self.worker_thread.stop()
