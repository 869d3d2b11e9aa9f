"""DocCache: documents kept while their file is unchanged; forgetting a folder forgets exactly its files."""

from __future__ import annotations

from pathlib import Path

from memgui.store.backends.json.doccache import DocCache


def test_forget_under_drops_the_folder_and_nothing_beside_it(tmp_path: Path) -> None:
    cache = DocCache()
    inside = [tmp_path / "user1" / "profile.json", tmp_path / "user1" / ".memgui" / "backups" / "x.json"]
    beside = [tmp_path / "user10" / "profile.json", tmp_path / "user1.json", tmp_path / "users_index.json"]
    for n, path in enumerate(inside + beside):
        cache.put(path, (n, 1, 1), {"n": n})
    cache.forget_under(tmp_path / "user1")
    assert [cache.get(path, (n, 1, 1)) for n, path in enumerate(inside)] == [None, None]
    assert [cache.get(path, (n + 2, 1, 1)) for n, path in enumerate(beside)] == [{"n": 2}, {"n": 3}, {"n": 4}]


def test_a_changed_file_is_not_served_and_the_oldest_entries_go_first(tmp_path: Path) -> None:
    cache = DocCache(max_entries=2)
    a, b, c = (tmp_path / name for name in "abc")
    cache.put(a, (1, 1, 1), "a")
    cache.put(b, (2, 1, 1), "b")
    assert cache.get(a, (1, 2, 1)) is None  # another size: the file changed
    assert cache.get(a, (1, 1, 1)) == "a"  # a is now the most recently used
    cache.put(c, (3, 1, 1), "c")
    assert cache.get(b, (2, 1, 1)) is None and cache.get(a, (1, 1, 1)) == "a" and cache.get(c, (3, 1, 1)) == "c"
