"""The history file's bytes built from the previous version's encoded messages are exactly what encoding the
whole document gives, whatever the edit between two versions; and the unsynced replacement by exchange
leaves the same file as a rename, where the file system cannot exchange too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memgui.store import fileio
from memgui.store.backends.json.history_bytes import HistoryBytes
from memgui.store.codec import dump_json

texts = st.text(max_size=12)
messages = st.fixed_dictionaries({"content": texts, "is_user": st.booleans()},
                                 optional={"metadata": st.dictionaries(texts, st.integers(), max_size=2)})


@settings(max_examples=150, deadline=None)
@given(first=st.lists(messages, max_size=12), cut=st.integers(0, 12), added=st.lists(messages, max_size=4),
       extra=st.dictionaries(st.sampled_from(["_memgui_seq", "note"]), st.integers(), max_size=2),
       swap=st.booleans())
def test_bytes_equal_a_whole_encoding(first: list[dict[str, Any]], cut: int, added: list[dict[str, Any]],
                                      extra: dict[str, int], swap: bool) -> None:
    encoder = HistoryBytes()
    old = {"messages": first, **extra}
    assert encoder.encode(old, "h") == dump_json(old, "h")
    kept = first[cut:] + added  # trimmed at the front, appended at the end: the same objects, reused
    if swap and len(kept) > 1:
        kept[0] = dict(kept[0], content="edited")  # a new object in place of an old one
    new = {**extra, "messages": kept}
    assert encoder.encode(new, "h") == dump_json(new, "h")


def test_replacing_without_an_exchange_gives_the_same_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.json"
    fileio.atomic_write(target, b"old", durable=False)
    fileio.atomic_write(target, b"exchanged", durable=False)
    assert target.read_bytes() == b"exchanged" and [p.name for p in tmp_path.iterdir()] == ["f.json"]
    monkeypatch.setattr(fileio, "_renameat2", False)  # a system without renameat2
    fileio.atomic_write(target, b"renamed", durable=False)
    assert target.read_bytes() == b"renamed" and [p.name for p in tmp_path.iterdir()] == ["f.json"]


@pytest.mark.parametrize("durable", [False, True])
def test_a_file_written_in_chunks_holds_them_one_after_the_other(tmp_path: Path, durable: bool) -> None:
    target = tmp_path / "f.json"
    chunks = [b"head\n", b"", bytearray(b"x" * 300_000), memoryview(b"tail")]
    fileio.atomic_write(target, chunks, durable=durable)
    assert target.read_bytes() == b"head\n" + b"x" * 300_000 + b"tail"
    fileio.atomic_write(target, [], durable=durable)  # no chunk: an empty file, not the old one
    assert target.read_bytes() == b"" and [p.name for p in tmp_path.iterdir()] == ["f.json"]
