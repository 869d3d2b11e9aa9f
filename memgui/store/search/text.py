"""How search compares text: one folding for what is indexed and what is asked, the query language, and the
snippet shown for a hit. Plain Python (``unicodedata``), no Qt.

Folding (``fold``): compatibility decomposition (NFKD: full-width and half-width forms, ligatures, circled
digits become their plain letters), combining marks dropped (Latin accents, Arabic harakat, Hebrew points) except
the kana voicing marks (が stays apart from か), Arabic tatweel and format characters (bidi controls, zero-width
joiners) dropped, case folded (``str.casefold``: ß matches ss), recomposed (NFC), whitespace runs made one space.
The original text is always kept for display; ``fold_with_map`` tells which original character each folded
character came from, so a snippet is cut from the original.

Query language (``parse_query``): words must all occur, anywhere in the text (a substring: "lisb" finds
Lisbon); ``"a phrase"`` must occur as written; ``word*`` must start a word.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata

_KEEP_MARKS = frozenset("\u3099\u309a")  # kana voicing marks: part of the letter, not an accent
_DROP = frozenset("\u0640")  # Arabic tatweel (a stretching stroke)
#: Characters that reorder or hide text when shown; a snippet shows them as a visible code instead.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
SNIPPET_CHARS = 160
CHUNK_CHARS = 16384  # characters folded at a time to find a match in a long text
CHUNK_OVERLAP = 1024  # a match may straddle two chunks by this much


@functools.lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    if ch in _DROP or unicodedata.category(ch) == "Cf":
        return ""
    parts = [c for c in unicodedata.normalize("NFKD", ch)
             if c in _KEEP_MARKS or not unicodedata.combining(c)]
    return unicodedata.normalize("NFC", "".join(parts).casefold())


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """``fold(text)`` and, for each of its characters, the index in ``text`` of the character it came from."""
    out: list[str] = []
    where: list[int] = []
    space = True  # at the start: leading whitespace is dropped
    for i, ch in enumerate(text):
        if ch.isspace():
            if not space:
                out.append(" ")
                where.append(i)
                space = True
            continue
        folded = _fold_char(ch)
        if folded in _KEEP_MARKS and out:  # a separate voicing mark (half-width ﾞ) joins its letter
            joined = unicodedata.normalize("NFC", out[-1] + folded)
            if len(joined) == 1:
                out[-1] = joined
                continue
        if folded:
            space = False
            out.extend(folded)
            where.extend([i] * len(folded))
    if out and out[-1] == " ":
        out.pop()
        where.pop()
    return "".join(out), where


def fold(text: str) -> str:
    """The text as search compares it (see the module's doc); plain ASCII takes a fast path."""
    if text.isascii():
        return " ".join(text.lower().split())
    return fold_with_map(text)[0]


@dataclasses.dataclass(frozen=True)
class Term:
    """One part of a query, folded: ``prefix`` must start a word; ``phrase`` was quoted."""

    text: str
    prefix: bool = False
    phrase: bool = False


@dataclasses.dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...]

    def matches(self, folded: str) -> bool:
        """Whether folded text satisfies every term (the exact check after the index's candidates)."""
        for term in self.terms:
            if term.prefix:
                if not re.search(r"(?<!\w)" + re.escape(term.text), folded):
                    return False
            elif term.text not in folded:
                return False
        return True

    def first_match(self, folded: str) -> tuple[int, int]:
        """Start and end of the first term's first occurrence in folded text ((0, 0) when none)."""
        for term in self.terms:
            pattern = (r"(?<!\w)" if term.prefix else "") + re.escape(term.text)
            found = re.search(pattern, folded)
            if found:
                return found.start(), found.end()
        return 0, 0


_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')


def parse_query(text: str) -> Query:
    """The terms of a query typed by a person; empty terms are dropped (an empty query has no terms)."""
    terms: list[Term] = []
    for quoted, word in _TOKEN.findall(text):
        if quoted or (not word and quoted == ""):
            folded = fold(quoted)
            if folded:
                terms.append(Term(folded, phrase=True))
            continue
        if not word.strip("*"):
            continue
        prefix = word.endswith("*")
        folded = fold(word.rstrip("*") if prefix else word)
        if folded:
            terms.append(Term(folded, prefix=prefix))
    return Query(tuple(terms))


def _visible(text: str) -> str:
    out = []
    for ch in text:
        if ch in BIDI_CONTROLS:
            out.append(f"[U+{ord(ch):04X}]")
        elif ch in "\r\n\t":
            out.append(" ")
        elif unicodedata.category(ch) == "Cc":
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def _locate(text: str, query: Query) -> tuple[int, int]:
    """Start and end, in the original ``text``, of the query's first match; (0, 0) when none is found. Folds
    in chunks, so a 5 MB message costs only the chunks up to its match."""
    step = CHUNK_CHARS
    for lo in range(0, max(len(text), 1), step):
        piece = text[lo: lo + step + CHUNK_OVERLAP]
        folded, where = fold_with_map(piece)
        start, end = query.first_match(folded)
        if end > start:
            return lo + where[start], lo + where[end - 1] + 1
    return 0, 0


def snippet(text: str, query: Query, width: int = SNIPPET_CHARS) -> tuple[str, int, int]:
    """A one-line piece of the original ``text`` around the query's first match (bidi controls shown as
    their codes, line breaks flattened), about ``width`` characters; with the match's start and end in it."""
    o_start, o_end = _locate(text, query)
    o_end = min(o_end, o_start + width)
    lo = max(0, o_start - width // 3)
    hi = min(len(text), max(lo + width, o_end))
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(text) else ""
    before, match, after = _visible(text[lo:o_start]), _visible(text[o_start:o_end]), _visible(text[o_end:hi])
    first = len(prefix) + len(before)
    return prefix + before + match + after + suffix, first, first + len(match)
