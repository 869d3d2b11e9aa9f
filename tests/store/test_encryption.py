"""Encryption at rest: no plaintext byte of any stored value in any file, a wrong or missing key raises
EncryptionError with nothing written, a plain store is encrypted in place and its key rotated, and a
SIGKILL at any point of either leaves every file readable and the migration finished by running it again.
"""

from __future__ import annotations

import base64
import json
import random
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from workers.common import ForkServer, files_of, open_store

from memgui.store import EncryptionError, JsonMemoryStore, fileio, keyring
from memgui.store.backends.json.layout import Layout
from memgui.store.codec import ENC_PREFIX
from memgui.store.ops.migrate import encrypt_store, rotate_key
from memgui.store.ops.repair import repair_store
from memgui.store.ops.verify import DAMAGED, TEMP, UNFINISHED, verify_store

KEY, NEW_KEY = "old passphrase for tests", "new passphrase for tests"
USER = "ursula-7f3a"  # folder names show ids (a documented limitation); file contents must not
SECRETS = ["Zephyr-bio-4711", "Quokka-message", "Narwhal-fact", "Narwhal-fact-edited", "Axolotl-memory",
           "Pangolin-metric", "Okapi-global", "Über-Geheimnis-ß", "Tardigrade-pending", "Wombat-quarantined"]


class Killed(BaseException):
    """Stands for SIGKILL inside this process."""


def fill(store: JsonMemoryStore) -> None:
    """Every kind of file, with a secret in each: profile, history and archive, facts and their versions,
    memories, metrics, global context, index, backups, journal."""
    store.create_user(USER)
    store.update_user_profile(USER, {"bio": SECRETS[0]})
    for n in range(4):
        store.add_message(USER, "user", f"{SECRETS[1]} {n}")
    store.add_user_fact(USER, SECRETS[2], "likes")
    store.update_user_fact(USER, "likes", SECRETS[2], SECRETS[3])
    store.store_permanent_memory(USER, SECRETS[4], "misc")
    store.update_conversation_metrics(USER, {"note": SECRETS[5]})
    store.set_global_context("motd", SECRETS[6])
    store.add_message("bob", "assistant", SECRETS[7])
    store.flush()
    store.add_message(USER, "user", SECRETS[8])  # in the journal until the next materialization


def variants(text: str) -> Iterator[bytes]:
    """The ways a value can appear in a file: UTF-8, JSON-escaped, and the user id as JSON."""
    yield text.encode()
    yield json.dumps(text).encode()[1:-1]


def plaintext_leaks(root: Path, extra: list[str] = ()) -> list[tuple[str, str]]:  # type: ignore[assignment]
    """(file, value) for every secret found inside any file of the store (temporary, archive, journal,
    versions, backups, quarantine, settings and locks included)."""
    found = []
    for rel, data in files_of(root, include_locks=True).items():
        for secret in [*SECRETS, USER, KEY, NEW_KEY, *extra]:
            if any(v in data for v in variants(secret)):
                found.append((rel, secret))
    return found


def snapshot(store: JsonMemoryStore) -> dict[str, Any]:
    """What the store answers, for every user."""
    return {"users": store.get_all_users(), "global": store.get_all_global_context(),
            **{uid: [store.get_user_profile(uid), store.get_message_history(uid, include_archived=True),
                     store.get_fact_records(uid), store.get_fact_versions(uid), store.get_conversation_metrics(uid),
                     store.get_permanent_memories(uid)] for uid in store.get_all_users()}}


def data_keys(root: Path, passphrase: str) -> list[bytes]:
    section = keyring.encryption_section(keyring.read_settings(Layout(root)))
    assert section is not None
    kek = keyring.derive_kek(passphrase, section["kdf"])
    return [keyring.unwrap(kek, wrapped, Layout(root)) for wrapped in section["keys"].values()]


def sealed_with(root: Path) -> set[str]:
    """The key ids that seal the files (and each line of the logs); '' for a plaintext one."""
    ids = set()
    for rel, data in files_of(root).items():
        if rel.startswith(".memgui/settings") or rel.startswith(".memgui/backups/settings") or not data:
            continue
        for line in data.splitlines() if rel.endswith(("jsonl", "journal")) else [data]:
            ids.add(line[len(ENC_PREFIX):].split(b".", 1)[0].decode() if line.startswith(ENC_PREFIX) else "")
    return ids


