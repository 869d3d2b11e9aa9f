"""StoreWatcher against real writer processes: the right signals with the right ids, nothing lost, no storms.

Writers are separate processes (``workers/store_writer.py``). "Nothing was emitted" is checked without
sleeping: a sentinel write to the global context goes through the same watcher after the change under test,
so once ``globalChanged`` arrived, every earlier event has been handled.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Slot
from pytestqt.qtbot import QtBot
from support.writer_process import Writer

from memgui.models.watcher import POLL_MIN_SLICE, StoreWatcher
from memgui.store import JsonMemoryStore, build_config, fileio

WAIT_MS = 5000
KEY = "watcher test passphrase"



class Recorder(QObject):
    """Every emission of a watcher with its wall time; ``reader`` (optional) is re-read on userChanged."""

    def __init__(self, watcher: StoreWatcher, reader: JsonMemoryStore | None = None) -> None:
        super().__init__(watcher)
        self.reader = reader
        self.users: list[tuple[float, str]] = []
        self.lists: list[float] = []
        self.globals: list[float] = []
        self.facts_seen: list[int] = []
        watcher.userChanged.connect(self.on_user)
        watcher.usersChanged.connect(self.on_users)
        watcher.globalChanged.connect(self.on_global)

    @Slot(str)
    def on_user(self, user_id: str) -> None:
        self.users.append((time.time(), user_id))
        if self.reader is not None:
            self.facts_seen.append(sum(map(len, self.reader.get_user_facts(user_id).values())))

    @Slot()
    def on_users(self) -> None:
        self.lists.append(time.time())

    @Slot()
    def on_global(self) -> None:
        self.globals.append(time.time())

    def ids(self) -> list[str]:
        return [user_id for _, user_id in self.users]


def open_store(data_dir: Path, key: str | None = None) -> JsonMemoryStore:
    overrides: dict[str, Any] = {"DATA_DIR": data_dir, "DEFAULT_TIMEZONE": "UTC", "DURABLE_WRITES": False}
    if key:
        overrides.update(ENCRYPTION_ENABLED=True, ENCRYPTION_KEY=key)
    return JsonMemoryStore(build_config(overrides, environ={}))


@pytest.fixture
def writers() -> Iterator[list[Writer]]:
    started: list[Writer] = []
    yield started
    for writer in started:
        writer.close()


@pytest.fixture
def parent() -> Iterator[QObject]:
    owner = QObject()
    yield owner
    owner.deleteLater()


def start(qtbot: QtBot, parent: QObject, store: JsonMemoryStore, poll_ms: int = 0) -> StoreWatcher:
    """A watcher (poll off unless asked: events alone must carry the tests) that is ready."""
    watcher = StoreWatcher.for_source(store.change_source(), parent, poll_interval_ms=poll_ms)
    qtbot.waitUntil(lambda: watcher.is_ready, timeout=WAIT_MS)
    return watcher


def sentinel(qtbot: QtBot, watcher: StoreWatcher, writer: Writer, n: int = 0) -> None:
    """Returns once every event queued before it has been handled."""
    with qtbot.waitSignal(watcher.globalChanged, timeout=WAIT_MS):
        writer.call("set_global", key="sentinel", value=n)


@pytest.fixture
def seeded(data_dir: Path) -> JsonMemoryStore:
    """alice and bob with a message each, and a global context entry, in a store of this process."""
    store = open_store(data_dir)
    for user in ("alice", "bob"):
        store.add_message(user, "user", f"hello from {user}")
    store.set_global_context("sentinel", -1)
    store.flush()
    return store


def handful(times: list[float]) -> int:
    """The reloads a burst of writes at ``times`` may cost: the first, one per 150 ms (the longest a stream
    is held back), and one per pause longer than the 30 ms quiet time (a loaded machine may space the
    writes out: then they are no longer one burst)."""
    pauses = sum(b - a > 0.025 for a, b in itertools.pairwise(times))
    return 2 + math.ceil((times[-1] - times[0]) / 0.15) + pauses


def signal_for(user: str) -> Any:
    def check(user_id: str) -> bool:
        return user_id == user
    return check


def test_message_from_another_process_reports_only_that_user(qtbot: QtBot, parent: QObject, seeded:
                                                             JsonMemoryStore, data_dir: Path,
                                                             writers: list[Writer]) -> None:
    watcher = start(qtbot, parent, seeded)
    rec = Recorder(watcher)
    writers.append(writer := Writer(data_dir))
    with qtbot.waitSignal(watcher.userChanged, check_params_cb=signal_for("alice"), timeout=WAIT_MS):
        writer.call("add_message", user="alice", content="a new message")
    sentinel(qtbot, watcher, writer)
    assert set(rec.ids()) == {"alice"}
    assert rec.lists == []


def test_new_user_appears_and_erased_user_disappears(qtbot: QtBot, parent: QObject, seeded: JsonMemoryStore,
                                                     data_dir: Path, writers: list[Writer]) -> None:
    watcher = start(qtbot, parent, seeded)
    writers.append(writer := Writer(data_dir))
    with qtbot.waitSignal(watcher.usersChanged, timeout=WAIT_MS):
        writer.call("create_user", user="carol")
    assert watcher.user_ids() == ["alice", "bob", "carol"]
    with qtbot.waitSignal(watcher.userChanged, check_params_cb=signal_for("carol"), timeout=WAIT_MS):
        writer.call("add_message", user="carol", content="first words")
    with qtbot.waitSignal(watcher.usersChanged, timeout=WAIT_MS):
        writer.call("erase_user", user="bob")
    assert watcher.user_ids() == ["alice", "carol"]


def test_renamed_user_moves_and_a_stopped_watcher_is_silent(qtbot: QtBot, parent: QObject,
                                                            seeded: JsonMemoryStore, data_dir: Path,
                                                            writers: list[Writer]) -> None:
    watcher = start(qtbot, parent, seeded)
    rec = Recorder(watcher)
    writers.append(writer := Writer(data_dir))
    with qtbot.waitSignal(watcher.usersChanged, timeout=WAIT_MS):
        writer.call("rename_user", user="bob", new="robert")
    qtbot.waitUntil(lambda: watcher.user_ids() == ["alice", "robert"], timeout=WAIT_MS)
    with qtbot.waitSignal(watcher.userChanged, check_params_cb=signal_for("robert"), timeout=WAIT_MS):
        writer.call("add_fact", user="robert", text="new name")
    watcher.stop()
    fs = watcher.findChild(QFileSystemWatcher)
    assert fs is not None and fs.files() == [] and fs.directories() == []
    count = len(rec.users) + len(rec.lists) + len(rec.globals)
    writer.call("add_message", user="alice", content="nobody listens")
    writer.call("set_global", key="k", value=2)
    watcher.poll_now(full=True)
    assert len(rec.users) + len(rec.lists) + len(rec.globals) == count
    assert not any(t.isActive() for t in watcher.findChildren(QTimer))


def test_facts_and_global_context(qtbot: QtBot, parent: QObject, seeded: JsonMemoryStore, data_dir: Path,
                                  writers: list[Writer]) -> None:
    watcher = start(qtbot, parent, seeded)
    rec = Recorder(watcher, reader=open_store(data_dir))
    writers.append(writer := Writer(data_dir))
    with qtbot.waitSignal(watcher.userChanged, check_params_cb=signal_for("bob"), timeout=WAIT_MS):
        writer.call("add_fact", user="bob", text="Lives in Lyon", category="location")
    assert rec.facts_seen[-1] == 1
    with qtbot.waitSignal(watcher.globalChanged, timeout=WAIT_MS):
        writer.call("set_global", key="mood", value="calm")
    assert set(rec.ids()) == {"bob"}


@pytest.mark.parametrize("key", [None, KEY], ids=["plain", "encrypted"])
def test_encoded_and_hashed_folders_report_the_real_ids(qtbot: QtBot, parent: QObject, data_dir: Path,
                                                        writers: list[Writer], key: str | None) -> None:
    store = open_store(data_dir, key)
    store.add_message("alice", "user", "hi")
    watcher = start(qtbot, parent, store)
    writers.append(writer := Writer(data_dir, *(["--key", key] if key else [])))
    dotted, long_id = "alice.smith", "é" * 70  # percent-encoded folder; hashed folder with its id in .memgui
    for user in (dotted, long_id):
        with qtbot.waitSignal(watcher.usersChanged, timeout=WAIT_MS):
            writer.call("add_message", user=user, content="hello")
        qtbot.waitUntil(lambda user=user: user in watcher.user_ids(), timeout=WAIT_MS)  # type: ignore[misc]
        with qtbot.waitSignal(watcher.userChanged, check_params_cb=signal_for(user), timeout=WAIT_MS):
            writer.call("add_fact", user=user, text="likes tea")
    assert sorted(watcher.user_ids()) == sorted(["alice", dotted, long_id])


def test_fifty_atomic_replaces_in_a_row_end_in_the_last_state(qtbot: QtBot, parent: QObject,
                                                              seeded: JsonMemoryStore, data_dir: Path,
                                                              writers: list[Writer]) -> None:
    watcher = start(qtbot, parent, seeded)
    rec = Recorder(watcher, reader=open_store(data_dir))
    writers.append(writer := Writer(data_dir, "--fast"))
    last = 0.0
    for i in range(50):  # each one replaces user_facts.json by rename
        last = writer.call("add_fact", user="alice", text=f"fact {i}")["t"]
    qtbot.waitUntil(lambda: rec.facts_seen[-1:] == [50], timeout=WAIT_MS)
    assert rec.users[-1][0] > last


def journal_header(data_dir: Path, user: str) -> bytes:
    with open(data_dir / user / ".memgui" / "journal", "rb") as journal:
        return journal.readline()  # names the base seq, which grows with every reset


def test_journal_replaced_fifty_times_every_append_is_seen(qtbot: QtBot, parent: QObject,
                                                           seeded: JsonMemoryStore, data_dir: Path,
                                                           writers: list[Writer]) -> None:
    """A message only appends to the journal; writing the journaled messages into the files resets the
    journal by rename. A lost re-arm of the journal's file watch makes the next append invisible (the
    poll is off, and the writer's own background materialization is held back)."""
    watcher = start(qtbot, parent, seeded)
    writers.append(writer := Writer(data_dir, "--fast", "--materialize-delay", "3600"))
    headers = set()
    for i in range(50):
        with qtbot.waitSignal(watcher.userChanged, check_params_cb=signal_for("alice"), timeout=WAIT_MS):
            writer.call("add_message", user="alice", content=f"message {i}")
        with qtbot.waitSignal(watcher.userChanged, check_params_cb=signal_for("alice"), timeout=WAIT_MS):
            writer.call("flush")
        headers.add(journal_header(data_dir, "alice"))
    assert len(headers) == 50  # the journal really was replaced every time


