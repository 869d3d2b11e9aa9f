"""The factory and the process-wide store: ``create_memory_store``, ``initialize``, ``get_memory_store``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from memgui.store.base import MemoryStore
from memgui.store.config import StoreConfig, build_config
from memgui.store.errors import ConfigError

BackendFactory = Callable[[StoreConfig], MemoryStore]
_BACKENDS: dict[str, BackendFactory] = {}
_current: MemoryStore | None = None
_mutex = threading.Lock()


def register_backend(name: str, factory: BackendFactory) -> None:
    """Make ``STORAGE_BACKEND=name`` build a store with ``factory(config)``."""
    _BACKENDS[name.lower()] = factory


def available_backends() -> list[str]:
    return sorted(_BACKENDS)


def create_memory_store(config: StoreConfig | Mapping[str, Any] | None = None) -> MemoryStore:
    """A new store of the backend ``STORAGE_BACKEND`` names (config from the environment by default)."""
    if not isinstance(config, StoreConfig):
        config = build_config(config)
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


def _register_builtin() -> None:
    from memgui.store.json_store import JsonMemoryStore
    from memgui.store.memory_backend import InMemoryStore

    register_backend("json", JsonMemoryStore)
    register_backend("memory", InMemoryStore)


_register_builtin()
