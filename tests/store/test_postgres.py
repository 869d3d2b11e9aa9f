"""The PostgreSQL backend against a real server (the session's ``pg_server``): schema versions, errors that name
the problem within the connect timeout, writers in several processes, durability through an immediate stop,
and the change notifications and revision the window's live refresh will build on."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from contract_helpers import config_for

from memgui.store import ConflictError, DatabaseError, MemoryStore, create_memory_store
from memgui.store.backends.postgres import schema


def _store(conninfo: str, **overrides: Any) -> MemoryStore:
    return create_memory_store(config_for(Path("unused"), STORAGE_BACKEND="postgres", DATABASE_URL=conninfo,
                                          **overrides))


@pytest.fixture
def database(pg_server: Any) -> str:
    return str(pg_server.new_database())


def test_an_older_schema_is_upgraded_with_its_data(database: str) -> None:
    with psycopg.connect(database, autocommit=True) as conn:  # a version-1 database, made by hand
        conn.execute(schema.V1)
        conn.execute("INSERT INTO memgui.users VALUES ('old')")
        conn.execute("""INSERT INTO memgui.documents VALUES ('old', 'profile', '{"name": "Old", "b": 1, "a": 2}')""")
    with _store(database) as store:
        assert store.describe()["schema_version"] == schema.SCHEMA_VERSION == 3
        assert list(store.get_user_profile("old")) == ["name", "b", "a"]  # key order kept
        before = store.store_revision()  # type: ignore[attr-defined]
        store.add_message("old", "user", "hello")
        assert store.store_revision() > before  # type: ignore[attr-defined]  # the upgrade's triggers work


def test_a_newer_schema_is_refused_naming_both_versions(database: str) -> None:
    _store(database).close()
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("UPDATE memgui.schema_version SET version = 7")
    with pytest.raises(DatabaseError, match=r"version 7.*version 3"):
        _store(database)


def test_a_down_server_is_named_within_the_timeout(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(DatabaseError, match="down or unreachable"):
        _store(f"host={tmp_path} dbname=x user=nobody")  # no server listens on this socket folder
    assert time.monotonic() - started < 10


def test_a_missing_database_and_a_refused_password_are_named(pg_server: Any) -> None:
    with pytest.raises(DatabaseError, match="database does not exist"):
        _store(pg_server.conninfo("no_such_database"))
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS memgui_pw")
        conn.execute("CREATE ROLE memgui_pw LOGIN PASSWORD 'right'")
        hba = conn.execute("SHOW hba_file").fetchone()[0]  # type: ignore[index]
    hba_path = Path(hba)
    original = hba_path.read_text()
    hba_path.write_text("local all memgui_pw scram-sha-256\n" + original)
    try:
        with psycopg.connect(pg_server.conninfo(), autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
        started = time.monotonic()
        with pytest.raises(DatabaseError, match="authentication failed"):
            _store(pg_server.conninfo("postgres", user="memgui_pw", password="wrong"))
        assert time.monotonic() - started < 10
    finally:
        hba_path.write_text(original)
        with psycopg.connect(pg_server.conninfo(), autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")


def test_changes_notify_the_channel_with_the_user_id(database: str) -> None:
    with _store(database) as store, psycopg.connect(database, autocommit=True) as listener:
        listener.execute(f"LISTEN {schema.CHANNEL}")
        store.add_message("ann", "user", "hi")
        store.set_global_context("k", 1)
        payloads: set[str] = set()
        deadline = time.monotonic() + 10
        while payloads != {"ann", ""} and time.monotonic() < deadline:
            payloads |= {n.payload for n in listener.notifies(timeout=1, stop_after=1)}
        assert payloads == {"ann", ""}


def _writer(conninfo: str, worker: int, count: int) -> None:
    store = _store(conninfo, MAX_MESSAGES=50)
    for i in range(count):
        uid = f"u{i % 3}"
        step = i % 5
        if step == 0:
            store.add_user_fact(uid, f"fact {worker}-{i}", "c")
        elif step == 1:
            store.store_permanent_memory(uid, f"memory {worker}-{i}", "m")
        elif step == 2:
            store.update_user_profile(uid, {f"k{worker}-{i}": i})
        elif step == 3:
            store.set_global_context(f"g{worker}-{i}", i)
        else:
            store.add_message(uid, "user", f"message {worker}-{i}")
    store.close()


@pytest.mark.parametrize("count", [pytest.param(40, id="short"), pytest.param(200, id="long", marks=pytest.mark.soak)])
def test_processes_writing_at_once_lose_and_duplicate_nothing(database: str, count: int) -> None:
    _store(database).close()  # the schema first
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(database, w, count)) for w in range(8)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(240)
        assert p.exitcode == 0
    with _store(database) as store:
        expected = {f"{w}-{i}" for w in range(8) for i in range(count)}
        facts, memories, profile, messages = set(), set(), set(), set()
        for uid in ("u0", "u1", "u2"):
            facts |= {f.split(" ")[1] for f in store.get_user_facts(uid).get("c", [])}
            memories |= {m["content"].split(" ")[1] for m in store.get_permanent_memories(uid, "m")}
            profile |= {k[1:] for k in store.get_user_profile(uid) if k.startswith("k")}
            history = store.get_message_history(uid, include_archived=True)
            assert len({m["id"] for m in history}) == len(history)
            messages |= {m["content"].split(" ")[1] for m in history}
            assert store.get_conversation_metrics(uid)["message_count"] == len(history)
        glob = {k[1:] for k in store.get_all_global_context()}
        for step, found in enumerate((facts, memories, profile, glob, messages)):
            assert found == {e for e in expected if int(e.split("-")[1]) % 5 == step}


def _stale_edit(conninfo: str, expected: str) -> str:
    store = _store(conninfo)
    try:
        store.set_profile_field("u", "name", "from the child", expected=expected)
        return "written"
    except ConflictError:
        return "conflict"
    finally:
        store.close()


def test_a_stale_edit_from_another_process_conflicts(database: str) -> None:
    with _store(database) as store:
        store.create_user("u", {"name": "Ann"})
        store.set_profile_field("u", "name", "Anne", expected="Ann")
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            assert pool.apply(_stale_edit, (database, "Ann")) == "conflict"
            assert pool.apply(_stale_edit, (database, "Anne")) == "written"
        assert store.get_user_profile("u")["name"] == "from the child"


def test_an_acknowledged_write_survives_an_immediate_stop(tmp_path: Path) -> None:
    from support.pg_server import PgServer

    server = PgServer().start()
    try:
        conninfo = server.new_database()
        with _store(conninfo) as store:
            store.add_message("u", "user", "acknowledged")
            store.add_user_fact("u", "tea", "food")
        server.stop("immediate")  # no checkpoint: the commits are only in the WAL
        server.start()
        with _store(conninfo) as store:
            assert [m["content"] for m in store.get_message_history("u")] == ["acknowledged"]
            assert store.get_user_facts("u") == {"food": ["tea"]}
    finally:
        server.destroy()


def test_the_first_call_after_a_server_restart_succeeds(tmp_path: Path) -> None:
    """The server ends idle sessions when it stops; the store finds its connection gone before the next
    statement (``connect.alive``), not by that statement failing: a window's first read after a restart
    used to fail once."""
    from support.pg_server import PgServer

    server = PgServer().start()
    try:
        conninfo = server.new_database()
        with _store(conninfo) as store:
            store.add_message("u", "user", "before")
            server.stop("fast")
            server.start()
            assert [m["content"] for m in store.get_message_history("u")] == ["before"]  # a read first
            server.stop("fast")
            server.start()
            store.add_message("u", "user", "after")  # and a write first
            assert [m["content"] for m in store.get_message_history("u")] == ["before", "after"]
    finally:
        server.destroy()
