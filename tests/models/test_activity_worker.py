"""ActivityLoader: jobs run off the GUI thread, only the newest request's result is delivered, failures are
reported, progress is relayed, and deleting the loader cancels and waits for a running job."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QCoreApplication, QObject, QThread
from pytestqt.qtbot import QtBot

import memgui.models.activity_worker as worker_module
from memgui.models.activity_worker import ActivityLoader
from memgui.store.errors import CorruptDataError
from memgui.store.read.activity import Cancelled, ProgressFn


@pytest.fixture
def owner(qapp: object) -> Iterator[QObject]:
    parent = QObject()
    yield parent
    for loader in parent.findChildren(ActivityLoader):
        loader.cancel()
        loader.wait(5_000)


def test_result_arrives_from_another_thread(qtbot: QtBot, owner: QObject) -> None:
    loader = ActivityLoader(owner)
    threads: list[QThread] = []

    def job(progress: ProgressFn) -> str:
        threads.append(QThread.currentThread())
        return "done"

    busy: list[bool] = []
    loader.busyChanged.connect(busy.append)
    with qtbot.waitSignal(loader.ready, timeout=5_000) as blocker:
        ticket = loader.submit(job)
    assert blocker.args == ["done"] and ticket == loader.ticket == 1
    assert threads and threads[0] is not QCoreApplication.instance().thread()  # type: ignore[union-attr]
    assert busy == [True, False] and not loader.busy


def test_only_the_newest_result_is_delivered(qtbot: QtBot, owner: QObject) -> None:
    loader = ActivityLoader(owner)
    started, release = threading.Event(), threading.Event()

    def old(progress: ProgressFn) -> str:  # ignores progress: only the ticket check can drop it
        started.set()
        release.wait(10)
        return "old"

    results: list[object] = []
    loader.ready.connect(results.append)
    loader.submit(old)
    qtbot.waitUntil(started.is_set, timeout=5_000)
    loader.submit(lambda progress: "new")
    release.set()
    with qtbot.waitSignal(loader.ready, timeout=5_000):
        pass
    loader.wait(5_000)
    QCoreApplication.processEvents()
    assert results == ["new"]


def endless_job(started: threading.Event, cancelled: threading.Event) -> Callable[[ProgressFn], str]:
    """A job that runs until cancelled: ``started`` is set when it runs, ``cancelled`` when it stops."""

    def endless(progress: ProgressFn) -> str:
        started.set()
        while True:
            try:
                progress(0.1)
            except Cancelled:
                cancelled.set()
                raise
            cancelled.wait(0.005)

    return endless


def test_a_running_job_is_cancelled_by_a_newer_request(qtbot: QtBot, owner: QObject) -> None:
    loader = ActivityLoader(owner)
    started, cancelled = threading.Event(), threading.Event()
    loader.submit(endless_job(started, cancelled))
    qtbot.waitUntil(started.is_set, timeout=5_000)
    with qtbot.waitSignal(loader.ready, timeout=5_000) as blocker:
        loader.submit(lambda progress: 42)
    assert blocker.args == [42] and cancelled.is_set()


def test_failures_and_progress_are_reported(qtbot: QtBot, owner: QObject, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_module, "PROGRESS_INTERVAL", 0.0)
    loader = ActivityLoader(owner)
    fractions: list[float] = []
    loader.progressChanged.connect(fractions.append)

    def stepping(progress: ProgressFn) -> str:
        for i in range(1, 5):
            progress(i / 4)
        return "ok"

    with qtbot.waitSignal(loader.ready, timeout=5_000):
        loader.submit(stepping)
    assert fractions == [0.25, 0.5, 0.75, 1.0]

    def broken(progress: ProgressFn) -> str:
        raise CorruptDataError("/data/alice/user_profile.json", "is not valid JSON")

    with qtbot.waitSignal(loader.failed, timeout=5_000) as blocker:
        loader.submit(broken)
    assert "user_profile.json" in blocker.args[0] and not loader.busy


def test_deleting_the_loader_stops_its_job(qtbot: QtBot, qapp: object) -> None:
    parent = QObject()
    loader = ActivityLoader(parent)
    started, cancelled = threading.Event(), threading.Event()
    loader.submit(endless_job(started, cancelled))
    qtbot.waitUntil(started.is_set, timeout=5_000)
    with qtbot.waitSignal(parent.destroyed, timeout=5_000):
        parent.deleteLater()  # deletes the loader, whose pool waits for the job it cancelled
    assert cancelled.is_set()
