"""Generator jobs of a ``JobWorker``: round-robin steps, and a job that waits for an answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QObject

from memgui.models import jobs
from memgui.models.jobs import JobWorker


def _worker(owner: QObject) -> JobWorker:
    worker = JobWorker()  # in this thread: its steps run from this event loop
    owner.destroyed.connect(worker.deleteLater)
    return worker


def _turn_loop(times: int = 30) -> None:
    for _ in range(times):
        QCoreApplication.processEvents()


def test_a_job_that_waits_is_not_stepped_until_resumed_while_others_go_on(owner: QObject, qtbot: Any) -> None:
    worker = _worker(owner)
    steps: list[str] = []

    def waiting() -> Iterator[None]:
        steps.append("asked")
        worker.wait_after_step()
        yield
        steps.append("answered")

    def counting() -> Iterator[None]:
        for i in range(5):
            steps.append(f"other {i}")
            yield

    worker.start_job("waits", waiting())
    worker.start_job("other", counting())
    qtbot.waitUntil(lambda: "other 4" in steps, timeout=5000)
    _turn_loop()
    assert "answered" not in steps and worker.busy()  # parked, not spinning, not dropped
    worker.resume_job("waits")
    worker.resume_job("other")  # not waiting: nothing happens
    qtbot.waitUntil(lambda: not worker.busy(), timeout=5000)
    assert steps.count("answered") == 1 and steps[0] == "asked"


def test_a_waiting_job_can_be_cancelled_or_replaced(owner: QObject, qtbot: Any) -> None:
    worker = _worker(owner)
    steps: list[str] = []

    def job(name: str) -> Iterator[None]:
        steps.append(f"{name} asked")
        worker.wait_after_step()
        yield
        steps.append(f"{name} answered")

    worker.start_job("j", job("first"))
    qtbot.waitUntil(lambda: steps == ["first asked"], timeout=5000)
    worker.cancel_job("j")
    assert not worker.busy()
    worker.resume_job("j")  # a late answer for the cancelled job
    _turn_loop()
    assert steps == ["first asked"]
    worker.start_job("j", job("second"))
    qtbot.waitUntil(lambda: steps[-1] == "second asked", timeout=5000)
    worker.start_job("j", job("third"))  # replaces the waiting one, and runs at once
    qtbot.waitUntil(lambda: steps[-1] == "third asked", timeout=5000)
    worker.resume_job("j")
    qtbot.waitUntil(lambda: not worker.busy(), timeout=5000)
    assert steps == ["first asked", "second asked", "third asked", "third answered"]


def test_an_answer_that_never_comes_ends_the_wait(owner: QObject, qtbot: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "MAX_WAIT_MS", 50)
    worker = _worker(owner)
    steps: list[str] = []

    def waiting() -> Iterator[None]:
        worker.wait_after_step()
        yield
        steps.append("went on")

    worker.start_job("waits", waiting())
    qtbot.waitUntil(lambda: steps == ["went on"] and not worker.busy(), timeout=5000)


def test_jobs_take_turns_of_many_steps_each(owner: QObject, qtbot: Any) -> None:
    worker = _worker(owner)
    order: list[str] = []

    def long() -> Iterator[None]:
        for _ in range(300_000):  # far more than one turn's worth of steps
            yield
        order.append("long done")

    def short() -> Iterator[None]:
        for i in range(3):
            order.append(f"short {i}")
            yield

    worker.start_job("long", long())
    worker.start_job("short", short())
    qtbot.waitUntil(lambda: not worker.busy(), timeout=30_000)
    assert order == ["short 0", "short 1", "short 2", "long done"]  # the short job was not kept waiting


def test_the_time_out_of_an_earlier_wait_does_not_end_a_later_one(owner: QObject, qtbot: Any) -> None:
    worker = _worker(owner)
    steps: list[str] = []

    def twice() -> Iterator[None]:
        for i in range(2):
            steps.append(f"wait {i}")
            worker.wait_after_step()
            yield
        steps.append("done")

    worker.start_job("j", twice())
    qtbot.waitUntil(lambda: steps == ["wait 0"], timeout=5000)
    first = worker._parked["j"]
    worker.resume_job("j")
    qtbot.waitUntil(lambda: steps == ["wait 0", "wait 1"], timeout=5000)
    worker._waited_too_long("j", first)  # the first wait's time-out, firing late
    _turn_loop()
    assert steps == ["wait 0", "wait 1"] and worker.busy()
    worker._waited_too_long("j", worker._parked["j"])  # this wait's own time-out
    qtbot.waitUntil(lambda: not worker.busy(), timeout=5000)
    assert steps[-1] == "done"
