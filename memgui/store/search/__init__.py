"""Store-wide search: a derived full-text index (SQLite FTS5, trigram tokenizer over folded text) of every
user's conversation, facts, memories and profile and of the global context. ``text`` folds and parses,
``sources`` reads the store through its public API, ``engine`` is the SQLite file, ``index`` keeps it up to
date and answers. No Qt."""

from memgui.store.search.index import Filters, Hit, SearchIndex, SyncReport, placement
from memgui.store.search.text import Query, fold, parse_query

__all__ = ["Filters", "Hit", "Query", "SearchIndex", "SyncReport", "fold", "parse_query", "placement"]
