"""User ids from the internet: nothing escapes DATA_DIR, no two ids share a folder, every accepted id comes
back from ``get_all_users``, refused ids raise ``InvalidUserIdError`` before anything is written, and links
planted inside the store are never followed."""

from __future__ import annotations

import os
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from workers.common import files_of, open_store

from memgui.store import CorruptDataError, InvalidUserIdError
from memgui.store.ids import PLAIN_ID, folder_for, id_from_folder, normalize_user_id, split_plain

ACCEPTED = [
    "..", ".", "...", "/etc/passwd", "../../etc/passwd", "a/b", "a\\b", "C:x", "C:\\Windows", "CON", "COM1",
    "nul", "LPT1.txt", "trailing.", "‥", "．．／", "．．", "ＣＯＮ", "Alice", "alice", "ALICE",
    "alice.smith@example.com", "alice+tag@example.com", "张伟", "Алиса", "محمد", "🙂", "e\u0301", "\u00e9",
    "é" * 128, "~", "~~", "~41", "%41", "a b", "-", "_", "x" * 128, "~~" + "0" * 64, ".memgui",
]
REFUSED = ["", "   ", "x\x00y", "a\nb", "tab\tid", "\x7f", "x" * 129, "\u202eevil", "a\u2066b", "\u200fid",
           "line\u2028sep", "\ud800", 42, None, b"bytes", ["list"]]


def outside_snapshot(tmp_path: Path, root: Path) -> dict[str, bytes]:
    """Every file of ``tmp_path`` that is not inside the store (to see that nothing was written there)."""
    return {rel: data for rel, data in files_of(tmp_path).items() if not (tmp_path / rel).is_relative_to(root)}


def test_accepted_ids_stay_inside_and_come_back(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0\n")
    outside = outside_snapshot(tmp_path, root)
    store = open_store(root)
    folders = {}
    for uid in ACCEPTED:
        store.add_message(uid, "user", f"hello from {uid!r}")
        store.add_user_fact(uid, "a fact", "misc")
        folder = root / folder_for(uid)
        assert folder.parent == root and folder.is_dir() and not folder.is_symlink()
        assert Path(os.path.realpath(folder)).parent == Path(os.path.realpath(root))
        assert folder.name not in (".", "..") and "/" not in folder.name and "\\" not in folder.name
        assert len(folder.name.encode()) <= 255 and not folder.name.startswith(".")
        folders[uid] = folder.name
    assert len(set(folders.values())) == len(ACCEPTED), "two ids share a folder"
    assert store.get_all_users() == sorted(ACCEPTED)
    store.close()
    reopened = open_store(root)
    assert reopened.get_all_users() == sorted(ACCEPTED)
    for uid in ACCEPTED:
        assert [m["content"] for m in reopened.get_message_history(uid)] == [f"hello from {uid!r}"]
    assert outside_snapshot(tmp_path, root) == outside
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == sorted(
        [*folders.values(), "users_index.json"])


def test_surrounding_whitespace_is_stripped_and_names_the_same_user(data_dir: Path) -> None:
    store = open_store(data_dir)
    store.add_message("  bob\t", "user", "one")
    store.add_message("bob", "user", "two")
    store.add_message("trailing ", "user", "three")
    assert store.get_all_users() == ["bob", "trailing"]
    assert (data_dir / "bob").is_dir() and (data_dir / "trailing").is_dir()


@pytest.mark.parametrize("uid", ["alice", "Bob_2", "user-123", "A", "0", "x" * 128, "_-_"])
def test_plain_ids_keep_their_folder_name(data_dir: Path, uid: str) -> None:
    store = open_store(data_dir)
    store.create_user(uid)
    assert (data_dir / uid).is_dir()
    assert store.get_all_users() == [uid]


def test_case_variants_and_lookalikes_are_different_users(data_dir: Path) -> None:
    store = open_store(data_dir)
    twins = ["alice", "Alice", "ALICE", "ａｌｉｃｅ", "alice\u0301", "аlice"]  # the last starts with a Cyrillic а
    for n, uid in enumerate(twins):
        store.add_user_fact(uid, f"fact {n}", "who")
    for n, uid in enumerate(twins):
        assert store.get_user_facts(uid) == {"who": [f"fact {n}"]}
    assert len({folder_for(uid) for uid in twins}) == len(twins)


@pytest.mark.parametrize("uid", REFUSED, ids=repr)
def test_refused_ids_raise_before_anything_is_written(tmp_path: Path, uid: object) -> None:
    root = tmp_path / "data"
    store = open_store(root)
    for call in (lambda: store.add_message(uid, "user", "x"),  # type: ignore[arg-type]
                 lambda: store.create_user(uid),  # type: ignore[arg-type]
                 lambda: store.add_user_fact(uid, "f", "c"),  # type: ignore[arg-type]
                 lambda: store.get_user_profile(uid)):  # type: ignore[arg-type]
        with pytest.raises(InvalidUserIdError) as caught:
            call()
        assert isinstance(caught.value, ValueError)
    assert not root.exists()


# -- links planted inside the store ------------------------------------------------------------------
@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, Path]:
    """A store with alice and bob, and a folder outside it holding a JSON file a link can point to."""
    root, outside = tmp_path / "data", tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text('{"categories": {"stolen": ["secret"]}}\n')
    store = open_store(root)
    store.add_message("alice", "user", "hi")
    store.add_user_fact("alice", "likes tea", "food")
    store.add_message("bob", "user", "hi")
    store.close()
    return root, outside


