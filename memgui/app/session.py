"""``WindowSession``: what the window's parts share — the store, the read-only switch, which load is current
and which user is shown, the models, the panes, and the few things the window itself does for its parts
(``WindowCommands``). ``MainWindow`` builds it; the menus and editing (``WindowActions``) and the live refresh
(``LiveRefresh``) receive it, so none of them reads another's private state and none imports the window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from PySide6.QtWidgets import QMainWindow, QTabWidget

from memgui.models.conversation_model import ConversationModel
from memgui.models.facts_model import FactsModel
from memgui.models.json_tree_model import GlobalContextModel, ProfileModel
from memgui.models.memories_model import MemoriesModel
from memgui.models.paced_feed import PacedUsersFeed
from memgui.models.store_worker import StoreWorker, UserDetails
from memgui.models.users_model import UsersModel
from memgui.store import MemoryStore
from memgui.views.conflict_banner import EditBanner
from memgui.views.conversation_view import ConversationPane
from memgui.views.facts_view import FactsPane
from memgui.views.global_context_view import GlobalContextPane
from memgui.views.memories_view import MemoriesPane
from memgui.views.metrics_view import MetricsView
from memgui.views.overview_view import OverviewView
from memgui.views.profile_view import ProfilePane
from memgui.views.user_header import UserHeader
from memgui.views.users_view import UsersPane


class WindowCommands(Protocol):
    """What the window does when one of its parts asks (``MainWindow`` implements it)."""

    def reload(self) -> None: ...
    def choose_folder(self) -> None: ...
    def choose_database(self) -> None: ...
    def fill_recent(self) -> None: ...
    def focus_find(self) -> None: ...
    def focus_search(self) -> None: ...
    def select_first(self) -> None: ...
    def show_details(self, details: UserDetails | None) -> None: ...
    def update_status(self) -> None: ...
    def check_loaded(self) -> None: ...


@dataclass(frozen=True)
class Models:
    users: UsersModel
    conversation: ConversationModel
    facts: FactsModel
    memories: MemoriesModel
    profile: ProfileModel
    global_context: GlobalContextModel


@dataclass(frozen=True)
class Panes:
    tabs: QTabWidget
    users: UsersPane
    header: UserHeader
    banner: EditBanner
    conversation: ConversationPane
    facts: FactsPane
    memories: MemoriesPane
    profile: ProfilePane
    global_context: GlobalContextPane
    metrics: MetricsView
    overview: OverviewView


class WindowSession:
    """The shared state. ``generation`` counts the loads of the store: an answer of an older load is dropped.
    ``users_done``: the current load has listed every user. ``shown_user``: the user the panes show ('')."""

    def __init__(self, window: QMainWindow, commands: WindowCommands, store: MemoryStore, *, read_only: bool,
                 models: Models, panes: Panes, store_worker: StoreWorker,
                 users_feed: PacedUsersFeed) -> None:
        self.window = window  # the parent of actions and dialogs, and the status bar's owner
        self.commands = commands
        self.store = store
        self.read_only = read_only
        self.models = models
        self.panes = panes
        self.store_worker = store_worker
        self.users_feed = users_feed  # the worker's users signals, paced: connect to these, not the worker's
        self.generation = 0
        self.users_done = False
        self.shown_user = ""

    def status(self, text: str, ms: int = 8000) -> None:
        """A passing message in the status bar (0 ms: until the next one)."""
        self.window.statusBar().showMessage(text, ms)

    def clear_status(self) -> None:
        self.window.statusBar().clearMessage()