@pytest.fixture
def encrypted(data_dir: Path) -> Path:
    store = open_store(data_dir, ENCRYPTION_ENABLED=True, ENCRYPTION_KEY=KEY, MAX_MESSAGES=2)
    fill(store)
    bad = data_dir / "bob" / "user_facts.json"
    bad.write_text(json.dumps({"categories": {"x": [SECRETS[9]]}})[:-3])  # hand-edited plaintext, broken
    assert repair_store(data_dir, KEY).ok  # kept aside in the quarantine, sealed
    caller = threading.get_ident()  # not the store's background materializer, which may run meanwhile

    def kill(step: str, path: Path) -> None:
        if step == "replace" and threading.get_ident() == caller:
            raise Killed

    fileio.FAULT_HOOK = kill
    try:
        with pytest.raises(Killed):
            store.set_profile_field(USER, "left", SECRETS[0])  # killed before its rename: a temporary file
    finally:
        fileio.FAULT_HOOK = None
    return data_dir


def test_no_plaintext_of_any_value_in_any_file(encrypted: Path) -> None:
    assert [p for p in encrypted.rglob("*") if fileio.is_temp_name(p.name)], "the test wants a temporary file"
    assert list((encrypted / ".memgui" / "quarantine").rglob("*.json"))
    assert plaintext_leaks(encrypted) == []
    for key in data_keys(encrypted, KEY):
        assert plaintext_leaks(encrypted, []) == []
        for rel, data in files_of(encrypted, include_locks=True).items():
            assert key not in data and base64.b64encode(key) not in data, rel
    store = open_store(encrypted, ENCRYPTION_KEY=KEY)
    assert store.get_user_profile(USER)["bio"] == SECRETS[0]
    assert SECRETS[8] in [m["content"] for m in store.get_message_history(USER)]
    assert {p.code for p in verify_store(encrypted, KEY).problems} == {TEMP, UNFINISHED}  # the killed write


@pytest.mark.parametrize("key", ["wrong passphrase", None, ""])
def test_a_wrong_or_missing_key_raises_before_anything_is_written(encrypted: Path, key: str | None) -> None:
    before = files_of(encrypted, include_locks=True)
    with pytest.raises(EncryptionError):
        open_store(encrypted, ENCRYPTION_KEY=key, ENCRYPTION_ENABLED=True) if key else open_store(encrypted)
    assert files_of(encrypted, include_locks=True) == before


def test_enabling_encryption_on_a_plain_store_with_data_is_refused(data_dir: Path) -> None:
    open_store(data_dir).add_message("bob", "user", "plain")
    before = files_of(data_dir, include_locks=True)
    with pytest.raises(EncryptionError, match="encrypt it in place"):
        open_store(data_dir, ENCRYPTION_ENABLED=True, ENCRYPTION_KEY=KEY)
    assert files_of(data_dir, include_locks=True) == before


@pytest.fixture
def plain(data_dir: Path) -> Path:
    store = open_store(data_dir, MAX_MESSAGES=2)
    fill(store)
    bad = data_dir / "bob" / "user_facts.json"
    bad.write_text(json.dumps({"categories": {"x": [SECRETS[9]]}})[:-3])
    assert repair_store(data_dir).ok  # a plaintext file in the quarantine, to be sealed too
    return data_dir


def test_a_plain_store_is_encrypted_in_place_and_its_key_rotated(plain: Path) -> None:
    before = snapshot(open_store(plain))
    assert plaintext_leaks(plain)
    report = encrypt_store(plain, KEY)
    assert report.converted > 10 and not report.resumed
    assert plaintext_leaks(plain) == []
    with pytest.raises(EncryptionError):
        open_store(plain)
    assert snapshot(open_store(plain, ENCRYPTION_KEY=KEY)) == before
    first = sealed_with(plain)
    assert len(first) == 1 and "" not in first
    assert verify_store(plain, KEY).ok
    rotate_key(plain, KEY, NEW_KEY)
    with pytest.raises(EncryptionError):
        open_store(plain, ENCRYPTION_KEY=KEY)
    assert snapshot(open_store(plain, ENCRYPTION_KEY=NEW_KEY)) == before
    second = sealed_with(plain)
    assert len(second) == 1 and second != first  # every file and line re-sealed with the new data key
    settings = json.loads((plain / ".memgui" / "settings.json").read_bytes())["encryption"]
    assert list(settings["keys"]) == list(second) and settings["migration"] is None
    assert plaintext_leaks(plain) == []
    assert verify_store(plain, NEW_KEY).ok
    with pytest.raises(EncryptionError):
        encrypt_store(plain, KEY)  # already encrypted, and not with that passphrase any more
    assert encrypt_store(plain, NEW_KEY).converted == 0  # run again: only checks
    assert rotate_key(plain, KEY, NEW_KEY).converted == 0  # likewise


