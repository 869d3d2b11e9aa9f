"""Trimming to MAX_MESSAGES into the append-only archive, and the v1 files keeping up with the journal.

The JSON backend acknowledges a message with one journal line and replaces conversation_history.json and
interaction_metrics.json before the call returns (README "How a write survives"). Past ``EAGER_LIMIT`` kept
messages (no history limit, or one above it) the history file is rewritten in batches ("materialization": every
``MATERIALIZE_EVERY`` messages, after the background delay, on ``flush()``, ``close()`` or when the process
exits). Readers through the store see everything at once either way; other writes in between lose and
double-count nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from contract_helpers import read_json, read_jsonl

from memgui.store import JsonMemoryStore, MemoryStore
from memgui.store.backends.json import journal, materializer

ARCHIVE = "conversation_archive.jsonl"


def _add(store: MemoryStore, count: int, start: int = 0, user: str = "u") -> None:
    for i in range(start, start + count):
        store.add_message(user, "user" if i % 2 == 0 else "assistant", f"message {i} " + "w " * (i % 3))


def _contents(messages: list[dict[str, Any]]) -> list[str]:
    return [m["content"].split(" w")[0].strip() for m in messages]


def _names(start: int, stop: int) -> list[str]:
    return [f"message {i}" for i in range(start, stop)]


def _words(count: int) -> int:
    return sum(2 + i % 3 for i in range(count))


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def no_background(monkeypatch: pytest.MonkeyPatch) -> None:
    """The background materializer waits an hour: only the store's own rules write the v1 files."""
    monkeypatch.setattr(materializer, "DELAY", 3600.0)


# -- trimming and the archive (both backends) --------------------------------------------------------------
def test_trimmed_messages_go_to_the_archive_in_order(make_store: Any, backend: str) -> None:
    store = make_store(STORAGE_BACKEND=backend, MAX_MESSAGES=5)
    _add(store, 12)
    assert _contents(store.get_message_history("u")) == _names(7, 12)
    assert _contents(store.get_recent_messages("u")) == _names(7, 12)
    everything = store.get_message_history("u", include_archived=True)
    assert _contents(everything) == _names(0, 12)
    assert len({m["id"] for m in everything}) == 12
    assert all({"id", "role", "word_count", "metadata"} <= set(m) for m in everything)
    assert _contents(store.get_message_history("u", 8, include_archived=True)) == _names(4, 12)
    assert _contents(store.get_message_history("u", 3, include_archived=True)) == _names(9, 12)
    assert _contents(store.get_message_history("u", 0, include_archived=True)) == _names(0, 12)
    metrics = store.get_conversation_metrics("u")
    assert (metrics["message_count"], metrics["total_words"]) == (12, _words(12))


def test_archive_trimmed_false_drops_them_but_counts_them(make_store: Any, backend: str) -> None:
    store = make_store(STORAGE_BACKEND=backend, MAX_MESSAGES=5, ARCHIVE_TRIMMED=False)
    _add(store, 12)
    assert _contents(store.get_message_history("u", include_archived=True)) == _names(7, 12)
    metrics = store.get_conversation_metrics("u")
    assert (metrics["message_count"], metrics["total_words"]) == (12, _words(12))


def test_max_messages_zero_keeps_everything(make_store: Any, backend: str) -> None:
    store = make_store(STORAGE_BACKEND=backend, MAX_MESSAGES=0)
    _add(store, 300)
    assert _contents(store.get_message_history("u")) == _names(0, 300)
    assert _contents(store.get_message_history("u", include_archived=True)) == _names(0, 300)


def test_bulk_import_trims_like_single_messages(make_store: Any, backend: str) -> None:
    store = make_store(STORAGE_BACKEND=backend, MAX_MESSAGES=100)
    _add(store, 3)
    store.add_messages("u", [{"role": "user", "content": f"message {i}"} for i in range(3, 1000)])
    _add(store, 2, start=1000)
    assert _contents(store.get_message_history("u")) == _names(902, 1002)
    assert _contents(store.get_message_history("u", include_archived=True)) == _names(0, 1002)
    assert store.get_conversation_metrics("u")["message_count"] == 1002