def test_journal_whose_inode_number_comes_back_is_watched_again(qtbot: QtBot, parent: QObject,
                                                                 seeded: JsonMemoryStore, data_dir: Path,
                                                                 writers: list[Writer]) -> None:
    """ext4 gives a freed inode number to the next new file: after two replaces the journal can carry the
    number of the watched one, while the watch died with the first file. The watcher re-arms the journal
    after every event of its folder instead of trusting the number."""
    watcher = start(qtbot, parent, seeded)
    first = Writer(data_dir, "--fast", "--materialize-delay", "3600")
    with qtbot.waitSignal(watcher.userChanged, check_params_cb=signal_for("alice"), timeout=WAIT_MS):
        first.call("add_message", user="alice", content="creates the journal")
    first.close()  # nobody holds the journal open now (closing wrote the messages and reset it)
    with qtbot.waitSignal(watcher.globalChanged, timeout=WAIT_MS):  # the reset has been handled
        seeded.set_global_context("sentinel", "closed")
    journal = data_dir / "alice" / ".memgui" / "journal"
    content, watched = journal.read_bytes(), journal.stat().st_ino  # the file the watch is on
    for _attempt in range(50):  # same bytes: a store reading it sees the same journal
        fileio.atomic_write(journal, content, durable=False)
        fileio.atomic_write(journal, content, durable=False)
        if journal.stat().st_ino == watched:
            break
    else:
        pytest.skip("this file system did not reuse the inode number")
    writers.append(writer := Writer(data_dir, "--fast", "--materialize-delay", "3600"))
    sentinel(qtbot, watcher, writer)  # the replaces have been handled
    with qtbot.waitSignal(watcher.userChanged, check_params_cb=signal_for("alice"), timeout=WAIT_MS):
        writer.call("add_message", user="alice", content="appended to the journal alone")


