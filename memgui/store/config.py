"""Store configuration: read from the environment, overridden by ``initialize({...})``, validated strictly.

Keys are the names of STORE.md, matched case-insensitively. A wrong type or range raises ``ConfigError``
naming the key; an unknown override raises too, so a typo never passes silently. Keys of the older
implementation that have no effect here are accepted and ignored with a logged warning.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from memgui.store.errors import ConfigError

log = logging.getLogger(__name__)

# Keys the older implementation read that mean nothing to this store (prefixes end with "_").
LEGACY_KEYS = ("ENVIRONMENT", "DEBUG", "SECURITY_LEVEL", "MAX_CONTENT_LENGTH")
LEGACY_PREFIXES = ("CACHE_", "RATE_LIMIT_", "FEATURE_")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclasses.dataclass(frozen=True)
class StoreConfig:
    """The validated configuration of one store."""

    DATA_DIR: Path = Path("data")
    MAX_MESSAGES: int = 100
    ARCHIVE_TRIMMED: bool = True
    STORAGE_BACKEND: str = "json"
    DEFAULT_TIMEZONE: str = ""  # "" = the machine's local zone
    ENCRYPTION_ENABLED: bool = False
    ENCRYPTION_KEY: str | None = dataclasses.field(default=None, repr=False)
    DURABLE_WRITES: bool = True
    LOCK_TIMEOUT: float = 10.0
    DATABASE_URL: str = dataclasses.field(default="", repr=False)  # STORAGE_BACKEND=postgres: libpq URL/conninfo

    def replace(self, **changes: Any) -> StoreConfig:
        """A copy with ``changes`` applied and validated like any override."""
        return build_config(changes, environ={}, base=self)


_FIELDS = {f.name: f for f in dataclasses.fields(StoreConfig)}


def _as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ConfigError(key, f"expected true or false, got {value!r}")


def _as_int(key: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool):
        raise ConfigError(key, f"expected an integer, got {value!r}")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ConfigError(key, f"expected an integer, got {value!r}") from None
    if not isinstance(value, int):
        raise ConfigError(key, f"expected an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ConfigError(key, f"must be at least {minimum}, got {value}")
    return value


def _as_seconds(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ConfigError(key, f"expected a number of seconds, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ConfigError(key, f"expected a number of seconds, got {value!r}") from None
    if not isinstance(value, (int, float)):
        raise ConfigError(key, f"expected a number of seconds, got {type(value).__name__}")
    if not 0 < float(value) <= 86400:
        raise ConfigError(key, f"must be between 0 and 86400 seconds, got {value}")
    return float(value)


def _as_text(key: str, value: Any, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ConfigError(key, f"expected text, got {type(value).__name__} {value!r}")
    if not allow_empty and not value.strip():
        raise ConfigError(key, "must not be empty")
    return value.strip()


def _as_conninfo(key: str, value: Any) -> str:
    """A libpq connection string (``postgresql://...`` URL or ``key=value`` words), checked by libpq's parser."""
    text = _as_text(key, value, allow_empty=True)
    if text:
        try:
            from psycopg.conninfo import conninfo_to_dict

            conninfo_to_dict(text)
        except Exception as exc:  # psycopg.ProgrammingError: libpq's own message, without the password
            raise ConfigError(key, f"not a PostgreSQL connection string ({str(exc).strip()})") from None
    return text


def _convert(key: str, value: Any) -> Any:
    if key == "DATA_DIR":
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        return Path(_as_text(key, value))
    if key == "MAX_MESSAGES":
        return _as_int(key, value, 0)
    if key in ("ARCHIVE_TRIMMED", "ENCRYPTION_ENABLED", "DURABLE_WRITES"):
        return _as_bool(key, value)
    if key == "STORAGE_BACKEND":
        return _as_text(key, value).lower()
    if key == "DEFAULT_TIMEZONE":
        text = _as_text(key, value, allow_empty=True)
        if text:
            from memgui.store.timeutil import parse_zone

            try:
                parse_zone(text)
            except ValueError as exc:
                raise ConfigError(key, str(exc)) from None
        return text
    if key == "ENCRYPTION_KEY":
        return None if value is None else _as_text(key, value)
    if key == "LOCK_TIMEOUT":
        return _as_seconds(key, value)
    if key == "DATABASE_URL":
        return _as_conninfo(key, value)
    raise AssertionError(key)  # pragma: no cover - _FIELDS lists every key


def _is_legacy(key: str) -> bool:
    return key in LEGACY_KEYS or key.startswith(LEGACY_PREFIXES)


def build_config(
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    base: StoreConfig | None = None,
) -> StoreConfig:
    """Validate ``environ`` (default ``os.environ``), then ``overrides`` on top, into a ``StoreConfig``."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name in _FIELDS:
        if name in environ:
            values[name] = _convert(name, environ[name])
    for raw_key, value in (overrides or {}).items():
        if not isinstance(raw_key, str):
            raise ConfigError(repr(raw_key), "configuration keys are text")
        key = raw_key.upper()
        if key in _FIELDS:
            values[key] = _convert(key, value)
        elif _is_legacy(key):
            log.warning("configuration key %s has no effect in memgui.store; ignored", key)
        else:
            raise ConfigError(raw_key, "unknown configuration key")
    return dataclasses.replace(base or StoreConfig(), **values)
