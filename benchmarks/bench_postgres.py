"""Durable ``add_message`` on PostgreSQL beside the same server's raw single-row commit rate, in one run.

Starts its own throwaway server (tests/support/pg_server.py: initdb in a temporary folder, Unix socket, fsync
on, synchronous_commit on), then measures for one writer and for 8 writer processes (a user each):

- raw: ``INSERT INTO raw VALUES (...)`` autocommitted, one row per commit (the server's durable commit rate);
- store: ``add_message`` of a short message on a user with a full history (MAX_MESSAGES=100).

The goal is a ratio of 0.5 or more. Usage: ``python benchmarks/bench_postgres.py [--seconds 5]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.pg_server import PgServer  # type: ignore[import-not-found]

from memgui.store import build_config, create_memory_store


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


def _rate(target: object, conninfo: str, seconds: float, writers: int) -> float:
    if writers == 1:
        count = target(conninfo, seconds, 0)  # type: ignore[operator]
    else:
        with multiprocessing.get_context("spawn").Pool(writers) as pool:
            count = sum(pool.starmap(target, [(conninfo, seconds, w) for w in range(writers)]))  # type: ignore[arg-type]
    return float(count) / seconds  # each writer counts only within its own window of ``seconds``


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
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
            print(f"{writers} writer(s): durable add_message {store:,.0f}/s, raw single-row commit {raw:,.0f}/s, "
                  f"ratio {store / raw:.2f}")
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
