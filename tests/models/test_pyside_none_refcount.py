"""Regression guard for a PySide6 bug measured on this machine: with PySide6 6.12.0 on CPython 3.11 every
``None`` that a model's data answers, handed back to Python by Qt (``index.data(role)``, ``proxy.data(...)``,
a Python delegate reading its index while a view paints), loses one reference to ``None``; after about
5,000 of them ``None``'s count reaches zero and the process aborts ("deallocating None"). 6.11.3 is pinned
for Python < 3.12 (pyproject.toml). Checked with 6.12.0 in a scratch venv: the three tests that read
through Qt fail there with a drop of one reference per read; the two proxy tests below them (Qt calling
Python ``data()`` from C++ to sort and filter) do not leak on 6.12.0 and guard that path too.

Every test measures ``sys.getrefcount(None)`` after each small round and stops at the first real drop, so
an affected build fails here cleanly, long before the count reaches zero, and the references the bug took
are given back so that the rest of the suite survives to report.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from typing import Any

import PySide6
import pytest
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QTableView, QWidget
from pytestqt.qtbot import QtBot

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
FILTER_ROLE = Qt.ItemDataRole.UserRole + 2
ROW_ROLE = Qt.ItemDataRole.UserRole + 3
READ_ROLES = (Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.FontRole,
              Qt.ItemDataRole.ForegroundRole, SORT_ROLE, ROW_ROLE)
TOLERANCE = 150  # ordinary interpreter activity moves the count by a few; the bug moves it by every read
MIN_READS = 6_000  # more than the ~5,000 after which an affected build aborts
Index = QModelIndex | QPersistentModelIndex


class NoneModel(QAbstractTableModel):
    """A table whose ``data()`` answers None for every role but the first column's text."""

    def __init__(self, rows: int) -> None:
        super().__init__()
        self.rows = rows
        self.none_answers = 0

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self.rows

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 3

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and index.column() == 0:
            return f"row {index.row():05d}"
        return self._none()

    def _none(self) -> None:
        self.none_answers += 1
        return None


class LeakingModel(NoneModel):
    """Simulates the 6.12.0 bug (one reference to None lost per None answer), to prove the check sees it."""

    def _none(self) -> None:
        ctypes.pythonapi.Py_DecRef(ctypes.py_object(None))
        return super()._none()


