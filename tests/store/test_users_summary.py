"""The users list's summary cache (memgui/store/read/users_summary.py) on real folders and processes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest

from memgui.store import JsonMemoryStore, MemoryStore, build_config
from memgui.store.backends.json import files as files_module
from memgui.store.backends.json import layout as layout_module
from memgui.store.backends.memory import InMemoryStore
from memgui.store.documents import META_DIR, USER_FILES
from memgui.store.ids import folder_for
from memgui.store.read.users_summary import (
    CACHE_NAME,
    SummaryCache,
    UserRow,
    current_streaks,
    read_row,
    read_rows,
)


def _store(path: Path) -> JsonMemoryStore:
    return JsonMemoryStore(build_config({"DATA_DIR": path, "DEFAULT_TIMEZONE": "UTC"}, environ={}))


def _fill(path: Path) -> None:
    store = _store(path)
    for uid, name in (("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")):
        store.update_user_profile(uid, {"name": name})
        store.add_message(uid, "user", f"hello from {name}")
    store.close()


def _all_rows(cache: SummaryCache, store: MemoryStore) -> dict[str, UserRow]:
    return {row.user_id: row for rows in cache.rows_for(store.get_all_users(), 2) for row in rows}


def _with_cache_file(path: Path) -> JsonMemoryStore:
    """A store of three users whose cache file holds every row."""
    _fill(path)
    store = _store(path)
    cache = SummaryCache(store, persist=True)
    _all_rows(cache, store)
    cache.save()
    return store


def test_only_the_user_another_process_wrote_is_read_again(tmp_path: Path) -> None:
    _fill(tmp_path / "s")
    store = _store(tmp_path / "s")
    first = SummaryCache(store, persist=True)
    rows = _all_rows(first, store)
    assert first.reread == 3 and rows["bob"].name == "Bob" and rows["bob"].messages == 1
    first.save()
    assert (tmp_path / "s" / META_DIR / CACHE_NAME).is_file()
    store.close()

    code = ("import sys; from memgui.store import JsonMemoryStore, build_config; "
            "s = JsonMemoryStore(build_config({'DATA_DIR': sys.argv[1], 'DEFAULT_TIMEZONE': 'UTC'}, environ={})); "
            "s.add_message('bob', 'user', 'again'); s.update_user_profile('bob', {'name': 'Robert'}); s.close()")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "s")], check=True)

    store = _store(tmp_path / "s")
    warm = SummaryCache(store, persist=True)
    warm.load()
    rows = _all_rows(warm, store)
    assert warm.reread == 1  # bob alone
    assert rows["bob"] == read_row(store, "bob") and rows["bob"].name == "Robert" and rows["bob"].messages == 2
    assert rows["alice"] == read_row(store, "alice")
    warm.save()
    again = SummaryCache(store, persist=True)
    again.load()
    assert _all_rows(again, store)["bob"].name == "Robert" and again.reread == 0  # the file holds the new row
    store.close()


def test_a_damaged_cache_file_is_ignored_and_rebuilt(tmp_path: Path) -> None:
    _fill(tmp_path / "s")
    store = _store(tmp_path / "s")
    path = tmp_path / "s" / META_DIR / CACHE_NAME
    wrong_types = (b'{"format":2,"zone":"UTC","store":""}\n'  # the right shape, a count that is text
                   b'["alice","1:2:3","Alice","UTC",null,"",-1.0,"many",0,null,null,0,null]\n')
    for garbage in (b"\x00\xffnot json", b'{"format":1,"zone":"UTC"}\n["alice",[1,2],[3]]\n', b"[]", wrong_types):
        path.write_bytes(garbage)
        cache = SummaryCache(store, persist=True)
        cache.load()
        assert cache.rows == {}
        rows = _all_rows(cache, store)
        assert cache.reread == 3 and rows["carol"].name == "Carol"
        cache.save()
        rebuilt = SummaryCache(store, persist=True)
        rebuilt.load()
        assert set(rebuilt.rows) == {"alice", "bob", "carol"}
    store.close()


def test_a_cache_file_of_the_previous_format_is_read_again_and_replaced(tmp_path: Path) -> None:
    store = _with_cache_file(tmp_path / "s")
    path = tmp_path / "s" / META_DIR / CACHE_NAME
    current = path.read_bytes().split(b"\n")
    assert json.loads(current[0])["format"] == 2
    uid, sig, *values = json.loads(current[1])
    assert uid == "alice"
    assert isinstance(sig, str) and len(values) == len(UserRow._fields) - 1
    # What the previous release wrote for the same rows: its signature a list of numbers, the row nested.
    old = [json.dumps({**json.loads(current[0]), "format": 1})]
    old += [json.dumps([u, [int(n) for n in g.split(":")], [u, *v]]) for u, g, *v in map(json.loads, current[1:-1])]
    path.write_text("\n".join(old) + "\n")
    cache = SummaryCache(store, persist=True)
    cache.load()
    assert cache.rows == {} and cache.dirty
    assert _all_rows(cache, store)["alice"] == read_row(store, "alice") and cache.reread == 3
    cache.save()
    assert path.read_bytes() == b"\n".join(current)  # the same rows, in this format
    store.close()


def test_the_cache_file_read_in_small_steps_gives_the_rows_of_one_read(tmp_path: Path) -> None:
    store = _with_cache_file(tmp_path / "s")
    whole, steps = SummaryCache(store, persist=True), SummaryCache(store, persist=True)
    whole.load()
    assert len(list(steps.load_steps(chunk=1))) == 3  # a line a step: no step parses the whole file
    assert steps.rows == whole.rows and set(whole.rows) == {"alice", "bob", "carol"}
    path = tmp_path / "s" / META_DIR / CACHE_NAME
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join([*lines[:2], lines[2][:-3], *lines[3:]]))  # a row cut short in the middle
    cut = SummaryCache(store, persist=True)
    cut.load()
    assert cut.rows == {} and cut.dirty  # ignored, and written again by the next save
    store.close()


def test_the_cache_file_written_in_steps_equals_one_write_and_a_save_cut_short_is_done_again(tmp_path: Path) -> None:
    store = _with_cache_file(tmp_path / "s")
    path = tmp_path / "s" / META_DIR / CACHE_NAME
    whole = path.read_bytes()
    path.unlink()
    cache = SummaryCache(store, persist=True)
    _all_rows(cache, store)
    assert len(list(cache.save_steps(rows_per_step=1))) == 4 and not cache.dirty  # the folders listed, a row a step
    assert path.read_bytes() == whole
    path.unlink()
    cache.dirty = True
    steps = cache.save_steps(rows_per_step=1)
    next(steps)
    steps.close()  # a job dropped half-way: nothing written, and still to be written
    assert not path.exists() and cache.dirty
    steps = cache.save_steps(rows_per_step=1)
    next(steps)
    cache.forget({"alice", "bob"})  # a change while the steps run: written by the next save
    list(steps)
    assert path.exists() and cache.dirty
    cache.save()
    again = SummaryCache(store, persist=True)
    again.load()
    assert set(again.rows) == {"alice", "bob"}
    store.close()


def test_reading_every_user_keeps_the_path_memos_small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scan of every user passes each path once: the memos start afresh at ``MEMO_ENTRIES`` (a memo of
    200,000 paths took 100 ms to clear, in one call holding the GIL) and the answers stay right."""
    monkeypatch.setattr(files_module, "MEMO_ENTRIES", 5)
    monkeypatch.setattr(layout_module, "MEMO_ENTRIES", 5)
    store = _store(tmp_path / "s")
    for k in range(12):
        store.update_user_profile(f"user{k}", {"name": f"Name {k}"})
    store.close()
    store = _store(tmp_path / "s")
    rows = read_rows(store, store.get_all_users())
    assert [row.name for row in rows] == [f"Name {k}" for k in sorted(range(12), key=lambda k: f"user{k}")]
    assert 0 < len(store.files._paths) <= 5 and 0 < len(store.layout._folders) <= 5
    assert rows == [read_row(store, uid) for uid in store.get_all_users()]
    store.close()


