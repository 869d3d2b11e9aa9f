"""Paints a search result in two lines: where it is (user, kind, date) small and grey, then the snippet with
the match highlighted. Both are laid out as plain text (``QTextLayout``, never HTML): a message holding
``<b>`` or ``<img src=...>`` shows those characters; bidirectional controls arrive already shown as codes."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QTextCharFormat, QTextLayout, QTextOption
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from memgui.models.search_model import MATCH_ROLE, TITLE_ROLE

SNIPPET_LINES = 2
MATCH_COLOR = QColor("#fde68a")


def _small(font: QFont) -> QFont:
    small = QFont(font)
    small.setPointSizeF(max(6.0, font.pointSizeF() * 0.88))
    return small


class SearchResultDelegate(QStyledItemDelegate):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        title = QFontMetrics(_small(option.font)).height()
        return QSize(200, title + SNIPPET_LINES * QFontMetrics(option.font).lineSpacing() + 12)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""  # the background and selection only: the text is drawn below
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette: QPalette = option.palette
        rect: QRect = option.rect.adjusted(8, 4, -8, -4)
        painter.save()
        small = _small(option.font)
        small_metrics = QFontMetrics(small)
        painter.setFont(small)
        painter.setPen(palette.color(QPalette.ColorRole.HighlightedText) if selected else QColor("#6b7280"))
        title = small_metrics.elidedText(str(index.data(TITLE_ROLE) or ""), Qt.TextElideMode.ElideRight,
                                         rect.width())
        painter.drawText(QRect(rect.left(), rect.top(), rect.width(), small_metrics.height()),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), title)
        painter.setPen(palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text))
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        start, end = index.data(MATCH_ROLE) or (0, 0)
        _draw_snippet(painter, text, start, end, option.font,
                      QRect(rect.left(), rect.top() + small_metrics.height() + 2, rect.width(),
                            rect.height() - small_metrics.height() - 2))
        painter.restore()


def _draw_snippet(painter: QPainter, text: str, start: int, end: int, font: QFont, rect: QRect) -> None:
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    if end > start:
        match = QTextLayout.FormatRange()
        match.start, match.length = start, end - start
        fmt = QTextCharFormat()
        fmt.setBackground(MATCH_COLOR)
        fmt.setForeground(QColor("#111827"))
        fmt.setFontWeight(QFont.Weight.Bold)
        match.format = fmt
        layout.setFormats([match])
    spacing = QFontMetrics(font).lineSpacing()
    layout.beginLayout()
    for n in range(SNIPPET_LINES):
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(rect.width())
        line.setPosition(QPointF(0, n * spacing))
    layout.endLayout()
    layout.draw(painter, QPointF(rect.left(), rect.top()))
