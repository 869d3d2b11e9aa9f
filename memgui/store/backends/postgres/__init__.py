"""The PostgreSQL backend (``STORAGE_BACKEND=postgres``, ``DATABASE_URL``): schema, connection, the seam."""

from memgui.store.backends.postgres.schema import CHANNEL, SCHEMA_VERSION
from memgui.store.backends.postgres.store import PostgresMemoryStore

__all__ = ["CHANNEL", "SCHEMA_VERSION", "PostgresMemoryStore"]
