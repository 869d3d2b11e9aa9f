"""Custom item roles shared by every model: code behind a proxy reads the row object, sort key and error
through these roles instead of using raw row numbers."""

from __future__ import annotations

from PySide6.QtCore import Qt

ROW_ROLE = int(Qt.ItemDataRole.UserRole) + 1  # the row's object (UserSummary, FactRow, MessageRow, ...)
SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 2  # a value that sorts as the column should (numbers, epochs)
FILTER_ROLE = int(Qt.ItemDataRole.UserRole) + 3  # folded text a filter box matches
ERROR_ROLE = int(Qt.ItemDataRole.UserRole) + 4  # why the row could not be read; None when it could