# -- the archive file (JSON backend) --------------------------------------------------------------------
def test_archive_file_is_append_only(make_store: Any, data_dir: Path) -> None:
    store = make_store(MAX_MESSAGES=3)
    _add(store, 10)
    store.flush()
    path = data_dir / "u" / ARCHIVE
    first = path.read_bytes()
    assert [m["content"] for m in read_jsonl(path)][:1] == ["message 0 "]
    assert len(read_jsonl(path)) == 7
    _add(store, 10, start=10)
    store.flush()
    second = path.read_bytes()
    assert second.startswith(first), "earlier archive lines are never rewritten"
    assert _contents(read_jsonl(path)) == _names(0, 17)
    history = read_json(data_dir / "u" / "conversation_history.json")["messages"]
    assert _contents(history) == _names(17, 20)


def test_a_smaller_limit_in_a_later_session_archives_the_excess(make_store: Any, data_dir: Path) -> None:
    first = make_store(MAX_MESSAGES=10)
    _add(first, 10)
    first.close()
    second = make_store(MAX_MESSAGES=5)
    _add(second, 1, start=10)
    second.close()
    assert _contents(read_json(data_dir / "u" / "conversation_history.json")["messages"]) == _names(6, 11)
    assert _contents(read_jsonl(data_dir / "u" / ARCHIVE)) == _names(0, 6)
    assert _contents(second.get_message_history("u", include_archived=True)) == _names(0, 11)


@pytest.mark.parametrize("stored", ["json", "postgres"])
@pytest.mark.parametrize("archived", [True, False])
def test_a_lowered_limit_trims_many_at_once_then_one_by_one(make_store: Any, stored: str, archived: bool) -> None:
    """A later session with a smaller MAX_MESSAGES trims the excess in one write (the database moves several
    rows in one statement), and each message after that trims one (its own statement): the order holds."""
    first = make_store(STORAGE_BACKEND=stored, MAX_MESSAGES=10, ARCHIVE_TRIMMED=archived)
    _add(first, 10)
    first.close()
    second = make_store(STORAGE_BACKEND=stored, MAX_MESSAGES=4, ARCHIVE_TRIMMED=archived)
    _add(second, 1, start=10)
    assert _contents(second.get_message_history("u")) == _names(7, 11)
    _add(second, 3, start=11)
    assert _contents(second.get_message_history("u")) == _names(10, 14)
    everything = second.get_message_history("u", include_archived=True)
    assert _contents(everything) == (_names(0, 14) if archived else _names(10, 14))
    assert len({m["id"] for m in everything}) == len(everything)
    assert second.get_conversation_metrics("u")["message_count"] == 14


# -- materialization: the v1 files catch up --------------------------------------------------------------
def _v1_contents(data_dir: Path, user: str = "u") -> list[str]:
    path = data_dir / user / "conversation_history.json"
    return _contents(read_json(path)["messages"]) if path.exists() else []


def _v1_count(data_dir: Path, user: str = "u") -> int:
    path = data_dir / user / "interaction_metrics.json"
    return int(read_json(path).get("message_count", 0)) if path.exists() else 0


@pytest.mark.usefixtures("no_background")
def test_every_reader_sees_every_message_at_once(make_store: Any, data_dir: Path) -> None:
    writer, reader = make_store(MAX_MESSAGES=5), make_store(MAX_MESSAGES=5)
    writer.get_or_create_user("u")
    for i in range(12):
        _add(writer, 1, start=i)
        assert _contents(reader.get_message_history("u", include_archived=True)) == _names(0, i + 1)
        assert _contents(reader.get_message_history("u")) == _names(max(0, i - 4), i + 1)
        assert reader.get_conversation_metrics("u")["message_count"] == i + 1
        assert _contents(writer.get_message_history("u", include_archived=True)) == _names(0, i + 1)


@pytest.mark.usefixtures("no_background")
@pytest.mark.parametrize("how", ["flush", "close"])
def test_v1_files_catch_up_on_flush_and_close(make_store: Any, data_dir: Path, how: str) -> None:
    store = make_store(MAX_MESSAGES=5)
    store.get_or_create_user("u")
    _add(store, 8)
    getattr(store, how)()
    assert _v1_contents(data_dir) == _names(3, 8)
    assert _v1_count(data_dir) == 8
    assert _contents(read_jsonl(data_dir / "u" / ARCHIVE)) == _names(0, 3)


