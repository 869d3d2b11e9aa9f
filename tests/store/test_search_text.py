"""Folding, the query language and snippets of store-wide search (memgui.store.search.text)."""

from __future__ import annotations

import pytest

from memgui.store.search.text import fold, fold_with_map, parse_query, snippet


@pytest.mark.parametrize(("text", "folded"), [
    ("Café ÉLÈVE", "cafe eleve"),
    ("Straße", "strasse"),
    ("ＬＩＳＢＯＮ", "lisbon"),  # full-width letters
    ("ｶﾞｲﾄﾞ", "ガイド"),  # half-width katakana, voicing kept
    ("مَرْحَبًا", "مرحبا"),  # Arabic harakat dropped
    ("عـــربي", "عربي"),  # tatweel dropped
    ("שָׁלוֹם", "שלום"),  # Hebrew points dropped
    ("a\u202eb\u200dc", "abc"),  # format characters dropped
    ("  many\n\tspaces  here ", "many spaces here"),
    ("😀 emoji", "😀 emoji"),
])
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert fold_with_map(text)[0] == folded


def test_voiced_kana_stay_apart() -> None:
    assert fold("が") != fold("か")
    assert not parse_query("か").matches(fold("が"))


def test_the_map_points_into_the_original() -> None:
    text = "Olá Ｓão  Paulo"
    folded, where = fold_with_map(text)
    assert len(where) == len(folded)
    start = folded.index("sao")
    assert text[where[start]: where[start + 2] + 1] == "Ｓão"


def test_query_language() -> None:
    query = parse_query('Lisbon "rua  Augusta" veg*')
    assert [(t.text, t.prefix, t.phrase) for t in query.terms] == [
        ("lisbon", False, False), ("rua augusta", False, True), ("veg", True, False)]
    assert query.matches(fold("A vegetarian in LISBON on Rua Augusta"))
    assert not query.matches(fold("An avegetarian in Lisbon on Rua Augusta"))  # veg* starts a word
    assert not query.matches(fold("A vegetarian in Lisbon on Augusta rua"))  # the phrase as written
    assert parse_query("lisb").matches(fold("Lisbon"))  # a word is found inside words too
    assert not parse_query('  "" * ').terms


def test_snippet_is_one_flat_line_around_the_match_with_bidi_controls_visible() -> None:
    text = "x" * 5000 + " <b>Lisbon</b>\n\u202eevil\u202c " + "y" * 5000
    shown, start, end = snippet(text, parse_query("lisbon"))
    assert shown[start:end] == "Lisbon"
    assert "\n" not in shown and "\u202e" not in shown and "[U+202E]" in shown
    assert shown.startswith("…") and shown.endswith("…") and len(shown) < 300


def test_snippet_of_five_megabytes_finds_a_match_near_the_end() -> None:
    text = "word " * 1_000_000 + "Zanzíbar"
    shown, start, end = snippet(text, parse_query("zanzibar"))
    assert shown[start:end] == "Zanzíbar"
