"""Connecting to PostgreSQL with a bound on the wait, and psycopg's errors as ``DatabaseError`` naming the problem."""

from __future__ import annotations

import select

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from memgui.store.errors import ConfigError, DatabaseError

CONNECT_TIMEOUT = 5  # seconds; a server that is down or unreachable never hangs the caller longer


def masked(conninfo: str) -> str:
    """The connection string for people: every parameter but the password (which shows as ***)."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "<unparsable DATABASE_URL>"
    return " ".join(f"{k}={'***' if k == 'password' else v}" for k, v in sorted(params.items()))


def without_password(conninfo: str) -> str:
    """The connection string with any password left out: shown in title bars and kept in the recent list,
    it still opens the database (libpq then takes the password from ~/.pgpass or PGPASSWORD)."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return ""
    params.pop("password", None)
    return make_conninfo("", **params)


def where(conninfo: str) -> str:
    """A short name of the server and database, for error messages."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "PostgreSQL"
    host = params.get("host") or "local socket"
    port = f":{params['port']}" if params.get("port") else ""
    return f"PostgreSQL {host}{port} database {params.get('dbname') or params.get('user') or '(default)'!r}"


def connect(conninfo: str, *, autocommit: bool = True) -> psycopg.Connection:
    """A connection, within CONNECT_TIMEOUT unless the string says otherwise; ``DatabaseError`` otherwise."""
    if not conninfo:
        raise ConfigError("DATABASE_URL", "must be set for STORAGE_BACKEND=postgres")
    params = conninfo_to_dict(conninfo)
    params.setdefault("connect_timeout", str(CONNECT_TIMEOUT))
    try:
        return psycopg.connect(make_conninfo("", **params), autocommit=autocommit)
    except psycopg.Error as exc:
        raise translate(exc, conninfo) from None


def alive(conn: psycopg.Connection) -> bool:
    """Whether an idle connection is still usable, found before the next statement rather than by its failure.
    A server that stops (or ends an idle session) sends its goodbye and closes the socket, but psycopg only
    learns of it when a statement fails, so the first call after a restart raised. Every answer of the server
    is read to its end, and this store does not LISTEN on this connection: so anything to read on an idle
    socket means it is going (libpq reads the goodbye first and still calls the connection sound, and only a
    second read meets the end). Such a connection is replaced; at worst a spare notice costs a reconnect."""
    if conn.closed or conn.broken:
        return False
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def translate(exc: psycopg.Error, conninfo: str) -> DatabaseError:
    """``exc`` as a ``DatabaseError`` whose message says what is wrong in words an operator acts on."""
    name = where(conninfo)
    text = str(exc).strip()
    lowered = text.lower()
    if isinstance(exc, pg_errors.InvalidPassword) or "password authentication failed" in lowered \
            or "no password supplied" in lowered:
        return DatabaseError(f"{name}: authentication failed (wrong user or password)")
    if isinstance(exc, pg_errors.InvalidAuthorizationSpecification) or "no pg_hba.conf entry" in lowered:
        return DatabaseError(f"{name}: the server refuses this user from here ({text})")
    if isinstance(exc, pg_errors.InvalidCatalogName) or ("database" in lowered and "does not exist" in lowered):
        return DatabaseError(f"{name}: the database does not exist (create it, or fix DATABASE_URL)")
    if isinstance(exc, pg_errors.InsufficientPrivilege):
        return DatabaseError(f"{name}: permission denied ({text})")
    if isinstance(exc, psycopg.OperationalError):
        if "timeout" in lowered:
            return DatabaseError(f"{name}: the server did not answer within the connect timeout")
        return DatabaseError(f"{name}: the server is down or unreachable ({text})")
    return DatabaseError(f"{name}: {text}")