@pytest.mark.usefixtures("no_background")
def test_other_writes_between_messages_lose_and_double_count_nothing(make_store: Any, data_dir: Path) -> None:
    store, reader = make_store(MAX_MESSAGES=4), make_store(MAX_MESSAGES=4)
    writes: list[Callable[[], object]] = [
        lambda: store.add_user_fact("u", "likes tea", "food"),
        lambda: store.update_user_profile("u", {"bio": "x"}),
        lambda: store.update_conversation_metrics("u", {"sentiment": 0.5}),
        lambda: store.store_permanent_memory("u", "met", "first_meeting"),
        lambda: store.update_streak("u", datetime(2030, 1, 1, tzinfo=timezone.utc)),
        lambda: store.update_user_fact("u", "food", "likes tea", "likes green tea"),
        lambda: store.set_profile_field("u", "city", "Oslo"),
    ]
    count = 0
    for write in writes:
        _add(store, 3, start=count)
        count += 3
        write()
        assert _contents(reader.get_message_history("u", include_archived=True)) == _names(0, count)
        metrics = reader.get_conversation_metrics("u")
        assert (metrics["message_count"], metrics["total_words"]) == (count, _words(count))
    store.flush()
    assert _v1_contents(data_dir) == _names(count - 4, count)
    assert _contents(read_jsonl(data_dir / "u" / ARCHIVE)) == _names(0, count - 4)
    on_disk = read_json(data_dir / "u" / "interaction_metrics.json")
    assert (on_disk["message_count"], on_disk["total_words"], on_disk["sentiment"]) == (count, _words(count), 0.5)
    assert store.get_user_facts("u") == {"food": ["likes green tea"]}


@pytest.mark.usefixtures("no_background")
def test_v1_files_catch_up_every_batch(make_store: Any, data_dir: Path) -> None:
    batch = journal.MATERIALIZE_EVERY
    store = make_store(MAX_MESSAGES=0)
    store.get_or_create_user("u")
    _add(store, batch)
    assert _v1_contents(data_dir) == _names(0, batch)
    assert _v1_count(data_dir) == batch


def test_v1_files_catch_up_after_the_background_delay(make_store: Any, data_dir: Path) -> None:
    store = make_store(MAX_MESSAGES=5)
    store.get_or_create_user("u")
    _add(store, 8)
    _wait_for(lambda: _v1_contents(data_dir) == _names(3, 8) and _v1_count(data_dir) == 8,
              "the background materializer")
    assert _contents(read_jsonl(data_dir / "u" / ARCHIVE)) == _names(0, 3)


