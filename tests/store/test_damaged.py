"""Damaged files of every kind: each read or write that needs the file raises ``CorruptDataError`` naming
it (and nothing else), the file is never rewritten, other users work normally; ``repair`` keeps the bad
file in the quarantine and restores the newest good copy, rebuilds what can be derived, or leaves the
kind absent, and says what it did."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from workers.common import files_of, open_store

from memgui.store import CorruptDataError, JsonMemoryStore, fileio
from memgui.store.ops.repair import repair_store
from memgui.store.ops.verify import verify_store

KEY = "correct horse battery staple"
Call = Callable[[JsonMemoryStore], Any]


class Kind:
    """A kind of file: where it is, a read and a write that need it, and shapes that are wrong for it."""

    def __init__(self, rel: str, read: Call, write: Call, wrong: list[bytes], log: bool = False,
                 encrypted: bool = False) -> None:
        self.rel, self.read, self.write, self.wrong, self.log, self.encrypted = rel, read, write, wrong, log, encrypted


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record).encode() + b"\n"


MSG = {"content": "hi", "timestamp": "2024-01-01T00:00:00", "is_user": True, "metadata": {}, "word_count": 1}
KINDS = {
    "profile": Kind("alice/user_profile.json", lambda s: s.get_user_profile("alice"),
                    lambda s: s.update_user_profile("alice", {"x": 1}),
                    [b'{"name": 5}', b'{"timezone": 5}', b'{"timezone": ["UTC"]}']),
    "history": Kind("alice/conversation_history.json", lambda s: s.get_message_history("alice"),
                    lambda s: s.add_user_fact("alice", "new fact", "misc"),
                    [b'{"messages": {}}', b'{"messages": [5]}', b'{"messages": [{"content": 5}]}',
                     b'{"no messages": []}', json.dumps({"messages": [{**MSG, "is_user": "yes"}]}).encode()]),
    "facts": Kind("alice/user_facts.json", lambda s: s.get_user_facts("alice"),
                  lambda s: s.add_user_fact("alice", "new fact", "misc"),
                  [b'{"categories": []}', b'{"categories": {"a": "text"}}', b'{"categories": {"a": [1]}}',
                   b'{"categories": {}, "fact_meta": []}']),
    "metrics": Kind("alice/interaction_metrics.json", lambda s: s.get_conversation_metrics("alice"),
                    lambda s: s.update_conversation_metrics("alice", {"x": 1}),
                    [b'{"message_count": "3"}', b'{"interaction_dates": "2024-01-01"}',
                     b'{"interaction_dates": [20240101]}', b'{"total_words": true}']),
    "memories": Kind("alice/permanent_memories.json", lambda s: s.get_permanent_memories("alice"),
                     lambda s: s.store_permanent_memory("alice", "new memory"),
                     [b'{"memories": []}', b'{"memories": {"a": {}}}', b'{"memories": {"a": [{"no": 1}]}}']),
    "global": Kind("global_context.json", lambda s: s.get_all_global_context(),
                   lambda s: s.set_global_context("k", 1), [b'{"k": 5}', b'{"k": {"no value": 1}}']),
    "index": Kind("users_index.json", lambda s: s.create_user("carol"), lambda s: s.create_user("carol"),
                  [b'{"users": "alice"}', b'{"users": [1]}', b'{"no users": []}']),
    "archive": Kind("alice/conversation_archive.jsonl",
                    lambda s: s.get_message_history("alice", include_archived=True),
                    lambda s: s.get_message_history("alice", include_archived=True),
                    [b"[1]\n", b'{"content": 5}\n', _line({**MSG, "timestamp": 5}), b'"text"\n'], log=True),
    "journal": Kind("alice/.memgui/journal", lambda s: s.get_message_history("alice"),
                    lambda s: s.add_message("alice", "user", "new"),
                    [b"[1]\n", b'{"no header": 1}\n', b'{"journal": 2, "base": 0}\n{"seq": "x", "puts": {}}\n',
                     b'{"journal": 2, "base": 0}\n{"seq": 1, "msg": "text", "day": "2024-01-01"}\n'], log=True),
    "settings": Kind(".memgui/settings.json", lambda s: s.get_user_profile("alice"),
                     lambda s: s.add_message("alice", "user", "new"),
                     [b'{"encryption": {"keys": 5, "kdf": {}, "current": "k"}}', b'{"encryption": {"kdf": 5}}'],
                     encrypted=True),
}


def structural(body: bytes) -> Iterator[int]:
    """Positions of the JSON punctuation of ``body`` outside strings (flipping one breaks the JSON)."""
    in_string = escaped = False
    for n, byte in enumerate(body):
        char = chr(byte)
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                yield n
        elif char == '"':
            in_string = True
            yield n
        elif char in "{}[]:,":
            yield n


def damages(data: bytes, kind: Kind, limit: int) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every way to damage ``data``; truncations at every length of the file."""
    yield "empty", b""
    body = data.rstrip(b"\n")
    for n in range(1, len(body)):
        yield f"truncated-{n}", body[:n]
    for n in structural(body):
        yield f"flipped-{n}", body[:n] + bytes([body[n] ^ 0x01]) + body[n + 1 :]
    quote = body.index(b'"') + 1
    yield "not-utf8", body[:quote] + b"\xff\xfe" + body[quote:]
    yield "bom", b"\xef\xbb\xbf" + data
    for top in (b"[]", b'"text"', b"42", b"null", b"true"):
        yield f"top-{top.decode()}", top + b"\n"
    for n, wrong in enumerate(kind.wrong):
        yield f"wrong-types-{n}", wrong if kind.log else wrong + b"\n"
    yield "nan", b'{"name": NaN}\n'
    yield "infinity", b'{"name": -Infinity}\n'
    yield "duplicate-keys", (b'{"users": [], "users": []}\n' if kind.rel.endswith("index.json")
                             else b'{"messages": [], "messages": []}\n' if "history" in kind.rel
                             else b'{"a": 1, "a": 2}\n')
    yield "deep-nesting", b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"
    yield "oversized", data + b" " * (limit + 10 - len(data))


