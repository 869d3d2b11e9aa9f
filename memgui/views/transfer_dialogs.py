"""The dialogs of moving users in and out: the import's dry-run plan with the choice for conflicts, the
erase confirmation (type the id to confirm) and the erase report. Opened through ``Dialogs``."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from memgui.store import EraseReport, ImportPlan
from memgui.views.dialog_parts import PreviewDialog, info_list
from memgui.views.labels import plain_label

CHOICES = {
    "merge": "Merge: add what is missing, keep what is there (a field both have keeps the stored value)",
    "replace": "Replace: erase the stored user first, then import the bundle as it is",
    "skip": "Skip: leave the stored user as it is, import nothing",
}


class ImportDialog(QDialog):
    """Shows what importing a bundle would change (a dry run: nothing is written yet) for each way of
    handling a user that exists already, and returns the chosen one."""

    def __init__(self, plans: dict[str, ImportPlan], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.plans = plans
        first = next(iter(plans.values()))
        self.setWindowTitle(f"Import user {first.user_id}")
        self.resize(560, 420)
        exists = "create" not in plans
        intro = (f"The user {first.user_id!r} exists in this store. Choose what to do, then check what "
                 "will change. Nothing is written until you import."
                 if exists else
                 f"The user {first.user_id!r} is new to this store: the bundle will be imported as it is. "
                 "Nothing is written until you import.")
        self.group = QButtonGroup(self)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(intro, self, name="importIntro", wrap=True))
        self.buttons: dict[str, QRadioButton] = {}
        for choice in plans:
            if choice == "create":
                continue
            button = QRadioButton(CHOICES[choice], self)
            button.setObjectName(f"import_{choice}")
            self.group.addButton(button)
            self.buttons[choice] = button
            layout.addWidget(button)
            button.toggled.connect(self._show_plan)
        layout.addWidget(plain_label("What will change:", self, wrap=True))
        self.changes = info_list(self, (), "importChanges")
        layout.addWidget(self.changes, 1)
        box = QDialogButtonBox(self)
        self.ok = box.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        box.addButton(QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout.addWidget(box)
        if self.buttons:
            self.buttons["merge" if "merge" in self.buttons else next(iter(self.buttons))].setChecked(True)
        self._show_plan(True)

    def choice(self) -> str:
        return next((c for c, b in self.buttons.items() if b.isChecked()), "create")

    def shown_changes(self) -> list[str]:
        return [self.changes.item(i).text() for i in range(self.changes.count())]

    @Slot(bool)
    def _show_plan(self, checked: bool) -> None:
        if not checked:
            return
        plan = self.plans[self.choice()]
        self.changes.clear()
        self.changes.addItems(plan.changes)
        self.ok.setEnabled(plan.action != "skip")
        self.ok.setText("Import" if plan.action != "replace" else "Replace and import")


class EraseDialog(QDialog):
    """"Forget this user": says what goes, and asks for the user id typed out before the button works."""

    def __init__(self, user_id: str, what: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("eraseDialog")
        self.setWindowTitle(f"Forget {user_id}")
        self.setMinimumWidth(480)
        self.user_id = user_id
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(f"Forget {user_id}?", self, name="dialogTitle", wrap=True))
        layout.addWidget(plain_label(
            "Every byte stored for this user is removed from the store, and a check then "
            "verifies that nothing is left. This cannot be undone: export the user first to keep a copy.",
            self, name="eraseText", wrap=True))
        if what:
            items = info_list(self, what, "eraseWhat")
            items.setMaximumHeight(110)
            layout.addWidget(items)
        layout.addWidget(plain_label("Type the user id to confirm:", self, wrap=True))
        self.confirm_edit = QLineEdit(self)
        self.confirm_edit.setObjectName("eraseConfirm")
        self.confirm_edit.setPlaceholderText(user_id)
        layout.addWidget(self.confirm_edit)
        box = QDialogButtonBox(self)
        self.ok = box.addButton("Forget this user", QDialogButtonBox.ButtonRole.DestructiveRole)
        self.ok.setObjectName("eraseButton")
        box.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.ok.clicked.connect(self.accept)
        box.rejected.connect(self.reject)
        layout.addWidget(box)
        self.ok.setEnabled(False)
        self.confirm_edit.textChanged.connect(self._check)

    @Slot(str)
    def _check(self, text: str) -> None:
        self.ok.setEnabled(text.strip() == self.user_id)


def erase_report_dialog(report: EraseReport, parent: QWidget | None = None) -> PreviewDialog:
    """What an erase removed, and what the check afterwards found."""
    if report.verified:
        text = (f"{report.user_id!r} was forgotten: {len(report.removed)} items removed, and a check of the store "
                "found nothing left of this user.")
        lines = report.removed
    else:
        text = (f"{report.user_id!r} was erased, but the check found traces left (listed first). Remove them "
                "by hand, or run the store's repair.")
        lines = [f"LEFT: {t}" for t in report.leftovers] + report.removed
    dialog = PreviewDialog("User forgotten" if report.verified else "Traces left", text, lines, "Close", parent,
                           cancel=False)
    dialog.setObjectName("eraseReport")
    return dialog
