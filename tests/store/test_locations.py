"""A store's location as people type it: folders and PostgreSQL addresses told apart, each opened by the
factory with the right backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from memgui.store import JsonMemoryStore
from memgui.store.locations import is_database_address, location_overrides, open_location


@pytest.mark.parametrize("text", ["postgresql://elysia@db.example/elysia", "postgres://localhost/x",
                                  "host=/run/postgresql dbname=elysia", " dbname=elysia user=admin "])
def test_database_addresses(text: str) -> None:
    assert is_database_address(text)
    assert location_overrides(text) == {"STORAGE_BACKEND": "postgres", "DATABASE_URL": text.strip()}


@pytest.mark.parametrize("text", ["/srv/elysia/data", "data", "./host=here", "postgresql-backup", "C:\\data"])
def test_folders(text: str) -> None:
    assert not is_database_address(text)
    overrides = location_overrides(text)
    assert overrides["STORAGE_BACKEND"] == "json" and Path(overrides["DATA_DIR"]).is_absolute()


def test_open_location_builds_a_json_store_on_a_folder(tmp_path: Path) -> None:
    store = open_location(tmp_path / "data", environ={"STORAGE_BACKEND": "memory"})  # the location decides
    try:
        assert isinstance(store, JsonMemoryStore) and store.folder() == (tmp_path / "data").absolute()
    finally:
        store.close()
