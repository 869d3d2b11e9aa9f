"""Configuration (STORE.md "Configuration"): environment, overrides, strict validation naming the key, the
older implementation's keys, no folder made by reading config, and the backend factory."""
# SIM300 takes the upper-case config attributes (config.DATA_DIR) for constants and wants Yoda conditions.
# ruff: noqa: SIM300

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from contract_helpers import config_for

from memgui.store import (
    ConfigError,
    InMemoryStore,
    JsonMemoryStore,
    MemoryStore,
    StoreConfig,
    available_backends,
    build_config,
    create_memory_store,
    factory,
    get_memory_store,
    initialize,
    register_backend,
)


def test_defaults(clean_env: Path) -> None:
    config = build_config()
    assert config.DATA_DIR == Path("data")
    assert (config.MAX_MESSAGES, config.ARCHIVE_TRIMMED, config.STORAGE_BACKEND) == (100, True, "json")
    assert (config.DEFAULT_TIMEZONE, config.ENCRYPTION_ENABLED, config.ENCRYPTION_KEY) == ("", False, None)
    assert (config.DURABLE_WRITES, config.LOCK_TIMEOUT) == (True, 10.0)


def test_environment_then_overrides(clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("MAX_MESSAGES", "25")
    monkeypatch.setenv("ARCHIVE_TRIMMED", "false")
    monkeypatch.setenv("DURABLE_WRITES", "0")
    monkeypatch.setenv("LOCK_TIMEOUT", "2.5")
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Europe/Paris")
    config = build_config()
    assert (config.DATA_DIR, config.MAX_MESSAGES, config.ARCHIVE_TRIMMED) == (tmp_path / "env", 25, False)
    assert (config.DURABLE_WRITES, config.LOCK_TIMEOUT, config.DEFAULT_TIMEZONE) == (False, 2.5, "Europe/Paris")
    overridden = build_config({"MAX_MESSAGES": 7, "archive_trimmed": True})
    assert (overridden.MAX_MESSAGES, overridden.ARCHIVE_TRIMMED) == (7, True)
    assert overridden.DATA_DIR == tmp_path / "env", "keys not overridden keep the environment's value"
    store = initialize({"Max_Messages": "9"})
    try:
        assert (store.config.MAX_MESSAGES, store.config.DATA_DIR) == (9, tmp_path / "env")
    finally:
        factory._current = None
        store.close()


@pytest.mark.parametrize("key", ["max_messages", "MAX_MESSAGES", "Max_Messages", "mAX_mESSAGES"])
def test_override_keys_are_case_insensitive(key: str) -> None:
    assert build_config({key: 3}, environ={}).MAX_MESSAGES == 3


@pytest.mark.parametrize(("text", "value"), [
    ("true", True), ("TRUE", True), ("yes", True), ("on", True), ("1", True), (" True ", True),
    ("false", False), ("No", False), ("off", False), ("0", False),
])
def test_boolean_text(text: str, value: bool) -> None:
    assert build_config({"ARCHIVE_TRIMMED": text}, environ={}).ARCHIVE_TRIMMED is value
    assert build_config(environ={"DURABLE_WRITES": text}).DURABLE_WRITES is value


def test_values_of_the_right_type(tmp_path: Path) -> None:
    config = build_config({"DATA_DIR": tmp_path, "MAX_MESSAGES": "0", "LOCK_TIMEOUT": 1,
                           "STORAGE_BACKEND": "JSON", "DEFAULT_TIMEZONE": "UTC-5", "ENCRYPTION_KEY": None},
                          environ={})
    assert (config.DATA_DIR, config.MAX_MESSAGES, config.LOCK_TIMEOUT) == (tmp_path, 0, 1.0)
    assert (config.STORAGE_BACKEND, config.DEFAULT_TIMEZONE) == ("json", "UTC-5")
    for zone in ("Europe/Paris", "+05:30", "UTC", "GMT+2", "-0800", "Australia/Lord_Howe"):
        assert build_config({"DEFAULT_TIMEZONE": zone}, environ={}).DEFAULT_TIMEZONE == zone


BAD_VALUES: list[tuple[str, Any]] = [
    ("MAX_MESSAGES", "abc"), ("MAX_MESSAGES", 1.5), ("MAX_MESSAGES", True), ("MAX_MESSAGES", [1]),
    ("MAX_MESSAGES", None), ("MAX_MESSAGES", -1), ("MAX_MESSAGES", "-5"),
    ("ARCHIVE_TRIMMED", "maybe"), ("ARCHIVE_TRIMMED", 1), ("ARCHIVE_TRIMMED", None),
    ("DURABLE_WRITES", "2"), ("ENCRYPTION_ENABLED", "enabled"),
    ("LOCK_TIMEOUT", 0), ("LOCK_TIMEOUT", -1), ("LOCK_TIMEOUT", "soon"), ("LOCK_TIMEOUT", 10**9),
    ("LOCK_TIMEOUT", False),
    ("DEFAULT_TIMEZONE", "Mars/Olympus_Mons"), ("DEFAULT_TIMEZONE", "UTC+25"), ("DEFAULT_TIMEZONE", 5),
    ("STORAGE_BACKEND", ""), ("STORAGE_BACKEND", 3), ("DATA_DIR", 5), ("DATA_DIR", ""), ("DATA_DIR", None),
    ("ENCRYPTION_KEY", ""), ("ENCRYPTION_KEY", 1234),
]


@pytest.mark.parametrize(("key", "value"), BAD_VALUES)
def test_wrong_type_or_range_raises_naming_the_key(key: str, value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        build_config({key.lower(): value}, environ={})
    assert info.value.key.upper() == key
    assert key.lower() in str(info.value).lower()


@pytest.mark.parametrize(("key", "value"), [(k, v) for k, v in BAD_VALUES if isinstance(v, str)])
def test_wrong_environment_value_raises_naming_the_key(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=key):
        build_config(environ={key: value})


def test_wrong_value_through_initialize_leaves_the_process_store_alone(fresh_global: Path) -> None:
    before = get_memory_store()
    with pytest.raises(ConfigError, match="MAX_MESSAGES"):
        initialize({"MAX_MESSAGES": "lots"})
    assert get_memory_store() is before


@pytest.mark.parametrize("key", ["MAX_MESAGES", "data_directory", "STORAGE", "TIMEZONE", "user_data_path"])
def test_unknown_key_raises_naming_it(key: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_config({key: 1}, environ={})
    assert info.value.key == key
    assert key in str(info.value)


def test_non_text_key_raises() -> None:
    with pytest.raises(ConfigError):
        build_config({42: 1}, environ={})  # type: ignore[dict-item]


@pytest.mark.parametrize("key", [
    "ENVIRONMENT", "DEBUG", "SECURITY_LEVEL", "MAX_CONTENT_LENGTH", "CACHE_ENABLED", "CACHE_TTL",
    "RATE_LIMIT_ENABLED", "RATE_LIMIT_REQUESTS", "RATE_LIMIT_WINDOW", "FEATURE_FACT_EXTRACTION",
    "feature_metrics", "debug",
])
def test_legacy_keys_are_accepted_with_a_logged_warning(key: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="memgui.store"):
        config = build_config({key: "whatever", "MAX_MESSAGES": 4}, environ={})
    assert config.MAX_MESSAGES == 4
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any(key.upper() in r.getMessage() for r in warnings), [r.getMessage() for r in warnings]


def test_the_environment_of_the_older_implementation_is_harmless(clean_env: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"ENVIRONMENT": "production", "DEBUG": "true", "CACHE_TTL": "x",
                       "FEATURE_METRICS": "false", "MEMORY_STORE_TYPE": "json"}.items():
        monkeypatch.setenv(key, value)
    assert build_config() == StoreConfig()


def test_replace_validates() -> None:
    config = build_config({"MAX_MESSAGES": 5}, environ={})
    assert config.replace(max_messages=6).MAX_MESSAGES == 6
    with pytest.raises(ConfigError, match="MAX_MESSAGES"):
        config.replace(MAX_MESSAGES=-2)


# -- DATA_DIR is made by the first write, never by reading config ------------------------------------------
def test_data_dir_is_not_created_by_config_or_reads(fresh_global: Path, tmp_path: Path) -> None:
    target = tmp_path / "deep" / "data"
    build_config({"DATA_DIR": target}, environ={})
    store = initialize({"DATA_DIR": target})
    store.get_all_users()
    store.get_user_profile("u")
    store.get_global_context("k")
    store.update_streak("u")
    store.flush()
    store.close()
    assert not target.exists() and not target.parent.exists()
    store.set_global_context("k", 1)
    assert (target / "global_context.json").is_file()


def test_default_data_dir_is_relative_to_the_working_directory(fresh_global: Path) -> None:
    store = get_memory_store()
    assert not (fresh_global / "data").exists()
    store.store_message("u", "hi")
    assert (fresh_global / "data" / "u" / "conversation_history.json").is_file()


def test_default_timezone_empty_means_the_machines_zone(make_store: Any) -> None:
    store = make_store(DEFAULT_TIMEZONE="")
    moment = datetime(2025, 7, 1, 12, tzinfo=timezone.utc)
    assert store.default_zone.utcoffset(moment) == moment.astimezone().utcoffset()


# -- the factory -----------------------------------------------------------------------------------------
def test_factory_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(create_memory_store(config_for(tmp_path)), JsonMemoryStore)
    assert isinstance(create_memory_store(config_for(tmp_path, STORAGE_BACKEND="JSON")), JsonMemoryStore)
    memory = create_memory_store(config_for(tmp_path, STORAGE_BACKEND="memory"))
    assert isinstance(memory, InMemoryStore)
    memory.add_message("u", "user", "x")
    assert not tmp_path.joinpath("u").exists(), "the memory backend writes no file"
    assert {"json", "memory"} <= set(available_backends())


def test_unknown_backend_raises_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="STORAGE_BACKEND") as info:
        create_memory_store(config_for(tmp_path, STORAGE_BACKEND="sqlite"))
    assert "sqlite" in str(info.value)


def test_factory_accepts_a_mapping(clean_env: Path, tmp_path: Path) -> None:
    store = create_memory_store({"DATA_DIR": tmp_path, "STORAGE_BACKEND": "memory", "MAX_MESSAGES": 2})
    assert isinstance(store, InMemoryStore) and store.config.MAX_MESSAGES == 2


class _CountingStore(InMemoryStore):
    """A backend registered by a test: the in-memory one, counting how often it was built."""

    built = 0

    def __init__(self, config: StoreConfig) -> None:
        super().__init__(config)
        type(self).built += 1


def test_register_backend(fresh_global: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(factory, "_BACKENDS", dict(factory._BACKENDS))
    register_backend("Counting", _CountingStore)
    assert "counting" in available_backends()
    store = create_memory_store(config_for(tmp_path, STORAGE_BACKEND="counting"))
    assert isinstance(store, _CountingStore) and isinstance(store, MemoryStore)
    process_store = initialize({"storage_backend": "COUNTING"})
    assert isinstance(process_store, _CountingStore) and get_memory_store() is process_store
    assert _CountingStore.built >= 2
    process_store.add_message("u", "user", "rules work in the new backend")
    assert process_store.get_conversation_metrics("u")["message_count"] == 1
