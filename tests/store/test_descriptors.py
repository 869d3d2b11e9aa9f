"""The store keeps few descriptors open however many users it writes for (``fileio.DESCRIPTORS``): an assistant
writing for 1,000 users used to hit the usual limit of 1,024 open files, and every write then failed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from memgui.store import JsonMemoryStore, build_config, fileio


def _store(path: Path) -> JsonMemoryStore:
    return JsonMemoryStore(build_config({"DATA_DIR": path, "DEFAULT_TIMEZONE": "UTC"}, environ={}))


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors through /proc")
def test_writing_for_many_users_keeps_at_most_the_budget_open(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fileio.DESCRIPTORS, "limit", 8)
    store = _store(tmp_path / "s")
    store.add_message("warm", "user", "the store's own files opened once")
    before = _open_descriptors()
    users = [f"user{k:02}" for k in range(60)]
    for uid in users:
        store.add_message(uid, "user", f"hello from {uid}")
        store.add_user_fact(uid, f"{uid} likes tea", "food")
    assert _open_descriptors() - before <= 8 + 4  # the budget, and a few a background checkpoint has open now
    store.add_message(users[0], "user", "again")  # its descriptors were closed: reopened
    assert [m["content"] for m in store.get_message_history(users[0])] == [f"hello from {users[0]}", "again"]
    assert all(store.get_user_facts(uid) == {"food": [f"{uid} likes tea"]} for uid in users)
    store.close()


def test_threads_writing_while_descriptors_are_closed_under_them_lose_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A descriptor is closed only when no write is using it: threads evicting each other's never break a
    write in flight."""
    monkeypatch.setattr(fileio.DESCRIPTORS, "limit", 3)
    store = _store(tmp_path / "s")
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for round_ in range(3):
                for k in range(12):
                    store.add_message(f"w{worker}-u{k}", "user", f"round {round_}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for w in range(4):
        for k in range(12):
            assert [m["content"] for m in store.get_message_history(f"w{w}-u{k}")] == [
                "round 0", "round 1", "round 2"]
    store.close()


CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
from memgui.store import JsonMemoryStore, build_config
store = JsonMemoryStore(build_config({"DATA_DIR": sys.argv[1]}, environ={}))
for k in range(600):
    store.add_message(f"user{k}", "user", "hello")
store.close()
print("wrote 600 users")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX limits")
def test_a_process_with_a_low_open_files_limit_writes_for_more_users_than_it(tmp_path: Path) -> None:
    """A real process limited to 256 open files (before the budget, its 250th user failed with EMFILE)."""
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "s")], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "wrote 600 users" in done.stdout
    store = _store(tmp_path / "s")
    assert len(store.get_all_users()) == 600
    store.close()


def test_out_of_descriptors_while_creating_a_user_is_a_store_error_naming_the_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the system refuses (EMFILE here), creating a user raises ``StoreIOError`` naming the folder, not a
    bare ``OSError``, and nothing of the user is made."""
    import errno

    from memgui.store import StoreIOError

    store = _store(tmp_path / "s")
    store.add_message("alice", "user", "hello")
    real = os.scandir

    def refuse(path: object = ".") -> object:
        if Path(str(path)) == tmp_path / "s":
            raise OSError(errno.EMFILE, "Too many open files", str(path))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", refuse)
    with pytest.raises(StoreIOError) as raised:
        store.add_message("bob", "user", "hello")
    monkeypatch.undo()
    assert str(tmp_path / "s") in str(raised.value) and "Too many open files" in str(raised.value)
    assert store.get_all_users() == ["alice"]
    store.close()
