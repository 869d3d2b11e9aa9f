"""memgui.store.read.conversation: the whole conversation (archive + recent) with random access, built in chunks."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from memgui.demo import generate
from memgui.store import InMemoryStore, JsonMemoryStore, build_config
from memgui.store.read.conversation import Conversation


def _store(path: Path, **extra: object) -> JsonMemoryStore:
    return JsonMemoryStore(build_config({"DATA_DIR": path, "DEFAULT_TIMEZONE": "UTC", "DURABLE_WRITES": False,
                                         "MAX_MESSAGES": 10, **extra}, environ={}))


def _fill(store: JsonMemoryStore, uid: str, count: int, start: int = 0) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    store.add_messages(uid, [{"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i}",
                              "timestamp": (t0 + timedelta(hours=i)).isoformat()} for i in range(start, start + count)])


def _open(store: object, uid: str) -> Conversation:
    conv = Conversation(store, uid)  # type: ignore[arg-type]
    conv.open()
    for _ in conv.index_steps(chunk=4096):
        pass
    return conv


def _texts(conv: Conversation) -> list[str]:
    return [e.message["content"] for e in conv.entries(0, len(conv)) if e.message]


def test_whole_conversation_matches_the_store_in_order(tmp_path: Path) -> None:
    store = _store(tmp_path / "d")
    _fill(store, "ann", 500)
    for i in range(500, 530):  # some through the journal, not yet materialized
        store.add_message("ann", "user", f"message {i}", timestamp=f"2026-02-01T00:{i - 500:02d}:00+00:00")
    conv = _open(store, "ann")
    expected = [m["content"] for m in store.get_message_history("ann", include_archived=True)]
    assert len(expected) == 530
    assert _texts(conv) == expected
    assert conv.archive_rows > 400


def test_tail_first_then_older_rows_in_front(tmp_path: Path) -> None:
    store = _store(tmp_path / "d")
    _fill(store, "ann", 20_000)
    conv = Conversation(store, "ann")
    conv.open()
    shown_first = len(conv)
    assert 0 < shown_first < 20_000 and not conv.indexed
    newest = conv.entries(shown_first - 1, shown_first)[0].message
    steps = list(conv.index_steps(chunk=64 << 10))
    assert len(steps) > 3 and steps[-1][0] == steps[-1][1]  # progress reported in chunks, up to the total
    assert conv.indexed and len(conv) == 20_000
    assert conv.entries(19_999, 20_000)[0].message == newest
    assert conv.entries(0, 1)[0].message["content"] == "message 0"


def test_line_being_written_is_ignored_and_damaged_line_is_a_row_error(tmp_path: Path) -> None:
    store = _store(tmp_path / "d")
    _fill(store, "ann", 40)
    archive = store.layout.user_dir("ann") / "conversation_archive.jsonl"
    lines = archive.read_bytes().split(b"\n")
    lines[3] = b'{"content": "torn'
    archive.write_bytes(b"\n".join(lines) + b'{"content": "half a line, no newline yet"')
    conv = _open(store, "ann")
    entries = conv.entries(0, len(conv))
    assert len(entries) == 40  # the unterminated tail is not a row
    assert entries[3].message is None and "line 4" in (entries[3].error or "")
    assert entries[4].message["content"] == "message 4"


def test_message_in_archive_and_history_shows_once(tmp_path: Path) -> None:
    store = _store(tmp_path / "d")
    _fill(store, "ann", 25)
    folder = store.layout.user_dir("ann")
    history = json.loads((folder / "conversation_history.json").read_text())
    with (folder / "conversation_archive.jsonl").open("a") as f:  # trimmed between two reads
        f.write(json.dumps(history["messages"][0]) + "\n")
    conv = _open(store, "ann")
    assert _texts(conv) == [f"message {i}" for i in range(25)]


def test_search_forward_backward_wraps_and_finds_only_content(tmp_path: Path) -> None:
    store = _store(tmp_path / "d")
    _fill(store, "ann", 300)
    conv = _open(store, "ann")
    hits = list(conv.search_steps("MESSAGE 12", 0, rows_per_step=50))
    assert hits[-1].done and hits[-1].row == 12
    assert list(conv.search_steps("message 12", 13, rows_per_step=50))[-1].row == 120  # next after 12
    assert list(conv.search_steps("message 12", 11, backward=True, rows_per_step=50))[-1].row == 129  # wraps
    assert list(conv.search_steps("message 299", 0, rows_per_step=7))[-1].row == 299  # in the recent history
    assert list(conv.search_steps("assistant", 0))[-1].row is None  # the role is not the text
    assert list(conv.search_steps("timestamp", 0))[-1].row is None  # nor are the JSON keys


def test_search_escaped_text_and_encrypted_store(tmp_path: Path) -> None:
    store = _store(tmp_path / "e", ENCRYPTION_ENABLED=True, ENCRYPTION_KEY="k")
    store.add_messages("bo", [{"role": "user", "content": t} for t in ["a \"quoted\" word", "line\nbreak", "x"] * 10])
    conv = _open(store, "bo")
    assert conv.archive_rows > 0
    assert list(conv.search_steps('"quoted"', 0))[-1].row == 0
    assert list(conv.search_steps("line\nbr", 2))[-1].row == 4
    assert _texts(conv)[1] == "line\nbreak"


def test_row_for_date_in_the_users_zone(tmp_path: Path) -> None:
    store = _store(tmp_path / "d")
    store.create_user("ann", {"timezone": "UTC-5"})
    _fill(store, "ann", 100)  # one message an hour from 2026-01-01 00:00 UTC
    conv = _open(store, "ann")
    # 2026-01-02 00:00 at UTC-5 is 05:00 UTC: message 29.
    assert conv.row_for_date(date(2026, 1, 2)) == 29
    assert conv.entries(29, 30)[0].message["content"] == "message 29"
    assert conv.row_for_date(date(2030, 1, 1)) == 100


def test_refresh_appends_new_messages(tmp_path: Path) -> None:
    store = _store(tmp_path / "d")
    _fill(store, "ann", 50)
    conv = _open(store, "ann")
    _fill(store, "ann", 30, start=50)
    store.add_message("ann", "user", "journal only")
    assert conv.refresh() == 31
    assert _texts(conv)[-1] == "journal only" and len(conv) == 81
    store.erase_user("ann")
    assert conv.refresh() is None


def test_backend_without_files(tmp_path: Path) -> None:
    store = InMemoryStore()
    store.add_messages("ann", [{"role": "user", "content": f"m{i}"} for i in range(150)])
    conv = _open(store, "ann")
    assert len(conv) == 150 and _texts(conv)[0] == "m0"


@pytest.mark.parametrize("count", [200_000])
def test_big_archive_indexes_in_chunks_without_loading_it(tmp_path: Path, count: int) -> None:
    store = generate(tmp_path / "big", users=1, messages_per_user=count, damaged=False)
    uid = store.get_all_users()[0]
    conv = Conversation(store, uid)
    conv.open()
    steps = sum(1 for _ in conv.index_steps())
    assert steps >= 2 and len(conv) == count
    assert conv.entries(0, 1)[0].message is not None
    assert conv.entries(count - 1, count)[0].message["id"] == store.get_message_history(uid, 1)[0]["id"]
    assert conv._offsets.nbytes < 16 * count  # an index of offsets, not the messages
    hit = list(conv.search_steps("Lisbon", count - 1, backward=True))[-1]
    assert hit.row is not None and "Lisbon" in conv.entries(hit.row, hit.row + 1)[0].message["content"]