def test_read_only_and_encrypted_stores_write_no_cache_file(tmp_path: Path) -> None:
    _fill(tmp_path / "s")
    store = _store(tmp_path / "s")
    cache = SummaryCache(store, persist=False)  # a read-only window
    _all_rows(cache, store)
    cache.save()
    assert not (tmp_path / "s" / META_DIR / CACHE_NAME).exists()
    store.close()
    secret = JsonMemoryStore(build_config({"DATA_DIR": tmp_path / "e", "DEFAULT_TIMEZONE": "UTC",
                                           "ENCRYPTION_ENABLED": True, "ENCRYPTION_KEY": "a long passphrase"},
                                          environ={}))
    secret.update_user_profile("dora", {"name": "Dora the secret"})
    cache = SummaryCache(secret, persist=True)
    assert _all_rows(cache, secret)["dora"].name == "Dora the secret"
    cache.save()
    assert not (tmp_path / "e" / META_DIR / CACHE_NAME).exists()
    assert not any(b"Dora the secret" in p.read_bytes() for p in (tmp_path / "e").rglob("*") if p.is_file())
    secret.close()


def test_erasing_a_user_removes_their_row_from_the_cache_file(tmp_path: Path) -> None:
    store = _with_cache_file(tmp_path / "s")
    cache = SummaryCache(store, persist=True)
    cache.load()
    assert "bob" in cache.rows
    store.erase_user("bob")
    SummaryCache.forget_on_disk(store, "bob")
    assert b"Bob" not in (tmp_path / "s" / META_DIR / CACHE_NAME).read_bytes()
    cache.save()  # a stale in-memory row of an erased user is not written back either
    cache.dirty = True
    cache.save()
    assert b"Bob" not in (tmp_path / "s" / META_DIR / CACHE_NAME).read_bytes()
    store.close()


