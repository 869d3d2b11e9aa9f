"""Fixtures of the store tests: stores built from explicit configuration (never the caller's environment),
the same rule tests run against both backends (as TinyDB runs its tests against two storages), and a clean
process-wide store for the tests of ``initialize`` / ``get_memory_store``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from contract_helpers import config_for

from memgui.store import MemoryStore, create_memory_store, factory
from memgui.store.config import _FIELDS

StoreMaker = Callable[..., MemoryStore]


@pytest.fixture
def make_store(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[StoreMaker]:
    """``make_store(**overrides)``: a new store (``STORAGE_BACKEND`` picks it) in ``tmp_path/data``, closed
    at the end of the test. Two calls with the same ``DATA_DIR`` give two independent readers/writers; for
    ``postgres`` each ``DATA_DIR`` names a fresh database of the session's server instead."""
    made: list[MemoryStore] = []
    databases: dict[Path, str] = {}

    def make(**overrides: Any) -> MemoryStore:
        data_dir = overrides.pop("DATA_DIR", tmp_path / "data")
        if str(overrides.get("STORAGE_BACKEND", "")).lower() == "postgres" and "DATABASE_URL" not in overrides:
            if data_dir not in databases:
                databases[data_dir] = request.getfixturevalue("pg_server").new_database()
            overrides["DATABASE_URL"] = databases[data_dir]
        store = create_memory_store(config_for(data_dir, **overrides))
        made.append(store)
        return store

    yield make
    for store in reversed(made):
        store.close()


@pytest.fixture(params=["json", "memory", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """The name of each backend in turn."""
    return str(request.param)


@pytest.fixture
def any_store(make_store: StoreMaker, backend: str) -> MemoryStore:
    """A fresh store of each backend in turn (JsonMemoryStore, InMemoryStore, PostgresMemoryStore)."""
    return make_store(STORAGE_BACKEND=backend)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No store configuration in the environment, the working directory in ``tmp_path`` (the default
    ``DATA_DIR`` is relative to it). Returns the working directory."""
    for key in _FIELDS:
        monkeypatch.delenv(key, raising=False)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def fresh_global(clean_env: Path) -> Iterator[Path]:
    """No process-wide store before the test; whatever the test made is closed and forgotten after it."""
    saved = factory._current
    factory._current = None
    yield clean_env
    made = factory._current
    factory._current = saved
    if made is not None and made is not saved:
        made.close()
