"""Every modal question the window asks goes through ``Dialogs`` classmethods, so tests patch one name
instead of facing a modal loop. The dialog widgets are here too: a preview of what an edit will do, the
category chooser of a move with its live preview, and a JSON value editor that refuses invalid JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from memgui.models.json_edits import parse_json
from memgui.store import ValidationError
from memgui.views.dialog_parts import PreviewDialog, info_list
from memgui.views.labels import plain_label
from memgui.views.transfer_dialogs import EraseDialog, ImportDialog, erase_report_dialog

if TYPE_CHECKING:
    from memgui.store import EraseReport, ImportPlan

NO_VALUE = object()  # JsonValueDialog: "the value field is empty" (null is a value)


MovePreview = Callable[[str], tuple[int, list[str]]]


class MoveDialog(QDialog):
    """Choose the category to move facts to (an existing one, or type a new one); the list below shows what
    happens to each fact, live."""

    def __init__(self, categories: Sequence[str], preview: MovePreview, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("moveDialog")
        self.setWindowTitle("Move facts to another category")
        self.setMinimumWidth(480)
        self.preview = preview
        self.combo = QComboBox(self)
        self.combo.setObjectName("moveCategory")
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.addItems(list(categories))
        self.combo.setCurrentIndex(-1)
        line = self.combo.lineEdit()
        assert line is not None
        line.setPlaceholderText("a category (pick one or type a new one)")
        self.list = info_list(self, ())
        buttons = QDialogButtonBox(self)
        self.ok: QPushButton = buttons.addButton("Move", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label("Move the selected facts to:", self, wrap=True))
        layout.addWidget(self.combo)
        layout.addWidget(plain_label("What will happen:", self, wrap=True))
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.combo.currentTextChanged.connect(self._update)
        self._update(self.combo.currentText())

    def category(self) -> str:
        return self.combo.currentText().strip()

    @Slot(str)
    def _update(self, _text: str) -> None:
        target = self.category()
        count, lines = self.preview(target) if target else (0, [])
        self.list.clear()
        self.list.addItems(lines)
        self.ok.setEnabled(count > 0)
        self.ok.setText(f"Move {count} fact{'s' if count != 1 else ''}" if count else "Move")


class JsonValueDialog(QDialog):
    """A key and its JSON value. OK stays refused (with the reason shown) until the JSON is valid."""

    def __init__(self, title: str, key: str, value: Any, *, key_editable: bool, taken: Sequence[str] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jsonValueDialog")
        self.setWindowTitle(title)
        self.resize(520, 360)
        self.taken = set(taken)
        self.value: Any = NO_VALUE
        self.key_edit = QLineEdit(key, self)
        self.key_edit.setObjectName("jsonKey")
        self.key_edit.setReadOnly(not key_editable)
        self.key_edit.setPlaceholderText("name")
        self.text_edit = QPlainTextEdit(self)
        self.text_edit.setObjectName("jsonText")
        self.text_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        if value is not NO_VALUE:
            self.text_edit.setPlainText(json.dumps(value, ensure_ascii=False, indent=2))
        self.text_edit.setPlaceholderText('A JSON value: "text in quotes", 42, true, null, [1, 2], {"key": "value"}')
        self.error = plain_label("", self, name="jsonError", wrap=True)
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                   self)
        buttons.accepted.connect(self.try_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label("Name", self, wrap=True))
        layout.addWidget(self.key_edit)
        layout.addWidget(plain_label("Value (JSON)", self, wrap=True))
        layout.addWidget(self.text_edit, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def problem(self) -> str | None:
        """Why the dialog's content cannot be saved (and sets ``value`` when it can)."""
        key = self.key_edit.text()
        if not key.strip():
            return "A name is needed."
        if not self.key_edit.isReadOnly() and key in self.taken:
            return f"“{key}” exists already: edit that one instead."
        text = self.text_edit.toPlainText()
        if not text.strip():
            return "A value is needed (null is a value)."
        try:
            self.value = parse_json(text, "The value")
        except ValidationError as exc:
            return str(exc)
        return None

    @Slot()
    def try_accept(self) -> None:
        problem = self.problem()
        self.error.setText(problem or "")
        self.error.setVisible(bool(problem))
        if problem is None:
            self.accept()


class Dialogs:
    """The window's modal questions. Tests replace these classmethods (monkeypatch) with plain answers."""

    @classmethod
    def open_folder(cls, parent: QWidget, title: str, start: str) -> str:
        return QFileDialog.getExistingDirectory(parent, title, start)

    @classmethod
    def ask_text(cls, parent: QWidget, title: str, label: str, text: str = "") -> str:
        """One line of text from the user; '' when cancelled."""
        value, accepted = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Normal, text)
        return value if accepted else ""

    @classmethod
    def open_file(cls, parent: QWidget, title: str, filters: str) -> str:
        path, _ = QFileDialog.getOpenFileName(parent, title, "", filters)
        return path

    @classmethod
    def save_file(cls, parent: QWidget, title: str, suggested: str, filters: str) -> str:
        path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
        return path

    @classmethod
    def confirm(cls, parent: QWidget, title: str, text: str, lines: Sequence[str], ok_text: str) -> bool:
        """Ask before an edit of several items, showing what will happen to each."""
        dialog = PreviewDialog(title, text, lines, ok_text, parent)
        return _run(dialog)

    @classmethod
    def choose_category(cls, parent: QWidget, categories: Sequence[str], preview: MovePreview) -> str | None:
        dialog = MoveDialog(categories, preview, parent)
        category = dialog.category
        return category() if _run(dialog) else None

    @classmethod
    def edit_json(cls, parent: QWidget, title: str, key: str, value: Any, *, key_editable: bool,
                  taken: Sequence[str] = ()) -> tuple[str, Any] | None:
        """A key and a valid JSON value, or None when cancelled."""
        dialog = JsonValueDialog(title, key, value, key_editable=key_editable, taken=taken, parent=parent)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        result = (dialog.key_edit.text(), dialog.value) if accepted else None
        dialog.deleteLater()
        return result

    @classmethod
    def choose_import(cls, parent: QWidget, plans: dict[str, ImportPlan]) -> str | None:
        """How to import (merge / replace / skip, or create), after showing each plan; None: cancelled."""
        dialog = ImportDialog(plans, parent)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        choice = dialog.choice() if accepted else None
        dialog.deleteLater()
        return choice

    @classmethod
    def confirm_erase(cls, parent: QWidget, user_id: str, what: Sequence[str]) -> bool:
        return _run(EraseDialog(user_id, what, parent))

    @classmethod
    def show_erase_report(cls, parent: QWidget, report: EraseReport) -> None:
        _run(erase_report_dialog(report, parent))

    @classmethod
    def show_lines(cls, parent: QWidget, title: str, text: str, lines: Sequence[str]) -> None:
        _run(PreviewDialog(title, text, lines, "Close", parent, cancel=False))

    @classmethod
    def warn(cls, parent: QWidget, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
        box.setTextFormat(Qt.TextFormat.PlainText)
        _run(box)


def _run(dialog: QDialog) -> bool:
    """Show ``dialog`` modally; True when accepted. It is deleted afterwards (it has the window as parent)."""
    try:
        return dialog.exec() == QDialog.DialogCode.Accepted
    finally:
        dialog.deleteLater()