class ReadingDelegate(QStyledItemDelegate):
    """A delegate written in Python, as the GUI's are: it reads roles of its index to paint and size."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reads = 0

    def _read(self, index: Index) -> None:
        for role in READ_ROLES:
            index.data(role)
            self.reads += 1

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        self._read(index)
        super().paint(painter, option, index)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        self._read(index)
        return super().sizeHint(option, index)


def drive(action: Callable[[], None], rounds: int) -> int:
    """Run ``action`` ``rounds`` times; the largest drop of None's reference count seen after a round.

    Stops as soon as the drop exceeds the tolerance, before a leaking build could abort, and gives the
    lost references back so that the process can go on and report the failure."""
    start = sys.getrefcount(None)
    worst = 0
    for _ in range(rounds):
        action()
        worst = max(worst, start - sys.getrefcount(None))
        if worst > TOLERANCE:
            for _ in range(worst):
                ctypes.pythonapi.Py_IncRef(ctypes.py_object(None))
            break
    return worst


def _message(drop: int) -> str:
    return f"PySide6 {PySide6.__version__} lost {drop} references to None (pin PySide6 < 6.12 on Python < 3.12)"


def _proxy(model: NoneModel) -> QSortFilterProxyModel:
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)  # every comparison asks data() for a role that answers None
    proxy.setFilterRole(FILTER_ROLE)
    proxy.setFilterKeyColumn(2)
    return proxy


# -- None handed back to Python by Qt: the path 6.12.0 breaks -----------------------------------------------
def test_reading_none_through_a_proxy_keeps_none_alive() -> None:
    model = NoneModel(50)
    proxy = _proxy(model)
    proxy.sort(0)
    reads = [0]

    def action() -> None:  # 600 reads per round
        for row in range(proxy.rowCount()):
            for column in range(3):
                index = proxy.index(row, column)
                proxy.data(index, SORT_ROLE)
                index.data(ROW_ROLE)
                model.index(row, column).data(Qt.ItemDataRole.ToolTipRole)
                if column:
                    proxy.data(index)  # display role, None outside the first column
                reads[0] += 4 if column else 3

    drop = drive(action, rounds=12)
    assert drop <= TOLERANCE, _message(drop)
    assert reads[0] >= MIN_READS, reads[0]


def test_a_python_delegate_painting_a_view_keeps_none_alive(qtbot: QtBot) -> None:
    model = NoneModel(30)
    view = QTableView()
    qtbot.addWidget(view)
    delegate = ReadingDelegate(view)
    view.setItemDelegate(delegate)
    view.setModel(_proxy(model))
    view.resize(640, 1000)
    view.setSortingEnabled(True)
    turn = [0]

    def action() -> None:  # 500 to 600 reads per round
        turn[0] += 1
        if turn[0] % 2:
            view.resizeColumnsToContents()   # sizeHint of every cell
        else:
            view.grab()                      # paint every visible cell

    drop = drive(action, rounds=24)
    assert drop <= TOLERANCE, _message(drop)
    assert delegate.reads >= MIN_READS, delegate.reads


def test_itemdata_and_header_reads_keep_none_alive() -> None:
    model = NoneModel(40)
    proxy = _proxy(model)
    reads = [0]

    def action() -> None:  # 600 reads per round
        for row in range(40):
            proxy.itemData(proxy.index(row, 1))
            for section in range(3):
                proxy.headerData(section, Qt.Orientation.Horizontal, ROW_ROLE)
                proxy.index(row, section).data(Qt.ItemDataRole.FontRole)
                proxy.index(row, section).siblingAtColumn(2).data(FILTER_ROLE)
                proxy.index(row, section).data(Qt.ItemDataRole.CheckStateRole)
            reads[0] += 15

    drop = drive(action, rounds=12)
    assert drop <= TOLERANCE, _message(drop)
    assert reads[0] >= MIN_READS, reads[0]


# -- Qt calling Python data() from C++, answered None (sorting, filtering) -------------------------------
def test_sorting_through_a_proxy_keeps_none_alive() -> None:
    model = NoneModel(120)
    proxy = _proxy(model)
    orders = [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder]

    def action() -> None:  # about 1,100 None answers per round
        orders.reverse()
        proxy.sort(1, orders[0])

    drop = drive(action, rounds=8)
    assert drop <= TOLERANCE, _message(drop)
    assert model.none_answers >= MIN_READS, model.none_answers
    assert proxy.rowCount() == 120


def test_filtering_through_a_proxy_keeps_none_alive() -> None:
    model = NoneModel(600)
    proxy = _proxy(model)
    patterns = ["x", "y"]

    def action() -> None:  # up to two None answers per row and round
        patterns.reverse()
        proxy.setFilterFixedString(patterns[0])  # every row answers None for the filter role: all go

    drop = drive(action, rounds=15)
    assert drop <= TOLERANCE, _message(drop)
    assert model.none_answers >= MIN_READS, model.none_answers
    assert proxy.rowCount() == 0


# -- the check itself can fail ---------------------------------------------------------------------------
@pytest.mark.parametrize("rows", [120, 600])
def test_the_check_detects_a_leak(rows: int) -> None:
    """A model that loses a reference per None answer, as 6.12.0 does, is caught after one round."""
    model = LeakingModel(rows)
    proxy = _proxy(model)
    flip = [False]

    def action() -> None:
        flip[0] = not flip[0]
        if rows == 600:
            proxy.setFilterFixedString("x" if flip[0] else "y")
        else:
            proxy.sort(1, Qt.SortOrder.AscendingOrder if flip[0] else Qt.SortOrder.DescendingOrder)

    before = sys.getrefcount(None)
    drop = drive(action, rounds=12)
    assert drop > TOLERANCE
    assert model.none_answers <= 2_000, "stopped after the first round that leaked, far from an abort"
    assert abs(sys.getrefcount(None) - before) <= TOLERANCE, "drive() gave the lost references back"
