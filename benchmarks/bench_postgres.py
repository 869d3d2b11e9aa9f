"""Durable ``add_message`` on PostgreSQL beside the same server's raw single-row commit rate, in one run.

Starts its own throwaway server (tests/support/pg_server.py: initdb in a temporary folder, Unix socket, fsync
on, synchronous_commit on), then measures for one writer and for 8 writer processes (a user each):

- raw: ``INSERT INTO raw VALUES (...)`` autocommitted, one row per commit (the server's durable commit rate);
- store: ``add_message`` of a short message on a user with a full history (MAX_MESSAGES=100);
- floor: what that call writes, alone: the store's own prepared statements (the user's lock, the message row,
  the metrics document, the oldest row moved to the archive, the change triggers firing) sent as one round trip
  with the commit, with no rule run and nothing read first. No client of this schema can be faster.

The goal is a ratio of 0.5 or more. Then the window (``--users``, default 10,000; 0 skips it): the same users,
written in the v1 layout (``bench_gui.write_users``, cached between runs) and copied into the database with
``copy_store``, opened in the admin window on the folder and on the database (summary cache cold, then warm):
first paint and every column filled, side by side (goal: the database no slower than the folder).
Usage: ``python benchmarks/bench_postgres.py [--seconds 5] [--users 10000] [--cache DIR]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.pg_server import PgServer  # type: ignore[import-not-found]

from memgui.store import build_config, create_memory_store
from memgui.store.backends.postgres import rows as pgrows
from memgui.store.backends.postgres.statements import Batch, prepare
from memgui.store.backends.postgres.store import _LOCK, _PREPARED, PostgresMemoryStore
from memgui.store.config import StoreConfig


def _raw(conninfo: str, seconds: float, worker: int) -> int:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        done = 0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            conn.execute("INSERT INTO raw (worker, body) VALUES (%s, %s)", (worker, "x" * 40))
            done += 1
    return done


def _store(conninfo: str, seconds: float, worker: int) -> int:
    config = build_config({"STORAGE_BACKEND": "postgres", "DATABASE_URL": conninfo, "MAX_MESSAGES": 100,
                           "DEFAULT_TIMEZONE": "UTC"}, environ={})
    with create_memory_store(config) as store:
        uid = f"writer{worker}"
        for i in range(100):  # a full history, as a user of a running assistant has
            store.add_message(uid, "user", f"warm up {i}")
        done = 0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            store.add_message(uid, "user", "hello there, how are you today?")
            done += 1
    return done


def _floor(conninfo: str, seconds: float, worker: int) -> int:
    config = build_config({"STORAGE_BACKEND": "postgres", "DATABASE_URL": conninfo, "MAX_MESSAGES": 100,
                           "DEFAULT_TIMEZONE": "UTC"}, environ={})
    with create_memory_store(config) as store:
        assert isinstance(store, PostgresMemoryStore)
        uid = f"floor{worker}-{os.getpid()}"  # a new user with a full history, whichever run this is
        for i in range(100):
            message = store.add_message(uid, "user", f"warm up {i}")
        metrics = store.get_conversation_metrics(uid)
        with store._connection() as conn:
            prepare(conn, _PREPARED)
            body = conn.execute("SELECT body FROM memgui.documents WHERE user_id = %s AND kind = 'metrics'",
                                (uid,)).fetchone()
            assert body is not None and metrics["message_count"] == 100
            _, plain, text = pgrows.message_row(message, uid)
            done = 0
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                batch = Batch(conn, b"BEGIN")
                batch.run(_LOCK, {"u": uid})
                pgrows.insert_messages(batch, uid, [], [(f"floor-{done}", plain, text)])
                batch.run(pgrows.UPSERT_DOC, {"u": uid, "kind": "metrics", "body": body[0]})
                pgrows.trim_oldest(batch, uid, 1, archive=True)
                batch.command(b"COMMIT")
                batch.send()
                done += 1
    return done


def _rate(target: object, conninfo: str, seconds: float, writers: int) -> float:
    if writers == 1:
        count = target(conninfo, seconds, 0)  # type: ignore[operator]
    else:
        with multiprocessing.get_context("spawn").Pool(writers) as pool:
            count = sum(pool.starmap(target, [(conninfo, seconds, w) for w in range(writers)]))  # type: ignore[arg-type]
    return float(count) / seconds  # each writer counts only within its own window of ``seconds``


def _window(conninfo: str, users: int, cache: Path) -> None:
    """First paint and every column of the users list: a folder (cold, warm cache) beside the database."""
    import bench_gui  # Qt, offscreen: only for this part
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from memgui.store.documents import META_DIR
    from memgui.store.ops.copy import copy_store
    from memgui.store.read.users_summary import CACHE_NAME

    folder = cache / f"users-v1-{users}"
    bench_gui.write_users(folder, users)
    start = time.perf_counter()
    with bench_gui.open_store(folder) as src, create_memory_store(_config(conninfo)) as dst:
        copy_store(src, dst)
    print(f"copied {users:,} users into the database in {time.perf_counter() - start:.1f} s")
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    settings = QSettings(str(cache / "settings.ini"), QSettings.Format.IniFormat)
    (folder / META_DIR / CACHE_NAME).unlink(missing_ok=True)
    figures = {}
    os.environ["XDG_CACHE_HOME"] = str(cache / "xdg")  # where the database's summary cache goes
    for label in ("folder, cold cache", "folder, warm cache", "PostgreSQL, cold cache", "PostgreSQL, warm cache"):
        database = label.startswith("PostgreSQL")
        opened = create_memory_store(_config(conninfo)) if database else bench_gui.open_store(folder)
        with opened as store:
            figures[label] = bench_gui.load_users(app, store, settings, label)
    print(f"\nusers list of {users:,} users: {'':22} first paint   every column")
    for label, got in figures.items():
        print(f"  {label:42} {got['first paint'] * 1e3:8.0f} ms  {got['every column'] * 1e3:10.0f} ms")
    for state in ("cold", "warm"):
        pg, folder_figures = figures[f"PostgreSQL, {state} cache"], figures[f"folder, {state} cache"]
        print(f"  database / folder ({state}): first paint x{pg['first paint'] / folder_figures['first paint']:.2f}, "
              f"every column x{pg['every column'] / folder_figures['every column']:.2f} (goal: at most x1)")


def _config(conninfo: str) -> StoreConfig:
    return build_config({"STORAGE_BACKEND": "postgres", "DATABASE_URL": conninfo, "DEFAULT_TIMEZONE": "UTC"},
                        environ={})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--users", type=int, default=10_000, help="users of the window part (0: skip it)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "memgui-bench")
    args = parser.parse_args()
    server = PgServer().start()
    try:
        conninfo = server.new_database()
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("CREATE TABLE raw (id bigserial PRIMARY KEY, worker int, body text)")
            setting = conn.execute("SHOW synchronous_commit").fetchone()
        create_memory_store(build_config({"STORAGE_BACKEND": "postgres", "DATABASE_URL": conninfo},
                                         environ={})).close()
        print(f"PostgreSQL {server.bin_dir}, synchronous_commit={setting[0] if setting else '?'}, fsync=on")
        for writers in (1, 8):
            raw = _rate(_raw, conninfo, args.seconds, writers)
            store = _rate(_store, conninfo, args.seconds, writers)
            floor = _rate(_floor, conninfo, args.seconds, writers)
            print(f"{writers} writer(s): durable add_message {store:,.0f}/s, raw single-row commit {raw:,.0f}/s, "
                  f"ratio {store / raw:.2f}; floor (its writes alone, one round trip) {floor:,.0f}/s, "
                  f"ratio {floor / raw:.2f}")
        if args.users:
            _window(server.new_database(), args.users, args.cache)
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
