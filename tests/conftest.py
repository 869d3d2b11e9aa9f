"""Shared fixtures. Qt runs offscreen in every test; Qt warnings fail tests (pyproject qt_log_level_fail)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_QUICK_BACKEND", "software")
# Caches a test may write (the search index of a read-only folder or a database) stay out of the user's home.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="memgui-test-cache-")

from memgui.store import JsonMemoryStore, build_config, keyring

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "elysia-demo-data"
if not FIXTURE.is_dir():  # a checkout outside the workplace layout keeps a copy beside the tests
    FIXTURE = Path(__file__).resolve().parent / "data" / "elysia-demo-data"

# Encrypted stores in tests derive their key with a cheap scrypt cost; the cost is stored with the salt.
keyring.SCRYPT_N = 1 << 10


@pytest.fixture
def fixture_dir() -> Path:
    """The read-only demo folder written by the older implementation."""
    assert FIXTURE.is_dir(), f"missing fixture {FIXTURE}"
    return FIXTURE


@pytest.fixture
def fixture_copy(tmp_path: Path, fixture_dir: Path) -> Path:
    """A writable copy of the older implementation's demo folder."""
    target = tmp_path / "elysia-demo-data"
    shutil.copytree(fixture_dir, target)
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[JsonMemoryStore]:
    """A JSON store in a fresh folder, UTC default zone, durable writes."""
    s = JsonMemoryStore(build_config({"DATA_DIR": data_dir, "DEFAULT_TIMEZONE": "UTC"}, environ={}))
    yield s
    s.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """A real PostgreSQL server for the session (tests/support/pg_server.py), started on first use.

    Missing binaries are installed when running as root; otherwise the tests that need it are skipped with
    the reason, except in CI (CI=true), where that fails loudly.
    """
    from support.pg_server import PgServer, PgUnavailable

    try:
        server = PgServer().start()
    except PgUnavailable as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes") or os.geteuid() == 0:
            pytest.fail(f"no PostgreSQL server for the tests: {exc}")
        pytest.skip(f"no PostgreSQL server for the tests: {exc}")
    yield server
    server.destroy()
