"""``memgui-store copy``: a JSON folder to PostgreSQL and back gives the same answers from every read method;
a copy killed with SIGKILL and run again finishes without duplicates; an encrypted folder needs --decrypt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from contract_helpers import config_for

from memgui.store import EncryptionError, MemoryStore, create_memory_store
from memgui.store.ops.cli import main
from memgui.store.ops.copy import copy_store, open_store


def answers(store: MemoryStore) -> dict[str, Any]:
    """What every read method of the store says, for every user (key order included, through repr)."""
    out: dict[str, Any] = {"users": store.get_all_users(), "global": repr(store.get_all_global_context())}
    for uid in store.get_all_users():
        out[uid] = repr([
            store.get_user_profile(uid), store.get_message_history(uid, include_archived=True),
            store.get_message_history(uid), store.get_user_facts(uid), store.get_fact_records(uid),
            store.get_fact_versions(uid), store.get_conversation_metrics(uid), store.get_permanent_memories(uid),
            store.get_relevant_context(uid), store.user_exists(uid),
            store.get_streak(uid, datetime(2026, 1, 1, tzinfo=timezone.utc)),
        ])
    return out


def test_a_round_trip_through_postgres_answers_the_same(fixture_copy: Path, pg_server: Any, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    database = pg_server.new_database()
    with open_store(str(fixture_copy)) as source:
        source.update_user_fact(source.get_all_users()[0], *_first_fact(source), "edited by the test")
        expected = answers(source)
    assert main(["copy", str(fixture_copy), database]) == 0
    assert main(["copy", database, str(tmp_path / "back")]) == 0
    assert "users copied" in capsys.readouterr().out
    with open_store(database) as middle, open_store(str(tmp_path / "back")) as back:
        assert answers(middle) == expected
        assert answers(back) == expected


def _first_fact(store: MemoryStore) -> tuple[str, str]:
    uid = store.get_all_users()[0]
    for category, facts in store.get_user_facts(uid).items():
        if facts:
            return category, facts[0]
    store.add_user_fact(uid, "a fact", "misc")
    return "misc", "a fact"


def test_a_killed_copy_run_again_finishes_without_duplicates(pg_server: Any, tmp_path: Path) -> None:
    source_dir = tmp_path / "many"
    with create_memory_store(config_for(source_dir, DURABLE_WRITES=False, MAX_MESSAGES=5)) as source:
        for i in range(150):
            uid = f"user{i:03d}"
            source.add_messages(uid, [{"role": "user", "content": f"m{j}"} for j in range(8)])
            source.add_user_fact(uid, f"fact {i}", "c")
        expected = answers(source)
    database = pg_server.new_database()
    cmd = [sys.executable, "-m", "memgui.store", "copy", str(source_dir), database]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert child.stdout is not None
    first = child.stdout.readline()  # "50/150 users copied": killed in the middle of the job
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    assert first.startswith("50/150")
    with open_store(database) as partial:
        assert 50 <= len(partial.get_all_users()) < 150
    assert subprocess.run(cmd, capture_output=True, text=True, timeout=300).returncode == 0
    with open_store(database) as done:
        assert answers(done) == expected


def test_an_encrypted_folder_goes_into_a_database_only_with_decrypt(pg_server: Any, tmp_path: Path) -> None:
    folder = tmp_path / "secret"
    with create_memory_store(config_for(folder, ENCRYPTION_ENABLED=True, ENCRYPTION_KEY="pass")) as store:
        store.add_message("u", "user", "private")
    database = pg_server.new_database()
    with open_store(str(folder), "pass") as source, open_store(database) as target:
        with pytest.raises(EncryptionError, match="--decrypt"):
            copy_store(source, target)
        assert target.get_all_users() == []
        copy_store(source, target, allow_decrypt=True)
        assert [m["content"] for m in target.get_message_history("u")] == ["private"]
    with open_store(database) as source, open_store(str(tmp_path / "again"), "pass2") as back:
        copy_store(source, back)  # into a new encrypted folder: sealed with its own key
        assert [m["content"] for m in back.get_message_history("u")] == ["private"]
    assert b"private" not in b"".join(p.read_bytes() for p in (tmp_path / "again").rglob("*") if p.is_file())