def test_burst_ends_in_a_handful_of_reloads_after_the_last_write(qtbot: QtBot, parent: QObject,
                                                                 seeded: JsonMemoryStore, data_dir: Path,
                                                                 writers: list[Writer]) -> None:
    watcher = start(qtbot, parent, seeded)
    reader = open_store(data_dir)
    rec = Recorder(watcher)
    writers.append(writer := Writer(data_dir, "--fast"))
    writer.send("burst", user="alice", count=100, seconds=0.1)  # the event loop runs during the burst
    qtbot.waitUntil(writer.has_reply, timeout=WAIT_MS)
    burst = writer.receive()
    qtbot.waitUntil(lambda: bool(rec.users) and rec.users[-1][0] > burst["t"], timeout=WAIT_MS)
    assert len(reader.get_message_history("alice", include_archived=True)) == 101
    writer.call("flush")  # the journaled messages go into the v1 files: one more change
    sentinel(qtbot, watcher, writer)
    assert set(rec.ids()) == {"alice"}
    assert 1 <= len(rec.users) <= handful(burst["times"]) + 1, (len(rec.users), burst["times"])  # +1: flush
    assert rec.users[-1][0] > burst["t"]


def test_temp_and_lock_files_alone_emit_nothing(qtbot: QtBot, parent: QObject, seeded: JsonMemoryStore,
                                                data_dir: Path, writers: list[Writer]) -> None:
    watcher = start(qtbot, parent, seeded)
    rec = Recorder(watcher)
    fs = watcher.findChild(QFileSystemWatcher)
    assert fs is not None
    writers.append(writer := Writer(data_dir))
    with qtbot.waitSignal(fs.directoryChanged, timeout=WAIT_MS):  # the watcher did get events
        for folder in (data_dir / "alice", data_dir / "alice" / ".memgui", data_dir):
            temp = folder / ".user_facts.json.0123456789ab.tmp"
            temp.write_text("{}")
            temp.unlink()
        locks = data_dir / ".memgui" / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        (locks / "u-test.lock").write_text("")
    sentinel(qtbot, watcher, writer)
    assert rec.users == [] and rec.lists == []