def test_v1_files_catch_up_when_the_process_exits(tmp_path: Path, data_dir: Path) -> None:
    code = (
        "import sys\n"
        "from memgui.store import JsonMemoryStore\nfrom memgui.store.backends.json import materializer\n"
        "materializer.DELAY = 3600.0\n"
        "store = JsonMemoryStore({'DATA_DIR': sys.argv[1], 'DEFAULT_TIMEZONE': 'UTC'})\n"
        "store.get_or_create_user('u')\n"
        "for i in range(4):\n"
        "    store.add_message('u', 'user', f'message {i}')\n"
        "# no flush, no close: the process just ends\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code, str(data_dir)], check=True, env=env, timeout=120)
    assert _v1_contents(data_dir) == _names(0, 4)
    assert _v1_count(data_dir) == 4


def test_history_read_straight_after_writes_matches_the_files_later(make_store: Any, data_dir: Path) -> None:
    store: JsonMemoryStore = make_store(MAX_MESSAGES=4)
    _add(store, 9)
    seen = store.get_message_history("u", include_archived=True)
    store.close()
    reopened = make_store(MAX_MESSAGES=4)
    assert reopened.get_message_history("u", include_archived=True) == seen
    on_disk = read_jsonl(data_dir / "u" / ARCHIVE) + read_json(data_dir / "u" / "conversation_history.json")["messages"]
    assert [m["id"] for m in on_disk] == [m["id"] for m in seen]


def test_a_writing_users_padded_journal_reads_and_verifies(tmp_path: Path) -> None:
    """Durable message records leave zero padding after them (faster fdatasync), grown again each time a
    record reaches past it; readers, other processes' writers and verify see only the records."""
    from memgui.store import JsonMemoryStore, build_config
    from memgui.store.backends.json.journal import SLACK
    from memgui.store.ops.verify import verify_store

    config = build_config({"DATA_DIR": tmp_path, "MAX_MESSAGES": 50}, environ={})
    writer, reader = JsonMemoryStore(config), JsonMemoryStore(config)
    writer.add_message("busy", "user", "first")  # a new user's first message goes into the files
    long_text = "x" * 1500
    count = 2 * SLACK // len(long_text) + 3  # past the padding twice, before MATERIALIZE_EVERY
    for i in range(count):
        writer.add_message("busy", "user", f"m{i} {long_text}")
    journal = writer.layout.journal(writer.layout.user_dir("busy"))
    assert journal.stat().st_size > 2 * SLACK
    assert journal.read_bytes().endswith(bytes(1024))  # padded
    expected = ["first"] + [f"m{i} {long_text}" for i in range(count)]
    assert [m["content"] for m in reader.get_message_history("busy", include_archived=True)] == expected
    reader.add_message("busy", "assistant", "from another store object")
    writer.add_message("busy", "user", "and back")
    contents = [m["content"] for m in JsonMemoryStore(config).get_message_history("busy", 2)]
    assert contents == ["from another store object", "and back"]
    assert verify_store(tmp_path).ok
    writer.close()
    reader.close()
    assert journal.stat().st_size < 1024  # quiet again: the flush leaves a journal without padding


def test_the_message_hot_path_asks_for_no_timestamp_of_the_journal(tmp_path: Path, monkeypatch) -> None:
    """On Linux 6.13+ a stat of a file makes its next write stamp a fine-grained time, and the fdatasync
    after it then costs about 1.4x: add_message must neither stat nor fstat the journal it appends to."""
    from memgui.store import JsonMemoryStore, build_config

    store = JsonMemoryStore(build_config({"DATA_DIR": tmp_path}, environ={}))
    store.add_message("u", "user", "one")
    store.add_message("u", "user", "two")  # the journal exists and is open
    journal = str(store.layout.journal(store.layout.user_dir("u")))
    fds: set[int] = set()
    real_open, real_close, real_stat, real_fstat = os.open, os.close, os.stat, os.fstat

    def tracking_open(path, *args, **kwargs):
        fd = real_open(path, *args, **kwargs)
        if os.fspath(path) == journal:
            fds.add(fd)
        return fd

    def tracking_close(fd):  # its number goes to the next file opened (the v1 files' temporary ones)
        fds.discard(fd)
        return real_close(fd)

    me = threading.current_thread()  # other threads of the test session go by unchecked

    def guarded_stat(path, *args, **kwargs):
        assert threading.current_thread() is not me or os.fspath(path) != journal, "stat of the journal"
        return real_stat(path, *args, **kwargs)

    def guarded_fstat(fd):
        assert threading.current_thread() is not me or fd not in fds, "fstat of the journal"
        return real_fstat(fd)

    monkeypatch.setattr(os, "open", tracking_open)
    monkeypatch.setattr(os, "close", tracking_close)
    monkeypatch.setattr(os, "stat", guarded_stat)
    monkeypatch.setattr(os, "fstat", guarded_fstat)
    monkeypatch.setattr(os, "lstat", guarded_stat)
    monkeypatch.setattr(store._materializer, "schedule", lambda folder, user_id: None)  # no idle flush meanwhile
    for i in range(20):
        store.add_message("u", "assistant" if i % 2 else "user", f"message {i}")
    monkeypatch.undo()
    assert [m["content"] for m in store.get_message_history("u", 3)] == ["message 17", "message 18", "message 19"]
    store.close()


def test_archive_dedupe_sees_appends_made_by_others(tmp_path: Path) -> None:
    """The ids of the archive's tail are kept between this process's appends; a line another process added
    in between (the file changed) is read, so a batch repeated after a kill is still stored once."""
    from memgui.store import build_config
    from memgui.store.documents import message_id

    store = JsonMemoryStore(build_config({"DATA_DIR": tmp_path}, environ={}))
    store.add_message("u", "user", "hello")
    folder = store.layout.user_dir("u")
    files = store.files
    batch = [{"content": f"m{i}", "timestamp": "2025-01-01T00:00:00+00:00", "is_user": True, "id": f"id{i}"}
             for i in range(6)]
    files.append_log(folder, "archive", batch[:2], window=10)
    files.append_log(folder, "archive", batch[:3], window=10)  # m0, m1 already there (kept ids)
    other = JsonMemoryStore(build_config({"DATA_DIR": tmp_path}, environ={}))
    other.files.append_log(folder, "archive", batch[3:5], window=10)  # another writer: m3, m4
    files.append_log(folder, "archive", batch, window=10)  # only m5 is new
    archive = folder / ARCHIVE
    assert [message_id(entry) for entry in read_jsonl(archive)] == [f"id{i}" for i in range(6)]
    store.close()
    other.close()
