"""What the GUI benchmarks share: the event-loop stall meter and the process's peak memory."""

from __future__ import annotations

import gc
import resource

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEvent, QObject, QTimer, Slot


class StallMeter(QObject):
    """Ticks every ``interval`` ms on the GUI thread and keeps the longest gap between two ticks (seconds):
    the longest time the event loop could not run, so the longest a user's input waited."""

    def __init__(self, interval: int = 5) -> None:
        super().__init__()
        self.timer = QTimer(self)
        self.timer.setInterval(interval)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.longest = 0.0

    def start(self) -> None:
        self.longest = 0.0
        self.clock.start()
        self.timer.start()

    def stop(self) -> float:
        """The longest gap, counting the one in progress (a stall that ends with the measurement)."""
        self.timer.stop()
        self._tick()
        return self.longest

    @Slot()
    def _tick(self) -> None:
        self.longest = max(self.longest, self.clock.restart() / 1000.0)


def peak_mb() -> float:
    """The peak resident memory of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dispose(window: QObject) -> None:
    """Close ``window`` and delete it now, on this (the GUI) thread. Left to Python, a window is in reference
    cycles (its session names it), so the cyclic collector deletes it later, in whichever thread allocates at
    that moment: a worker of the next window, which then destroys widgets off the GUI thread and crashes."""
    close = getattr(window, "close", None)
    if close is not None:
        close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    gc.collect()  # what is left of it freed now, not during the next measurement
