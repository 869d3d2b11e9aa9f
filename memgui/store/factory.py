"""The factory and the process-wide store: ``create_memory_store``, ``initialize``, ``get_memory_store``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from memgui.store import fileio
from memgui.store.config import StoreConfig, build_config
from memgui.store.errors import ConfigError
from memgui.store.interface import MemoryStore

BackendFactory = Callable[[StoreConfig], MemoryStore]
_BACKENDS: dict[str, BackendFactory] = {}
_current: MemoryStore | None = None
_mutex = threading.Lock()
log = logging.getLogger(__name__)


def register_backend(name: str, factory: BackendFactory) -> None:
    """Make ``STORAGE_BACKEND=name`` build a store with ``factory(config)``."""
    _BACKENDS[name.lower()] = factory


def available_backends() -> list[str]:
    return sorted(_BACKENDS)


def create_memory_store(config: StoreConfig | Mapping[str, Any] | None = None, **older: Any) -> MemoryStore:
    """A new store of the backend ``STORAGE_BACKEND`` names (config from the environment by default).

    The older factory took ``storage={"message_history_limit": n}``; that keyword is still understood.
    """
    if not isinstance(config, StoreConfig):
        config = build_config(config)
    storage = older.pop("storage", None)
    if older:
        raise ConfigError(", ".join(sorted(older)), "unknown argument of create_memory_store")
    if storage is not None:
        if not isinstance(storage, Mapping):
            raise ConfigError("storage", f"expected a dict, got {type(storage).__name__}")
        if "message_history_limit" in storage:
            config = config.replace(MAX_MESSAGES=storage["message_history_limit"])
    factory = _BACKENDS.get(config.STORAGE_BACKEND)
    if factory is None:
        raise ConfigError("STORAGE_BACKEND", f"unknown backend {config.STORAGE_BACKEND!r}; "
                                             f"available: {', '.join(available_backends())}")
    return factory(config)


def initialize(overrides: Mapping[str, Any] | None = None) -> MemoryStore:
    """Read configuration from the environment, apply ``overrides``, build the process-wide store."""
    global _current
    store = create_memory_store(build_config(overrides))
    with _mutex:
        previous, _current = _current, store
    if previous is not None:
        previous.close()
    return store


def get_memory_store() -> MemoryStore:
    """The process-wide store, initialized with the defaults on first use."""
    global _current
    with _mutex:
        if _current is None:
            _current = create_memory_store(build_config())
        return _current


def reset(keep_data: bool = False) -> None:
    """Older API: drop the process-wide store; unless ``keep_data``, delete its whole DATA_DIR, as the older
    ``memory_management.reset()`` did (tests of deployments call it between runs)."""
    global _current
    with _mutex:
        store, _current = _current, None
    if store is None:
        return
    store.close()
    root = store.folder()
    if not keep_data and root is not None and root.is_dir():
        log.warning("reset(keep_data=False): deleting %s, as the older API did", root)
        fileio.remove_tree(root)


def _register_builtin() -> None:
    from memgui.store.backends.json.store import JsonMemoryStore
    from memgui.store.backends.memory import InMemoryStore

    register_backend("json", JsonMemoryStore)
    register_backend("memory", InMemoryStore)
    register_backend("postgres", _postgres)


def _postgres(config: StoreConfig) -> MemoryStore:
    """The PostgreSQL backend, imported only when asked for (psycopg loads libpq)."""
    from memgui.store.backends.postgres import PostgresMemoryStore

    return PostgresMemoryStore(config)


_register_builtin()