def test_user_folder_that_is_a_link_to_outside_is_refused(planted: tuple[Path, Path]) -> None:
    root, outside = planted
    (root / "mallory").symlink_to(outside, target_is_directory=True)
    before = files_of(outside)
    fresh = open_store(root)
    assert "mallory" not in fresh.get_all_users()
    for call in (lambda: fresh.add_message("mallory", "user", "x"), lambda: fresh.add_user_fact("mallory", "f", "c"),
                 lambda: fresh.get_user_facts("mallory"), lambda: fresh.create_user("mallory")):
        with pytest.raises(CorruptDataError) as caught:
            call()
        assert caught.value.path == root / "mallory"
    assert files_of(outside) == before
    fresh.add_message("bob", "user", "still works")
    assert [m["content"] for m in fresh.get_message_history("bob")] == ["hi", "still works"]


@pytest.mark.parametrize("rel", ["alice/user_facts.json", "alice/user_profile.json", "alice/.memgui/journal",
                                 "alice/conversation_history.json", "global_context.json"])
def test_data_file_that_is_a_link_is_refused(planted: tuple[Path, Path], rel: str) -> None:
    root, outside = planted
    target = root / rel
    target.unlink(missing_ok=True)
    target.symlink_to(outside / "secret.json")
    before = files_of(outside)
    fresh = open_store(root)
    read, write = {
        "alice/user_facts.json": (lambda: fresh.get_user_facts("alice"),
                                  lambda: fresh.add_user_fact("alice", "x", "c")),
        "alice/user_profile.json": (lambda: fresh.get_user_profile("alice"),
                                    lambda: fresh.update_user_profile("alice", {"x": 1})),
        "alice/.memgui/journal": (lambda: fresh.get_message_history("alice"),
                                  lambda: fresh.add_message("alice", "user", "x")),
        "alice/conversation_history.json": (lambda: fresh.get_message_history("alice"),
                                            lambda: fresh.add_user_fact("alice", "x", "c")),  # (add_message journals)
        "global_context.json": (lambda: fresh.get_all_global_context(), lambda: fresh.set_global_context("k", 1)),
    }[rel]
    for call in (read, write):
        with pytest.raises(CorruptDataError) as caught:
            call()
        assert caught.value.path == target
    assert files_of(outside) == before and target.is_symlink()
    fresh.add_message("bob", "user", "still works")
    assert len(fresh.get_message_history("bob")) == 2


# -- the property ---------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=140))
def test_any_text_is_refused_or_maps_reversibly_inside(text: str) -> None:
    try:
        uid = normalize_user_id(text)
    except InvalidUserIdError:
        with pytest.raises(InvalidUserIdError):
            folder_for(text)
        return
    assert uid == text.strip()
    folder = folder_for(text)
    assert folder not in ("", ".", "..") and not folder.startswith(".")
    assert "/" not in folder and "\\" not in folder and "\x00" not in folder and ":" not in folder
    assert len(folder.encode("utf-8")) <= 255
    assert folder == unicodedata.normalize("NFKC", folder)  # plain ASCII: no lookalike survives
    if PLAIN_ID.fullmatch(uid):
        assert folder == uid
    if not folder.startswith("~~"):
        assert id_from_folder(folder) == uid


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=4, unique=True))
def test_any_accepted_ids_are_stored_inside_and_listed_back(texts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        store = open_store(root, DURABLE_WRITES=False)
        accepted = set()
        for text in texts:
            try:
                uid = normalize_user_id(text)
            except InvalidUserIdError:
                with pytest.raises(InvalidUserIdError):
                    store.create_user(text)
                continue
            store.create_user(text)
            accepted.add(uid)
            real = Path(os.path.realpath(root / folder_for(uid)))
            assert real.parent == Path(os.path.realpath(root))
        assert store.get_all_users() == sorted(accepted)
        store.close()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=140), st.text(alphabet="ab_-~%4109", max_size=140)),
                max_size=8, unique=True))
def test_listing_splits_plain_names_exactly_as_decoding_does(names: list[str]) -> None:
    plain, others = split_plain(names)
    assert sorted(plain + others) == sorted(names)
    for name in plain:
        assert id_from_folder(name) == name
    for name in others:
        assert id_from_folder(name) != name  # only a plain id is its own folder name


def test_only_folders_an_id_maps_to_are_listed(tmp_path: Path) -> None:
    root = tmp_path / "data"
    store = open_store(root, DURABLE_WRITES=False)
    store.create_user("alice")
    store.create_user("zoë")
    for name in ("a" * 129, "~41", "user 1", ".hidden", "~~not-a-digest"):
        (root / name).mkdir()
    (root / "plainfile").write_text("not a folder")
    assert store.get_all_users() == ["alice", "zoë"]
    store.close()