def log_damages(data: bytes, kind: Kind, limit: int) -> Iterator[tuple[str, bytes]]:
    """A log's damage is a complete line that does not read back; a torn last line is a killed writer's."""
    lines = data.splitlines(keepends=True)
    first, rest = lines[0], b"".join(lines[1:])
    body = first.rstrip(b"\n")
    for n in structural(body):
        yield f"flipped-{n}", body[:n] + bytes([body[n] ^ 0x01]) + body[n + 1 :] + b"\n" + rest
    quote = body.index(b'"') + 1
    yield "not-utf8", body[:quote] + b"\xff" + body[quote:] + b"\n" + rest
    yield "bom", b"\xef\xbb\xbf" + data
    for n, wrong in enumerate(kind.wrong):
        yield f"wrong-types-{n}", wrong + rest if kind.rel.endswith("journal") else data + wrong
    yield "nan", data + b'{"content": NaN}\n'
    yield "duplicate-keys", data + b'{"id": "a", "id": "b"}\n'
    yield "deep-nesting", data + b"[" * 100_000 + b"]" * 100_000 + b"\n"
    yield "oversized", data + b" " * (limit + 10 - len(data)) + b"\n"


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A plain store (alice with every kind of file, small; bob) and an encrypted one."""
    made = {}
    for name, extra in (("plain", {}), ("encrypted", {"ENCRYPTION_ENABLED": True, "ENCRYPTION_KEY": KEY})):
        root = tmp_path_factory.mktemp(name) / "data"
        store = open_store(root, MAX_MESSAGES=2, **extra)
        for text in ("one", "two", "three"):
            store.add_message("alice", "user", text)
        store.add_user_fact("alice", "tea", "likes")
        store.store_permanent_memory("alice", "met", "misc")
        store.update_conversation_metrics("alice", {"mood": "ok"})
        store.set_global_context("v", 1)
        store.add_message("bob", "user", "hello")
        store.close()
        made[name] = root
    return made


def place(templates: dict[str, Path], kind: Kind, tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(templates["encrypted" if kind.encrypted else "plain"], root)
    return root


def store_for(root: Path, kind: Kind) -> JsonMemoryStore:
    return open_store(root, MAX_MESSAGES=2, **({"ENCRYPTION_KEY": KEY} if kind.encrypted else {}))


def put(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` as an editor would (a new file)."""
    tmp = path.with_name(path.name + ".editing")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def expect_corrupt(call: Callable[[], Any], path: Path, what: str) -> None:
    with pytest.raises(CorruptDataError) as caught:
        call()
    assert caught.value.path == path, f"{what}: names {caught.value.path}"
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("name", list(KINDS))
def test_each_damage_raises_names_the_file_and_never_rewrites_it(templates: dict[str, Path], tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    kind = KINDS[name]
    root = place(templates, kind, tmp_path)
    path = root / kind.rel
    good = path.read_bytes()
    limit = max(len(d) for d in files_of(root).values()) + 1_000_000  # what bob writes meanwhile fits
    monkeypatch.setattr(fileio, "MAX_FILE_BYTES", limit)
    cases = list((log_damages if kind.log else damages)(good, kind, limit))
    assert len(cases) > 12
    for case, data in cases:
        put(path, data)
        if kind.encrypted:
            with pytest.raises(CorruptDataError) as caught:
                store_for(root, kind)
            assert caught.value.path == path, case
            assert path.read_bytes() == data, f"{case}: {kind.rel} was rewritten"
            continue
        store = store_for(root, kind)
        expect_corrupt(lambda: kind.read(store), path, f"{case} read")  # noqa: B023
        expect_corrupt(lambda: kind.write(store), path, f"{case} write")  # noqa: B023
        assert path.read_bytes() == data, f"{case}: {kind.rel} was rewritten"
        if case.startswith("truncated") and not case.endswith("0"):
            continue  # the other user is checked on every tenth length
        other = store_for(root, kind)
        other.update_user_profile("bob", {"after": case})
        assert other.get_user_profile("bob")["after"] == case
        assert path.read_bytes() == data, f"{case}: {kind.rel} was rewritten by another user's write"
    put(path, good)
    assert "carol" not in store_for(root, kind).get_all_users()


@pytest.mark.parametrize("name", [n for n, k in KINDS.items() if not k.encrypted])
def test_a_missing_file_is_an_absent_kind_not_damage(templates: dict[str, Path], tmp_path: Path, name: str) -> None:
    kind = KINDS[name]
    root = place(templates, kind, tmp_path)
    (root / kind.rel).unlink()
    store = store_for(root, kind)
    kind.read(store)
    kind.write(store)
    assert store.get_all_users()[:2] == ["alice", "bob"]


@pytest.mark.parametrize("name", ["archive", "journal"])
def test_a_torn_last_line_of_a_log_is_a_killed_writer_not_damage(templates: dict[str, Path], tmp_path: Path,
                                                                 name: str) -> None:
    """Truncated at every length, a log reads as its complete lines; the next write cuts the torn line."""
    kind = KINDS[name]
    root = place(templates, kind, tmp_path)
    path = root / kind.rel
    good = path.read_bytes()
    for n in range(len(good)):
        put(path, good[:n])
        store = store_for(root, kind)
        kind.read(store)
        assert path.read_bytes() == good[:n]


def test_a_damaged_history_still_journals_new_messages_and_repair_brings_them_back(
        templates: dict[str, Path], tmp_path: Path) -> None:
    """add_message does not read the history: it is acknowledged in the journal, never lost, and shows once
    the history is repaired."""
    root = place(templates, KINDS["history"], tmp_path)
    path = root / KINDS["history"].rel
    put(path, b'{"messages": [')
    store = store_for(root, KINDS["history"])
    store.add_message("alice", "user", "while damaged")
    assert path.read_bytes() == b'{"messages": ['
    expect_corrupt(lambda: store.get_message_history("alice"), path, "read")
    report = repair_store(root)
    assert report.ok, report.left
    assert "while damaged" in [m["content"] for m in store_for(root, KINDS["history"]).get_message_history("alice")]


# -- repair -----------------------------------------------------------------------------------------------
BAD = b'{"broken": '


def quarantined(root: Path) -> dict[str, bytes]:
    place = root / ".memgui" / "quarantine"
    return {p.name: p.read_bytes() for p in place.rglob("*") if p.is_file()} if place.exists() else {}


@pytest.mark.parametrize("name", ["profile", "history", "facts", "metrics", "memories", "global"])
def test_repair_restores_the_newest_good_copy(templates: dict[str, Path], tmp_path: Path, name: str) -> None:
    kind = KINDS[name]
    root = place(templates, kind, tmp_path)
    path = root / kind.rel
    backup = (root / ".memgui" / "backups" / path.name if path.parent == root
              else path.parent / ".memgui" / "backups" / path.name)
    assert backup.exists()
    put(path, BAD)
    before = {rel: data for rel, data in files_of(root).items() if rel != kind.rel}
    report = repair_store(root)
    assert report.ok, report.left
    assert any(str(path) in action and "restored its backup" in action for action in report.actions)
    assert list(quarantined(root).values()) == [BAD]
    assert path.read_bytes() == backup.read_bytes() or name in ("history", "metrics")
    store = store_for(root, kind)
    kind.read(store)
    kind.write(store)
    after = files_of(root)
    for rel in ("bob/user_profile.json", "bob/user_facts.json"):
        assert after[rel] == before[rel]  # other users untouched
    assert verify_store(root).ok


@pytest.mark.parametrize("name", ["profile", "facts", "memories", "global", "metrics"])
def test_repair_without_a_backup_leaves_the_kind_absent_or_rebuilds_it(templates: dict[str, Path], tmp_path: Path,
                                                                       name: str) -> None:
    kind = KINDS[name]
    root = place(templates, kind, tmp_path)
    path = root / kind.rel
    shutil.rmtree(path.parent / ".memgui" / "backups" if path.parent != root else root / ".memgui" / "backups")
    put(path, BAD)
    report = repair_store(root)
    assert report.ok, report.left
    assert list(quarantined(root).values()) == [BAD]
    store = store_for(root, kind)
    if name == "metrics":  # derivable: recounted from the stored messages
        assert store.get_conversation_metrics("alice")["message_count"] == 3
        assert any("recounted" in action for action in report.actions)
    else:
        assert not path.exists()
        assert kind.read(store) in ({}, [], None)
    kind.write(store)
    assert verify_store(root).ok


def test_repair_rebuilds_the_users_index_from_the_folders(templates: dict[str, Path], tmp_path: Path) -> None:
    root = place(templates, KINDS["index"], tmp_path)
    put(root / "users_index.json", b"[]")
    report = repair_store(root)
    assert report.ok, report.left
    assert json.loads((root / "users_index.json").read_bytes()) == {"users": ["alice", "bob"]}
    assert list(quarantined(root).values()) == [b"[]"]


@pytest.mark.parametrize("name", ["archive", "journal"])
def test_repair_keeps_the_readable_lines_of_a_log(templates: dict[str, Path], tmp_path: Path, name: str) -> None:
    kind = KINDS[name]
    root = place(templates, kind, tmp_path)
    path = root / kind.rel
    good = path.read_bytes()
    before = [m["content"] for m in store_for(root, kind).get_message_history("alice", include_archived=True)]
    damaged = good + b"{not json}\n" if name == "archive" else good.replace(b"\n", b"\n{not json}\n", 1)
    put(path, damaged)
    report = repair_store(root)
    assert report.ok, report.left
    assert list(quarantined(root).values()) == [damaged]
    assert [m["content"] for m in store_for(root, kind).get_message_history("alice", include_archived=True)] == before
    kind.write(store_for(root, kind))


def test_repair_one_user_touches_no_other(templates: dict[str, Path], tmp_path: Path) -> None:
    root = place(templates, KINDS["facts"], tmp_path)
    put(root / "alice/user_facts.json", BAD)
    put(root / "bob/user_facts.json", BAD)
    report = repair_store(root, user="alice")
    assert report.ok
    assert (root / "bob/user_facts.json").read_bytes() == BAD
    assert [p.folder for p in verify_store(root).problems] == ["bob"]


@pytest.mark.parametrize("damage", [BAD, None], ids=["damaged", "missing"])
def test_repair_restores_the_settings_of_an_encrypted_store(templates: dict[str, Path], tmp_path: Path,
                                                            damage: bytes | None) -> None:
    kind = KINDS["settings"]
    root = place(templates, kind, tmp_path)
    path = root / kind.rel
    good = path.read_bytes()
    if damage is None:
        path.unlink()
        codes = {p.code for p in verify_store(root, KEY).problems}
        assert codes == {"settings-missing"}  # the files are encrypted: nothing reads without their keys
    else:
        put(path, damage)
        with pytest.raises(CorruptDataError):
            store_for(root, kind)
    report = repair_store(root, KEY)
    assert report.ok, report.left
    assert path.read_bytes() == good
    assert list(quarantined(root).values()) == ([] if damage is None else [damage])
    assert store_for(root, kind).get_user_facts("alice") == {"likes": ["tea"]}
