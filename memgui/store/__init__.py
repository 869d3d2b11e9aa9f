"""memgui.store: the assistant's memory (users, conversations, facts, metrics, streaks, memories,
global context) as JSON files in a documented layout. Plain Python; never imports Qt."""

from memgui.store.backends.json.store import JsonMemoryStore
from memgui.store.backends.memory import InMemoryStore
from memgui.store.config import StoreConfig, build_config
from memgui.store.errors import (
    ConfigError,
    ConflictError,
    CorruptDataError,
    DatabaseError,
    EncryptionError,
    InvalidUserIdError,
    LockTimeoutError,
    MemoryStoreError,
    NewerFormatError,
    StoreIOError,
    ValidationError,
)
from memgui.store.factory import (
    available_backends,
    create_memory_store,
    get_memory_store,
    initialize,
    register_backend,
    reset,
)
from memgui.store.interface import MemoryStore
from memgui.store.rules.streaks import StreakInfo
from memgui.store.rules.transfer import EraseReport, ImportPlan
from memgui.store.values import ABSENT, MISSING

__all__ = [
    "ABSENT",
    "MISSING",
    "ConfigError",
    "ConflictError",
    "CorruptDataError",
    "DatabaseError",
    "EncryptionError",
    "EraseReport",
    "ImportPlan",
    "InMemoryStore",
    "InvalidUserIdError",
    "JsonMemoryStore",
    "LockTimeoutError",
    "MemoryStore",
    "MemoryStoreError",
    "NewerFormatError",
    "StoreConfig",
    "StoreIOError",
    "StreakInfo",
    "ValidationError",
    "available_backends",
    "build_config",
    "create_memory_store",
    "get_memory_store",
    "initialize",
    "register_backend",
    "reset",
]
