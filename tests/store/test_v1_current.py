"""The v1 files show every write when its call returns: the older implementation, reading the folder from
another process right after each kind of write, answers what ``memgui.store`` answers. After a kill, the next
write of the user (or ``memgui-store checkpoint``) brings the files up to date, ``verify`` reports the lag,
and after a power loss a history file that came back empty is rebuilt from its synced copy and the journal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from memgui.store import JsonMemoryStore, NewerFormatError, build_config
from memgui.store.backends.json import journal as journal_module
from memgui.store.backends.json import store as store_module
from memgui.store.backends.json.journal import SEQ_KEY
from memgui.store.ops.cli import main as store_cli
from memgui.store.ops.repair import repair_store
from memgui.store.ops.verify import BEHIND, NEWER, verify_store

OLDER = Path(__file__).resolve().parents[1] / "support" / "older_store.py"
KEYS = ("topic", "active_users")


def older_reads(root: Path, user_id: str) -> dict[str, Any]:
    """What the older implementation answers, read by another process."""
    done = subprocess.run([sys.executable, str(OLDER), str(root), user_id, *KEYS], capture_output=True,
                          text=True, timeout=60, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def memgui_reads(store: JsonMemoryStore, user_id: str) -> dict[str, Any]:
    return {"history": store.get_message_history(user_id), "facts": store.get_user_facts(user_id),
            "memories": store.get_permanent_memories(user_id),
            "metrics": store.get_conversation_metrics(user_id),
            "global": {key: store.get_global_context(key) for key in KEYS}}


def assert_older_sees_it(store: JsonMemoryStore, root: Path, user_id: str) -> dict[str, Any]:
    older = older_reads(root, user_id)
    older["metrics"].pop(SEQ_KEY, None)  # the store's bookkeeping key, an additional key of the v1 shape
    assert older == memgui_reads(store, user_id)
    return older


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "data"


def open_store(root: Path, **overrides: Any) -> JsonMemoryStore:
    return JsonMemoryStore(build_config({"DATA_DIR": root, "MAX_MESSAGES": 5, **overrides}, environ={}))


def test_the_older_code_sees_each_kind_of_write_when_it_returns(root: Path) -> None:
    store = open_store(root)
    store.add_message("alice", "user", "first message")  # a new user
    assert [m["content"] for m in assert_older_sees_it(store, root, "alice")["history"]] == ["first message"]
    store.add_message("alice", "assistant", "one message more")  # the journaled hot path
    assert len(assert_older_sees_it(store, root, "alice")["history"]) == 2
    for i in range(3):
        store.add_message("alice", "user", f"message {i}")
    store.add_user_fact("alice", "Lives in Lisbon", "location")  # a fact after messages
    seen = assert_older_sees_it(store, root, "alice")
    assert seen["facts"] == {"location": ["Lives in Lisbon"]} and seen["metrics"]["message_count"] == 5
    for i in range(4):  # past MAX_MESSAGES: trimmed into the archive
        store.add_message("alice", "assistant" if i % 2 else "user", f"later {i}")
    seen = assert_older_sees_it(store, root, "alice")
    assert [m["content"] for m in seen["history"]] == ["message 2", "later 0", "later 1", "later 2", "later 3"]
    assert len(store.get_message_history("alice", include_archived=True)) == 9
    store.update_streak("alice")  # a streak update
    assert assert_older_sees_it(store, root, "alice")["metrics"]["streak_days"] == 1
    store.store_permanent_memory("alice", "likes green tea")
    store.set_global_context("topic", {"name": "tea"})
    assert assert_older_sees_it(store, root, "alice")["global"]["topic"] == {"name": "tea"}
    store.close()
    assert verify_store(root).ok


def test_writes_of_another_memgui_process_are_in_the_files_too(root: Path) -> None:
    """A second writer process (the older API's call sequence through memgui) leaves the files current."""
    script = ("import sys\nfrom memgui.store import initialize, get_memory_store\n"
              "initialize({'DATA_DIR': sys.argv[1], 'MAX_MESSAGES': 5})\nmemory = get_memory_store()\n"
              "memory.get_or_create_user('bob', 'Bob')\nmemory.add_message('bob', 'user', 'Hello, Elysia!')\n"
              "memory.add_user_fact('bob', 'Lives in New York', 'location')\nmemory.update_streak('bob')\n"
              "memory.add_message('bob', 'assistant', 'Hello Bob!')\nimport os\nos._exit(0)\n")
    subprocess.run([sys.executable, "-c", script, str(root)], check=True, timeout=60)  # no close(), no atexit
    store = open_store(root)
    seen = assert_older_sees_it(store, root, "bob")
    assert [m["content"] for m in seen["history"]] == ["Hello, Elysia!", "Hello Bob!"]
    store.close()


KILLER = """
import os, sys
from memgui.store import JsonMemoryStore, build_config, fileio
store = JsonMemoryStore(build_config({"DATA_DIR": sys.argv[1], "MAX_MESSAGES": 5}, environ={}))
store.add_message("carol", "user", "in the files")
def hook(step, path):
    if step == "open" and "conversation_history" in path.name:
        os.kill(os.getpid(), 9)  # killed after the journal line, before the files are rewritten
fileio.FAULT_HOOK = hook
store.add_message("carol", "assistant", "only in the journal")
"""


def kill_between_journal_and_files(root: Path) -> None:
    done = subprocess.run([sys.executable, "-c", KILLER, str(root)], timeout=60, check=False)
    assert done.returncode == -9


def test_after_a_kill_the_next_write_brings_the_journal_into_the_files(root: Path) -> None:
    kill_between_journal_and_files(root)
    assert [m["content"] for m in older_reads(root, "carol")["history"]] == ["in the files"]
    problems = verify_store(root).problems
    assert {p.code for p in problems} == {BEHIND}, problems
    assert "1 journaled message" in problems[0].detail
    store = open_store(root)
    assert len(store.get_message_history("carol")) == 2  # the store merges the journal meanwhile
    store.add_user_fact("carol", "Has a cat", "pets")  # any write of that user
    assert [m["content"] for m in assert_older_sees_it(store, root, "carol")["history"]] == [
        "in the files", "only in the journal"]
    store.close()
    assert verify_store(root).ok


def test_checkpoint_and_repair_bring_every_user_up_to_date_without_a_write(root: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    kill_between_journal_and_files(root)
    assert store_cli(["checkpoint", str(root)]) == 0
    assert "carol: 1 journaled message(s) written into its files" in capsys.readouterr().out
    assert [m["content"] for m in older_reads(root, "carol")["history"]] == ["in the files", "only in the journal"]
    assert verify_store(root).ok
    assert (root / "carol" / ".memgui" / "journal").stat().st_size < 200  # a fresh journal
    kill_between_journal_and_files(root)
    report = repair_store(root)
    assert report.ok and any("journaled message(s) into the history" in a for a in report.actions)
    assert len(older_reads(root, "carol")["history"]) == 4


def test_after_a_power_loss_an_empty_history_is_rebuilt_from_its_synced_copy(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(root, MAX_MESSAGES=100)
    for i in range(10):
        store.add_message("dave", "user", f"before the checkpoint {i}")
    store.close()  # checkpoint: files synced, linked into .memgui/synced/, a fresh journal
    store = open_store(root, MAX_MESSAGES=100)
    for i in range(3):
        store.add_message("dave", "user", f"after it {i}")  # in the journal (synced) and the files (not synced)
    store._materializer.cancel(root / "dave")
    del store
    for name in ("conversation_history.json", "interaction_metrics.json"):
        (root / "dave" / name).write_bytes(b"")  # what an unsynced replacement can leave after a power loss
    monkeypatch.setattr(journal_module, "boot_id", lambda: "another boot")
    store = open_store(root, MAX_MESSAGES=100)
    store.add_message("dave", "user", "after the restart")
    contents = [m["content"] for m in older_reads(root, "dave")["history"]]
    assert contents == [*(f"before the checkpoint {i}" for i in range(10)), *(f"after it {i}" for i in range(3)),
                        "after the restart"]
    assert store.get_conversation_metrics("dave")["message_count"] == 14
    store.close()


def test_a_journal_of_a_newer_memgui_is_refused_and_left_alone(root: Path) -> None:
    store = open_store(root)
    store.add_message("erin", "user", "hello")  # a new user: straight into the files
    store.add_message("erin", "assistant", "hello Erin")  # through the journal
    store.close()
    journal = root / "erin" / ".memgui" / "journal"
    header, _, rest = journal.read_bytes().partition(b"\n")
    newer = json.dumps({**json.loads(header), "journal": 99}).encode() + b"\n" + rest
    journal.write_bytes(newer)
    store = open_store(root)
    with pytest.raises(NewerFormatError, match="journal format 99 is newer"):
        store.add_message("erin", "user", "again")
    with pytest.raises(NewerFormatError):
        store.get_message_history("erin")
    assert {p.code for p in verify_store(root).problems} == {NEWER}
    repair_store(root)
    assert journal.read_bytes() == newer
    store.close()


def test_a_history_too_long_to_rewrite_per_message_is_written_in_batches(root: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """MAX_MESSAGES=0 (no limit): past EAGER_LIMIT messages the file is rewritten a moment after the last message
    (and before any other write of the user) instead of after each one; the store's reads never lag."""
    monkeypatch.setattr(store_module, "EAGER_LIMIT", 20)
    store = open_store(root, MAX_MESSAGES=0)
    for i in range(25):
        store.add_message("frank", "user", f"m{i}")
    assert len(store.get_message_history("frank")) == 25
    deadline = time.monotonic() + 30
    while len(older_reads(root, "frank")["history"]) < 25:  # the background checkpoint, DELAY after the last
        assert time.monotonic() < deadline, "the files never caught up"
    store.add_message("frank", "user", "m25")
    store.add_user_fact("frank", "Reads a lot", "hobbies")  # another kind of write: the files first
    assert len(assert_older_sees_it(store, root, "frank")["history"]) == 26
    store.close()
    assert os.path.getsize(root / "frank" / ".memgui" / "journal") < 200
