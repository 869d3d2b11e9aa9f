"""JSON values as a tree (dicts and lists open into children): the global context and the profile.

Top-level entries are keyed; ``apply_entries`` diffs them (removals, moves, inserts, dataChanged) and
replaces only the children of an entry whose value changed, so expanded branches elsewhere stay open.
A leaf value is editable when an ``EditController`` is attached: the edit becomes a new value of its
top-level entry, written with that entry as shown as the expected value (a compare-and-set).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from memgui.models.edits import Edit
from memgui.models.json_edits import GlobalEdit, KeyedValueEdit, ProfileEdit, parse_json
from memgui.models.roles import ROW_ROLE, SORT_ROLE
from memgui.models.row_diff import Insert, Move, Remove, diff_steps
from memgui.store import ABSENT, ValidationError

if TYPE_CHECKING:
    from memgui.models.edit_commands import EditController

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
COL_KEY, COL_VALUE, COL_EXTRA = range(3)


class Node:
    """One key (or list position) and its value; children for dicts and lists."""

    __slots__ = ("children", "extra", "key", "parent", "row", "value")

    def __init__(self, key: str, value: Any, parent: Node | None, row: int, extra: str = "") -> None:
        self.key, self.value, self.parent, self.row, self.extra = key, value, parent, row, extra
        self.children: list[Node] = []
        self.fill()

    def fill(self) -> None:
        """(Re)build the children from the value."""
        if isinstance(self.value, dict):
            items: list[tuple[str, Any]] = [(str(k), v) for k, v in self.value.items()]
        elif isinstance(self.value, list):
            items = [(f"[{i}]", v) for i, v in enumerate(self.value)]
        else:
            items = []
        self.children = [Node(k, v, self, i) for i, (k, v) in enumerate(items)]

    def text(self) -> str:
        """The value as one line: strings as they are, containers summarized, the rest as JSON."""
        value = self.value
        if isinstance(value, dict):
            return f"{{{len(value)} keys}}" if len(value) != 1 else "{1 key}"
        if isinstance(value, list):
            return f"[{len(value)} items]" if len(value) != 1 else "[1 item]"
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False)


class JsonTreeModel(QAbstractItemModel):
    """Entries ``(key, value, extra)`` as a tree with columns key, value and (when ``HEADERS`` has three)
    the entry's extra text (when it was updated)."""

    HEADERS: tuple[str, ...] = ("Key", "Value")

    EDIT: type[KeyedValueEdit] = GlobalEdit

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = Node("", None, None, 0)
        self.editor: EditController | None = None

    # -- Qt interface ----------------------------------------------------------------------------------
    def _node(self, index: Index) -> Node:
        return index.internalPointer() if index.isValid() else self._root

    def index(self, row: int, column: int, parent: Index = _ROOT) -> QModelIndex:
        node = self._node(parent)
        if parent.isValid() and parent.column() != 0:
            return QModelIndex()
        if not (0 <= row < len(node.children) and 0 <= column < len(self.HEADERS)):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: Index = _ROOT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        up = self._node(index).parent
        if up is None or up is self._root:
            return QModelIndex()
        return self.createIndex(up.row, 0, up)

    def rowCount(self, parent: Index = _ROOT) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return len(self.HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._node(index)
        column = index.column()
        if role == ROW_ROLE:
            return node
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole, SORT_ROLE):
            return (node.key, node.text(), node.extra)[column]
        if role == Qt.ItemDataRole.ToolTipRole and column == COL_VALUE:
            return node.text() if isinstance(node.value, str) else json.dumps(node.value, ensure_ascii=False,
                                                                               indent=2)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    # -- editing ---------------------------------------------------------------------------------------
    def editable(self) -> bool:
        return self.editor is not None and self.editor.can_edit()

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == COL_VALUE and self.editable() \
                and not isinstance(self._node(index).value, (dict, list)):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Write an edited leaf value now: text stays text, anything else must be valid JSON."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() != COL_VALUE:
            return False
        node = self._node(index)
        if self.editor is None or isinstance(node.value, (dict, list)):
            return False
        if not isinstance(value, str):  # a JSON value already (a caller other than the delegate)
            return value == node.value or self.editor.submit(self.edit_at(node, value))
        text = value
        if text == node.text():
            return True
        try:
            new = text if isinstance(node.value, str) else parse_json(text, f"The value of {node.key!r}")
        except ValidationError as exc:
            if self.editor.can_edit():
                self.editor.refused.emit(f"Not saved: {exc}")
                return False
            new = text
        edit = self.edit_at(node, new)
        return self.editor.submit(edit)

    def edit_at(self, node: Node, new: Any) -> Edit:
        """The edit that gives ``node`` the value ``new`` (``ABSENT``: removes it from its parent)."""
        top = self.top_node(node)
        path = self.path(node)
        value = replaced(top.value, path, new) if path else new
        return self.make_edit(top.key, value, top.value)

    def make_edit(self, key: str, value: Any, expected: Any, *, label: str | None = None) -> Edit:
        """Set (or with ``ABSENT``, delete) the top-level ``key``, expecting ``expected`` there."""
        return self.EDIT(self.editor.user_id if self.editor is not None else "", key, value, expected, label=label)

    @staticmethod
    def top_node(node: Node) -> Node:
        while node.parent is not None and node.parent.parent is not None:
            node = node.parent
        return node

    @staticmethod
    def path(node: Node) -> list[str | int]:
        """How to reach ``node``'s value from its top-level entry's value (dict keys, list positions)."""
        steps: list[str | int] = []
        while node.parent is not None and node.parent.parent is not None:
            steps.append(node.row if isinstance(node.parent.value, list) else node.key)
            node = node.parent
        return steps[::-1]

    def node_at(self, index: Index) -> Node | None:
        return self._node(index) if index.isValid() else None

    def has_key(self, key: str) -> bool:
        return any(n.key == key for n in self._root.children)

    # -- changing ----------------------------------------------------------------------------------
    def entries(self) -> list[tuple[str, Any, str]]:
        return [(n.key, n.value, n.extra) for n in self._root.children]

    def replace_entries(self, entries: Sequence[tuple[str, Any, str]]) -> None:
        """Show another document altogether: a reset."""
        self.beginResetModel()
        self._root.children = [Node(k, v, self._root, i, extra) for i, (k, v, extra) in enumerate(entries)]
        self.endResetModel()

    def apply_entries(self, entries: Sequence[tuple[str, Any, str]]) -> None:
        """Make the top level hold ``entries`` (unique keys) by a diff."""
        root = self._root
        for step in diff_steps([n.key for n in root.children], [key for key, _, _ in entries]):
            kids = root.children
            if isinstance(step, Remove):
                self.beginRemoveRows(_ROOT, step.first, step.last)
                del kids[step.first : step.last + 1]
                self._renumber(root)
                self.endRemoveRows()
            elif isinstance(step, Insert):
                key, value, extra = entries[step.new]
                self.beginInsertRows(_ROOT, step.row, step.row)
                kids.insert(step.row, Node(key, value, root, step.row, extra))
                self._renumber(root)
                self.endInsertRows()
            elif isinstance(step, Move):
                self.beginMoveRows(_ROOT, step.source, step.source, _ROOT, step.row)
                kids.insert(step.row, kids.pop(step.source))
                self._renumber(root)
                self.endMoveRows()
            else:
                _key, value, extra = entries[step.new]
                self._update(kids[step.row], value, extra)

    def _update(self, node: Node, value: Any, extra: str) -> None:
        if node.value == value and type(node.value) is type(value):
            if node.extra != extra:
                node.extra = extra
                self.dataChanged.emit(self.createIndex(node.row, COL_EXTRA, node),
                                      self.createIndex(node.row, len(self.HEADERS) - 1, node))
            return
        index = self.createIndex(node.row, 0, node)
        if node.children:
            self.beginRemoveRows(index, 0, len(node.children) - 1)
            node.children = []
            self.endRemoveRows()
        node.value, node.extra = value, extra
        fresh = Node(node.key, value, None, 0)
        if fresh.children:
            self.beginInsertRows(index, 0, len(fresh.children) - 1)
            for child in fresh.children:
                child.parent = node
            node.children = fresh.children
            self.endInsertRows()
        self.dataChanged.emit(index, self.createIndex(node.row, len(self.HEADERS) - 1, node))

    @staticmethod
    def _renumber(node: Node) -> None:
        for i, child in enumerate(node.children):
            child.row = i


def replaced(value: Any, path: Sequence[str | int], new: Any) -> Any:
    """A copy of ``value`` with the item at ``path`` set to ``new`` (``ABSENT``: removed)."""
    if isinstance(value, dict):
        out: Any = dict(value)
    elif isinstance(value, list):
        out = list(value)
    else:
        raise ValidationError("only objects and lists have items")
    step = path[0]
    if len(path) > 1:
        out[step] = replaced(out[step], path[1:], new)
    elif new is ABSENT:
        del out[step]
    else:
        out[step] = new
    return out


class GlobalContextModel(JsonTreeModel):
    """The store's global context: ``{key: {"value", "updated_at"}}``."""

    HEADERS = ("Key", "Value", "Updated")
    EDIT = GlobalEdit


class ProfileModel(JsonTreeModel):
    """The selected user's profile fields (nested preferences open as a tree)."""

    HEADERS = ("Field", "Value")
    EDIT = ProfileEdit