def test_a_store_without_a_folder_is_read_each_time() -> None:
    store = InMemoryStore(build_config({"DEFAULT_TIMEZONE": "UTC", "STORAGE_BACKEND": "memory"}, environ={}))
    store.update_user_profile("eve", {"name": "Eve"})
    cache = SummaryCache(store, persist=True)
    assert _all_rows(cache, store)["eve"].name == "Eve"
    store.update_user_profile("eve", {"name": "Eve B"})
    assert _all_rows(cache, store)["eve"].name == "Eve B" and cache.reread == 1


def test_the_current_streak_follows_the_day_it_is_asked_on() -> None:
    row = UserRow("u", run_start="2026-03-01", run_end="2026-03-05", longest=9)
    at = datetime(2026, 3, 6, 12, tzinfo=timezone.utc)
    assert current_streaks([row, UserRow("v")], at, timezone.utc) == [5, 0]  # continued by yesterday; no run
    assert current_streaks([row], at + timedelta(days=1), timezone.utc) == [0]  # a day was missed


def _damage(store: MemoryStore, backend: str, user_id: str) -> None:
    """Make ``user_id``'s metrics unreadable, as a disk or a hand edit would."""
    if backend == "json":
        folder = store.folder()
        assert folder is not None
        (folder / folder_for(user_id) / USER_FILES["metrics"]).write_text("{ not json")
    else:
        with psycopg.connect(store.config.DATABASE_URL, autocommit=True) as conn:
            conn.execute("UPDATE memgui.documents SET body = '{ not json' WHERE user_id = %s AND kind = 'metrics'",
                         (user_id,))


def test_rows_read_in_bulk_equal_rows_read_one_by_one(any_store: MemoryStore, backend: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    store = any_store
    day = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    for n in range(5):
        uid = f"user{n}"
        store.update_user_profile(uid, {"name": f"Name {n}", "timezone": "Asia/Tokyo" if n % 2 else "UTC"})
        for d in range(n + 1):
            store.add_message(uid, "user", f"day {d}", timestamp=(day + timedelta(days=d)).isoformat())
            store.update_streak(uid, day + timedelta(days=d))
        store.add_user_fact(uid, "food", f"likes dish {n}")
    if backend != "memory":
        _damage(store, backend, "user3")
    ids = [*store.get_all_users(), "nobody"]
    one_by_one = [read_row(store, uid) for uid in ids]
    assert one_by_one[1].messages == 2 and one_by_one[1].facts == 1 and one_by_one[1].zone
    if backend != "memory":
        assert one_by_one[3].error and "metrics" in one_by_one[3].error and one_by_one[3].name == "Name 3"
    if backend == "postgres":  # one statement for all of them: a read of one document would fail here
        monkeypatch.setattr(store, "_read_doc", lambda *_: pytest.fail("read one document at a time"))
    assert read_rows(store, ids) == one_by_one


def test_a_database_cache_reads_again_only_the_user_another_process_wrote(
        make_store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    store = make_store(STORAGE_BACKEND="postgres")
    for uid in ("alice", "bob", "carol"):
        store.update_user_profile(uid, {"name": uid.title()})
        store.add_message(uid, "user", "hello")
    first = SummaryCache(store, persist=True)
    assert _all_rows(first, store)["bob"].messages == 1 and first.reread == 3
    first.save()
    assert first.path is not None and first.path.is_file()
    assert first.path.parent == tmp_path / "cache" / "memgui" / "summaries"

    other = make_store(STORAGE_BACKEND="postgres")  # another connection: another process as far as rows go
    other.add_message("bob", "user", "again")
    warm = SummaryCache(store, persist=True)
    warm.load()
    assert warm.stale(store.get_all_users()) == ["bob"]
    rows = _all_rows(warm, store)
    assert warm.reread == 1 and rows["bob"].messages == 2 and rows["alice"].name == "Alice"

    store.erase_user("carol")
    SummaryCache.forget_on_disk(store, "carol")
    assert b"carol" not in first.path.read_bytes() and b"alice" in first.path.read_bytes()