# -- killed in the middle ---------------------------------------------------------------------------------
def steps_of(template: Path, tmp_path: Path, kind: str) -> int:
    """How many file-layer steps a whole migration of ``template`` takes."""
    root = tmp_path / f"count-{kind}"
    shutil.copytree(template, root)
    calls = [0]
    caller = threading.current_thread()  # a background materializer of an earlier test's store does not count
    fileio.FAULT_HOOK = lambda step, path: calls.__setitem__(0, calls[0] + (threading.current_thread() is caller))
    try:
        migrate(root, kind)
    finally:
        fileio.FAULT_HOOK = None
    return calls[0]


def migrate(root: Path, kind: str) -> None:
    if kind == "encrypt":
        encrypt_store(root, KEY, durable=False)
    else:
        rotate_key(root, KEY, NEW_KEY, durable=False)


def readable_with(root: Path) -> JsonMemoryStore:
    """The store after a killed migration: plain while encryption has not started, else it opens with
    exactly one of the passphrases and refuses to open without one."""
    if keyring.encryption_section(keyring.read_settings(Layout(root))) is None:
        return open_store(root)
    with pytest.raises(EncryptionError):
        open_store(root)
    opened = []
    for key in (KEY, NEW_KEY):
        try:
            opened.append(open_store(root, ENCRYPTION_KEY=key))
        except EncryptionError:
            continue
    assert len(opened) == 1
    return opened[0]


def kill_migration_everywhere(template: Path, tmp_path: Path, kind: str, points: int) -> None:
    expected = snapshot(readable_with(template))
    total = steps_of(template, tmp_path, kind)
    chosen = sorted({1, 2, 3, total - 1, total, *range(1, total + 1, max(1, total // points))})
    server = ForkServer()
    try:
        for n, step in enumerate(chosen):
            root = tmp_path / f"{kind}-{n}"
            shutil.copytree(template, root)
            reply = server.request({"op": "migrate", "kind": kind, "root": str(root), "passphrase": KEY,
                                    "new": NEW_KEY, "kill_at": step})
            assert reply["status"] == "killed", (step, total, reply)
            store = readable_with(root)
            assert snapshot(store) == expected, f"killed at step {step} of {total}: data changed"
            key = store.config.ENCRYPTION_KEY
            assert not [p for p in verify_store(root, key).problems if p.code == DAMAGED], step
            migrate(root, kind)  # running it again finishes it
            final = open_store(root, ENCRYPTION_KEY=KEY if kind == "encrypt" else NEW_KEY)
            assert snapshot(final) == expected
            assert plaintext_leaks(root) == [], step
            assert len(sealed_with(root)) == 1
            assert verify_store(root, final.config.ENCRYPTION_KEY).ok, step
            shutil.rmtree(root)
    finally:
        errors = server.close()
    assert "Traceback" not in errors, errors[-2000:]


def test_encrypting_killed_at_any_point_is_readable_and_resumable(plain: Path, tmp_path: Path) -> None:
    kill_migration_everywhere(plain, tmp_path, "encrypt", points=30)


def test_rotating_killed_at_any_point_is_readable_and_resumable(encrypted: Path, tmp_path: Path) -> None:
    open_store(encrypted, ENCRYPTION_KEY=KEY).set_profile_field(USER, "after", 1)  # finishes the killed write
    assert verify_store(encrypted, KEY).ok
    kill_migration_everywhere(encrypted, tmp_path, "rotate", points=30)


@pytest.mark.soak
@pytest.mark.parametrize("kind", ["encrypt", "rotate"])
def test_migration_killed_at_every_step_soak(plain: Path, tmp_path: Path, kind: str) -> None:
    if kind == "rotate":
        encrypt_store(plain, KEY)
    kill_migration_everywhere(plain, tmp_path, kind, points=10_000)


def test_random_data_never_appears_in_an_encrypted_store(data_dir: Path) -> None:
    rng = random.Random(5)
    store = open_store(data_dir, ENCRYPTION_ENABLED=True, ENCRYPTION_KEY=KEY, MAX_MESSAGES=3)
    values = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyzäöü€") for _ in range(16)) for _ in range(30)]
    for n, value in enumerate(values):
        store.add_message(f"user{n % 3}", "user", value)
        store.add_user_fact(f"user{n % 3}", value, "c")
    store.close()
    assert plaintext_leaks(data_dir, values) == []