def test_event_with_unchanged_stats_emits_nothing(qtbot: QtBot, parent: QObject, seeded: JsonMemoryStore,
                                                  data_dir: Path, writers: list[Writer]) -> None:
    watcher = start(qtbot, parent, seeded)
    rec = Recorder(watcher)
    fs = watcher.findChild(QFileSystemWatcher)
    assert fs is not None
    writers.append(writer := Writer(data_dir))
    history = data_dir / "alice" / "conversation_history.json"
    with qtbot.waitSignal(fs.directoryChanged, timeout=WAIT_MS):
        history.chmod(0o600)  # an attribute event on the folder; inode, size and mtime stay
    sentinel(qtbot, watcher, writer)
    assert rec.users == []
    with qtbot.waitSignal(watcher.userChanged, timeout=WAIT_MS):  # ...while a real change is reported
        os.utime(history, ns=(time.time_ns(), time.time_ns()))


class OwnEdits(QObject):
    """The window's own edits through its own store: one fact every few ms, from the event loop."""

    def __init__(self, parent: QObject, store: JsonMemoryStore, count: int) -> None:
        super().__init__(parent)
        self.store, self.left = store, count
        self.times: list[float] = []
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.edit)
        self.timer.start(5)

    @Slot()
    def edit(self) -> None:
        self.store.add_user_fact("bob", f"edited {self.left}")
        self.times.append(time.time())
        self.left -= 1
        if not self.left:
            self.timer.stop()


def test_own_writes_do_not_cause_a_reload_storm(qtbot: QtBot, parent: QObject, seeded: JsonMemoryStore,
                                                data_dir: Path, writers: list[Writer]) -> None:
    watcher = start(qtbot, parent, seeded)
    rec = Recorder(watcher)
    writers.append(writer := Writer(data_dir))
    edits = OwnEdits(parent, seeded, 20)
    qtbot.waitUntil(lambda: edits.left == 0, timeout=WAIT_MS)
    sentinel(qtbot, watcher, writer)
    assert set(rec.ids()) == {"bob"}
    assert len(rec.users) <= handful(edits.times), (len(rec.users), edits.times)


