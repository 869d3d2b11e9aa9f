"""Work off the GUI thread, in small steps.

A ``JobWorker`` lives in its own ``QThread`` and runs generator jobs one step at a time from its event loop,
round-robin, so a long job (listing 10,000 users, indexing a 200 MB archive, a search) never delays a short
request queued behind it, and a newer request of the same kind replaces an older one (stale work dropped,
as Orange's ``concurrent.py`` does). Steps are short Python work, so the GUI thread gets the GIL back often.
Results go back through the worker's signals, which Qt queues to the GUI thread.

Starting a worker thread shortens the interpreter's switch interval to ``SWITCH_INTERVAL_S`` (see
``favor_gui_thread``): the GUI thread takes the GIL back for every call from Qt into Python (each ``data()`` of a
paint), and with the default 5 ms it waits that long each time a worker runs Python, so painting 500 cells while
the users list loaded took seconds (a 1.8 s stall measured at 100,000 users; 0.2 s with 0.2 ms). Each call waits up
to the interval while a worker runs Python, and a paint makes hundreds of them: a ``perf`` profile of the GUI
thread while the summary cache loaded found it running 8% of the time, the rest waiting for the GIL; at 0.05 ms
the longest stall there went from 170-210 ms to 100-115 ms (benchmarks/bench_gui.py, 100,000 users).
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Iterator

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

log = logging.getLogger(__name__)
Job = Iterator[None]
SWITCH_INTERVAL_S = 0.00005
TURN_S = 0.002  # a job's steps run back to back this long per turn, then the next job (or event) has its turn
MAX_WAIT_MS = 1000  # the longest a job waits after ``wait_after_step`` (an answer nobody sends ends no job)


def favor_gui_thread() -> None:
    """Let a thread waiting for the GIL (the GUI thread, called from Qt) have it after ``SWITCH_INTERVAL_S`` of
    another thread's Python instead of 5 ms. A shorter interval only costs a few microseconds per switch, paid
    only while two threads want the GIL; a longer one set by the program is kept."""
    if sys.getswitchinterval() > SWITCH_INTERVAL_S:
        sys.setswitchinterval(SWITCH_INTERVAL_S)


class JobWorker(QObject):
    """Runs named generator jobs step by step in the thread it lives in."""

    failed = Signal(str)  # an unexpected error in a job (expected store errors are reported by the job)

    def __init__(self) -> None:
        # No parent: a QObject with a parent cannot move to another thread. The WorkerThread owns it.
        super().__init__()
        self._jobs: dict[str, Job] = {}
        self._order: list[str] = []
        self._parked: dict[str, int] = {}  # a waiting job -> the number of its wait (for its time-out)
        self._waits = 0
        self._wait = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._step)

    def start_job(self, name: str, job: Job) -> None:
        """Run ``job``, replacing a running job of the same name."""
        waiting = self._parked.pop(name, None) is not None  # dropped: the new job runs at once
        if waiting or name not in self._jobs:
            self._order.append(name)
        self._jobs[name] = job
        self._timer.start()

    def cancel_job(self, name: str) -> None:
        if self._jobs.pop(name, None) is None:
            return
        if self._parked.pop(name, None) is None:  # a waiting job has no place in the turns
            self._order.remove(name)

    def wait_after_step(self) -> None:
        """Called by a job during a step: it is not run again until ``resume_job`` (or ``MAX_WAIT_MS``)."""
        self._wait = True

    def resume_job(self, name: str) -> None:
        """Go on with a job that waits (nothing happens for a job that is not waiting)."""
        if self._parked.pop(name, None) is not None:
            self._order.append(name)
            self._timer.start()

    def _waited_too_long(self, name: str, wait: int) -> None:
        if self._parked.get(name) == wait:  # still that wait, not a later one of the same job
            self.resume_job(name)

    def busy(self) -> bool:
        return bool(self._jobs)

    @Slot()
    def _step(self) -> None:
        if not self._order:
            return
        name = self._order.pop(0)
        job = self._jobs[name]
        self._wait = False
        deadline = time.perf_counter() + TURN_S
        try:
            while True:  # steps back to back for one turn (a turn through the event loop costs ~37 us)
                next(job)
                if self._wait or self._jobs.get(name) is not job or time.perf_counter() >= deadline:
                    break
        except StopIteration:
            del self._jobs[name]
        except Exception as exc:  # a bug or an unexpected OS error: report it, keep the worker alive
            log.exception("job %s failed", name)
            del self._jobs[name]
            self.failed.emit(f"{name}: {exc}")
        else:
            if self._jobs.get(name) is job and self._wait:
                self._waits += 1
                self._parked[name] = self._waits
                QTimer.singleShot(MAX_WAIT_MS, self, functools.partial(self._waited_too_long, name, self._waits))
            elif self._jobs.get(name) is job:
                self._order.append(name)
        if self._order:
            self._timer.start()


class WorkerThread(QObject):
    """A ``QThread`` and the worker moved into it; ``stop`` ends the thread and waits for it."""

    def __init__(self, worker: JobWorker, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.qthread = QThread(self)
        self.qthread.setObjectName(name)
        worker.moveToThread(self.qthread)
        self.qthread.finished.connect(worker.deleteLater)
        # A plain callable, not a slot of self: it must run while this object is destroyed (its owner was
        # deleted without being closed), before Qt deletes the running QThread child, which would abort.
        self.destroyed.connect(functools.partial(_stop, self.qthread))
        favor_gui_thread()
        self.qthread.start()

    def stop(self) -> None:
        _stop(self.qthread)


def _stop(thread: QThread) -> None:
    if thread.isRunning():
        thread.quit()
        thread.wait()
