"""Where a store is, as people type it: a folder path, or a PostgreSQL address — a ``postgresql://`` URL or
libpq ``key=value`` words beginning with a libpq keyword (``host=/run/postgresql dbname=elysia``). The window
and the command lines open either the same way."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from memgui.store.config import build_config
from memgui.store.factory import create_memory_store
from memgui.store.interface import MemoryStore

_URL = re.compile(r"^postgres(ql)?://", re.IGNORECASE)
_KEYWORDS = re.compile(r"^(host|hostaddr|port|dbname|user|password|passfile|service|sslmode|connect_timeout|"
                       r"application_name|options|target_session_attrs)\s*=", re.IGNORECASE)


def is_database_address(text: str) -> bool:
    """True for a PostgreSQL URL or libpq connection words; a folder path otherwise."""
    stripped = text.strip()
    return bool(_URL.match(stripped) or _KEYWORDS.match(stripped))


def location_overrides(text: str | os.PathLike[str]) -> dict[str, Any]:
    """The configuration keys that point a store at ``text``."""
    if isinstance(text, str) and is_database_address(text):
        return {"STORAGE_BACKEND": "postgres", "DATABASE_URL": text.strip()}
    return {"STORAGE_BACKEND": "json", "DATA_DIR": os.path.abspath(os.fspath(text))}


def open_location(text: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> MemoryStore:
    """A store on ``text`` through the factory, the environment's other settings applying (encryption keys,
    limits). Raises the store's typed errors (a folder that cannot be read, a server that does not answer)."""
    return create_memory_store(build_config(location_overrides(text), environ=dict(environ or os.environ)))