def test_lost_events_are_recovered_by_the_poll(qtbot: QtBot, parent: QObject, seeded: JsonMemoryStore,
                                               data_dir: Path, writers: list[Writer]) -> None:
    watcher = start(qtbot, parent, seeded, poll_ms=200)
    fs = watcher.findChild(QFileSystemWatcher)
    assert fs is not None
    fs.blockSignals(True)  # every event from now on is lost
    writers.append(writer := Writer(data_dir))
    with qtbot.waitSignal(watcher.userChanged, check_params_cb=signal_for("alice"), timeout=WAIT_MS):
        writer.call("add_message", user="alice", content="unseen by inotify")
    with qtbot.waitSignal(watcher.usersChanged, timeout=WAIT_MS):
        writer.call("create_user", user="dave")
    with qtbot.waitSignal(watcher.globalChanged, timeout=WAIT_MS):
        writer.call("set_global", key="k", value=1)
    assert "dave" in watcher.user_ids()


def test_poll_sweep_reaches_every_user(qtbot: QtBot, parent: QObject, data_dir: Path,
                                       writers: list[Writer]) -> None:
    store = open_store(data_dir)
    users = [f"user{i:03}" for i in range(4 * POLL_MIN_SLICE)]
    for user in users:
        store.create_user(user)
    watcher = start(qtbot, parent, store)
    rec = Recorder(watcher)
    fs = watcher.findChild(QFileSystemWatcher)
    assert fs is not None
    fs.blockSignals(True)
    writers.append(writer := Writer(data_dir))
    writer.call("add_fact", user=users[-1], text="found late")
    writer.call("add_fact", user=users[0], text="found late")
    for _ in range(len(users) // POLL_MIN_SLICE + 1):  # a slice per tick: a full round finds both
        watcher.poll_now()
    assert sorted(rec.ids()) == [users[0], users[-1]]
    writer.call("add_fact", user=users[5], text="found at once")
    watcher.poll_now(full=True)
    assert rec.ids()[-1] == users[5]


def test_idle_watcher_keeps_only_the_slow_poll_timer(qtbot: QtBot, parent: QObject, seeded: JsonMemoryStore,
                                                     data_dir: Path, writers: list[Writer]) -> None:
    watcher = start(qtbot, parent, seeded, poll_ms=5000)
    writers.append(writer := Writer(data_dir))
    sentinel(qtbot, watcher, writer)
    qtbot.waitUntil(lambda: sum(t.isActive() for t in watcher.findChildren(QTimer)) == 1, timeout=WAIT_MS)
    active = [t.interval() for t in watcher.findChildren(QTimer) if t.isActive()]
    assert active == [5000]


def test_changes_just_before_start_are_reported_once(qtbot: QtBot, parent: QObject, fixture_copy: Path) -> None:
    store = open_store(fixture_copy)
    store.add_message("fresh", "user", "hi")
    store.flush()
    hour_ago = time.time_ns() - 3600 * 10**9
    for path in (fixture_copy / "fresh").rglob("*"):
        os.utime(path, ns=(hour_ago, hour_ago))
    read_at = time.time()  # the window read everything here
    store.add_message("fresh", "user", "written after the window read, before the watch")
    watcher = StoreWatcher.for_source(store.change_source(), parent, poll_interval_ms=0, since=read_at)
    rec = Recorder(watcher)
    qtbot.waitUntil(lambda: watcher.is_ready, timeout=WAIT_MS)
    assert sorted(watcher.user_ids()) == ["demo_user", "fresh"]
    assert rec.ids() == ["fresh"]  # the older implementation's untouched user is not reported
    assert rec.lists == []


def test_data_dir_made_after_start(qtbot: QtBot, parent: QObject, data_dir: Path,
                                   writers: list[Writer]) -> None:
    assert not data_dir.exists()
    watcher = start(qtbot, parent, open_store(data_dir))
    writers.append(writer := Writer(data_dir))
    with qtbot.waitSignal(watcher.usersChanged, timeout=WAIT_MS):
        writer.call("add_message", user="first", content="the store is born")
    qtbot.waitUntil(lambda: watcher.user_ids() == ["first"], timeout=WAIT_MS)
    with qtbot.waitSignal(watcher.userChanged, check_params_cb=signal_for("first"), timeout=WAIT_MS):
        writer.call("add_fact", user="first", text="watched now")


def test_a_large_store_is_armed_a_slice_per_turn_and_misses_nothing(qtbot: QtBot, parent: QObject, data_dir: Path,
                                                                     writers: list[Writer], monkeypatch) -> None:
    """At start the folders are adopted and watched a few per event-loop turn (the window paints meanwhile);
    a user written before their folder was armed, a user made and one removed during that time are all
    reported, and every folder ends up watched once."""
    import memgui.models.watcher as watcher_module

    store = open_store(data_dir)
    names = [f"user{i:03d}" for i in range(60)]
    for name in names:
        store.create_user(name)
    store.set_global_context("sentinel", -1)
    writers.append(writer := Writer(data_dir))
    monkeypatch.setattr(watcher_module, "ARM_BUDGET_S", 0.0)  # ARM_MIN folders a turn
    watcher = StoreWatcher.for_source(store.change_source(), parent, poll_interval_ms=0, since=time.time())
    rec = Recorder(watcher)
    watcher._arming.stop()  # the first turn by hand
    assert watcher.user_ids() == []  # nothing was looked at in the constructor
    watcher._on_arm_step()
    assert watcher.user_ids() == names[:watcher_module.ARM_MIN] and not watcher.is_ready
    writer.call("add_message", user="newcomer", content="made while the watcher arms")
    writer.call("erase_user", user="user059")
    writer.call("add_message", user="user058", content="written before its folder was armed")
    qtbot.waitUntil(lambda: watcher.is_ready, timeout=WAIT_MS)  # the step armed the next turn
    qtbot.waitUntil(lambda: watcher.user_ids() == sorted([*names[:-1], "newcomer"]), timeout=WAIT_MS)
    assert "user058" in rec.ids() and rec.lists  # its first look saw the write; the list changed
    assert set(rec.ids()) <= {"user058", "newcomer"}


def test_a_watcher_made_unarmed_watches_only_data_dir_until_armed(qtbot: QtBot, parent: QObject,
                                                                   seeded: JsonMemoryStore, data_dir: Path,
                                                                   writers: list[Writer]) -> None:
    """``arm=False`` (the window, while its first read runs): the global context and the list of folders are
    followed at once, the users' folders once ``arm_folders`` is called, and what changed meanwhile is then
    reported by their first look."""
    writers.append(writer := Writer(data_dir))
    watcher = StoreWatcher.for_source(seeded.change_source(), parent, poll_interval_ms=0, since=time.time(), arm=False)
    rec = Recorder(watcher)
    writer.call("add_message", user="alice", content="while unarmed")
    sentinel(qtbot, watcher, writer)  # DATA_DIR is watched: the global context is reported
    assert watcher.user_ids() == [] and not watcher.is_ready and rec.ids() == []
    with qtbot.waitSignal(watcher.ready, timeout=WAIT_MS):
        watcher.arm_folders()
    assert watcher.user_ids() == ["alice", "bob"] and rec.ids() == ["alice"]


def test_the_folders_present_at_start_are_listed_a_slice_per_turn_too(qtbot: QtBot, parent: QObject, data_dir: Path,
                                                                      writers: list[Writer], monkeypatch) -> None:
    """Listing DATA_DIR is itself done in slices once arming starts (100,000 folders took 0.15 s of the GUI
    thread before the first paint): a user made while the listing runs is adopted once, nobody is missed."""
    import memgui.models.watcher as watcher_module

    store = open_store(data_dir)
    names = [f"user{i:04d}" for i in range(700)]  # the listing looks at the clock every 256 folders
    for name in names:
        store.create_user(name)
    writers.append(writer := Writer(data_dir))
    monkeypatch.setattr(watcher_module, "ARM_BUDGET_S", 0.0)
    watcher = StoreWatcher.for_source(store.change_source(), parent, poll_interval_ms=0, since=time.time(),
                                      arm=False)
    assert watcher._to_arm == [] and not watcher._listed  # the constructor lists nothing
    watcher.arm_folders()
    watcher._arming.stop()  # the first turns by hand
    watcher._on_arm_step()
    assert not watcher._listed and watcher._listing is not None and watcher.user_ids() == []
    assert 0 < len(watcher._listing.names or ()) < len(names)
    writer.call("add_message", user="zz-newcomer", content="made while the folders are listed")
    watcher._on_arm_step()
    qtbot.waitUntil(lambda: watcher.is_ready, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: watcher.user_ids() == sorted([*names, "zz-newcomer"]), timeout=WAIT_MS)
    armed = [path for folder in watcher._folders.values() for path in folder.armed]
    assert len(armed) == len(set(armed))  # every folder watched once


def test_a_root_scan_of_a_large_store_lists_a_slice_per_turn(qtbot: QtBot, parent: QObject, data_dir: Path,
                                                             writers: list[Writer], monkeypatch) -> None:
    """After start, a change of DATA_DIR (a user made, one erased) is found by listing it a slice per turn
    (100,000 folders in one call froze the window for 0.15 s): the comparison waits for the whole listing,
    a user made while it runs is found by the scan that follows, and a folder that cannot be listed forgets
    nobody."""
    import memgui.models.watcher as watcher_module

    store = open_store(data_dir)
    names = [f"user{i:04d}" for i in range(700)]  # the listing looks at the clock every 256 folders
    for name in names:
        store.create_user(name)
    watcher = start(qtbot, parent, store)
    rec = Recorder(watcher)
    writers.append(writer := Writer(data_dir))
    monkeypatch.setattr(watcher_module, "ARM_BUDGET_S", 0.0)
    fs = watcher.findChild(QFileSystemWatcher)
    assert fs is not None
    fs.blockSignals(True)  # the scan is asked for by hand below
    writer.call("add_message", user="zz-newcomer", content="made before the scan")
    writer.call("erase_user", user="user0001")
    watcher.poll_now()
    assert watcher._root_listing is not None and rec.lists == []  # under way: nothing compared yet
    writer.call("add_message", user="zz-latecomer", content="made while the scan lists")
    watcher.poll_now()  # asked again while listing: listed again once done
    expected = sorted([n for n in names if n != "user0001"] + ["zz-latecomer", "zz-newcomer"])
    qtbot.waitUntil(lambda: watcher.user_ids() == expected, timeout=WAIT_MS)
    assert rec.lists and watcher._root_listing is None

    def unreadable(path: Any) -> Any:
        raise PermissionError(13, "Permission denied", path)

    writer.call("add_message", user="zz-third", content="made while DATA_DIR cannot be listed")
    monkeypatch.setattr(os, "scandir", unreadable)
    watcher.poll_now()
    assert watcher.user_ids() == expected  # nobody forgotten
    monkeypatch.undo()


def test_paths_spread_over_several_qt_watchers_are_all_followed(qtbot: QtBot, parent: QObject, data_dir: Path,
                                                                writers: list[Writer], monkeypatch) -> None:
    """Qt's watcher searches its list of paths on every add (arming 100,000 users was quadratic), so paths
    are spread over watchers of at most SHARD_PATHS each: a change under any of them is reported, erasing a
    user frees their places, and stopping removes every watch."""
    import memgui.models.watch_paths as watch_paths

    monkeypatch.setattr(watch_paths, "SHARD_PATHS", 4)
    monkeypatch.setattr(watch_paths, "MAX_SHARDS", 3)  # past 12 paths the emptiest watcher takes the rest
    store = open_store(data_dir)
    names = [f"user{i}" for i in range(7)]
    for name in names:
        store.add_message(name, "user", "hello")  # the folder and its .memgui at least: two paths a user
    watcher = start(qtbot, parent, store)
    shards = watcher.findChildren(QFileSystemWatcher)
    watched = sum(len(s.files()) + len(s.directories()) for s in shards)
    assert len(shards) == 3 and all(s.files() + s.directories() for s in shards)
    assert watched == len(watcher._fs.paths()) > 12  # every path once, DATA_DIR's included, past 3 x 4
    rec = Recorder(watcher)
    writers.append(writer := Writer(data_dir))
    for name in (names[0], names[-1]):  # watched by the first watcher and by a later one
        with qtbot.waitSignal(watcher.userChanged, check_params_cb=signal_for(name), timeout=WAIT_MS):
            writer.call("add_fact", user=name, text=f"seen in {name}")
    with qtbot.waitSignal(watcher.usersChanged, timeout=WAIT_MS):
        writer.call("erase_user", user=names[2])
    qtbot.waitUntil(lambda: names[2] not in watcher.user_ids(), timeout=WAIT_MS)
    assert not any(names[2] in path for s in shards for path in s.files() + s.directories())
    assert rec.ids()[:2] == [names[0], names[-1]]
    watcher.stop()
    assert all(s.files() == [] and s.directories() == [] for s in shards)
