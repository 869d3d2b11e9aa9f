"""Paints a message as a bubble: the user's on the right in blue, the assistant's on the left in grey,
system notes centred; a header line with who and when (in the user's zone). Text is drawn with
``QPainter.drawText`` (always plain text: ``<img src=...>`` stays visible characters) and elided to the
fixed row height: every row has the same height, so the view never measures a million rows."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QTextLayout, QTextOption
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from memgui.models.conversation_model import ROLE_NAMES
from memgui.models.conversation_worker import MessageRow
from memgui.models.roles import ROW_ROLE

TEXT_LINES = 2
PREVIEW_CHARS = 600  # at most this much of a message is laid out in the list (the reading pane has it all)
_COLORS = {
    "user": (QColor("#dbeafe"), QColor("#93c5fd")),
    "assistant": (QColor("#f1f3f5"), QColor("#ced4da")),
    "system": (QColor("#fff7e0"), QColor("#f0d58c")),
    "error": (QColor("#fde8e8"), QColor("#e5a3a3")),
}


def row_height(font: QFont) -> int:
    """The one height of every row: a header line, ``TEXT_LINES`` of text, padding."""
    metrics = QFontMetrics(font)
    return metrics.height() + TEXT_LINES * metrics.lineSpacing() + 22


class MessageDelegate(QStyledItemDelegate):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(200, row_height(option.font))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        rect: QRect = option.rect
        palette: QPalette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        row: MessageRow | None = index.data(ROW_ROLE)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(option.font)
        metrics = QFontMetrics(font)
        if row is None:  # being fetched: a quiet placeholder of the same size
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#f3f4f6"))
            painter.drawRoundedRect(rect.adjusted(12, 6, -rect.width() // 3, -6), 8, 8)
            painter.restore()
            return
        width = max(120, int(rect.width() * 0.78))
        bubble = QRect(rect.left() + 10, rect.top() + 4, width, rect.height() - 8)
        if row.role == "user":
            bubble.moveRight(rect.right() - 10)
        elif row.role == "system":
            bubble.moveLeft(rect.left() + (rect.width() - width) // 2)
        fill, border = _COLORS.get(row.role, _COLORS["assistant"])
        painter.setBrush(fill)
        painter.setPen(palette.color(QPalette.ColorRole.Highlight) if selected else border)
        painter.drawRoundedRect(bubble, 10, 10)
        inner = bubble.adjusted(12, 5, -12, -5)
        header = QFont(font)
        header.setPointSizeF(max(6.0, font.pointSizeF() * 0.88))
        header.setBold(True)
        painter.setFont(header)
        painter.setPen(QColor("#374151"))
        who = ROLE_NAMES.get(row.role, row.role)
        painter.drawText(QRect(inner.left(), inner.top(), inner.width(), metrics.height()),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), who)
        header.setBold(False)
        painter.setFont(header)
        painter.setPen(QColor("#6b7280"))
        painter.drawText(QRect(inner.left(), inner.top(), inner.width(), metrics.height()),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), row.time)
        painter.setFont(font)
        painter.setPen(QColor("#991b1b") if row.error else QColor("#111827"))
        text = row.error or row.content[:PREVIEW_CHARS]
        body = QRect(inner.left(), inner.top() + metrics.height() + 2, inner.width(),
                     inner.height() - metrics.height() - 2)
        _draw_lines(painter, text, body, font, TEXT_LINES)
        painter.restore()


def _draw_lines(painter: QPainter, text: str, rect: QRect, font: QFont, lines: int) -> None:
    """``text`` wrapped into at most ``lines`` lines, the last elided, as plain text."""
    metrics = QFontMetrics(font)
    layout = QTextLayout(text.replace("\n", "\u2028"), font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    layout.beginLayout()
    y = rect.top()
    drawn = 0
    while drawn < lines:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(rect.width())
        start, length = line.textStart(), line.textLength()
        is_last = drawn == lines - 1
        piece = text[start : start + length].replace("\n", " ").rstrip()
        if is_last and start + length < len(text):
            piece = metrics.elidedText(text[start:].replace("\n", " "), Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(QRect(rect.left(), y, rect.width(), metrics.lineSpacing()),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), piece)
        y += metrics.lineSpacing()
        drawn += 1
    layout.endLayout()
