"""Helpers of the store contract tests: configuration, plain-JSON reads, and digests of a folder tree."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from memgui.store import StoreConfig, build_config


def config_for(data_dir: Path, **overrides: Any) -> StoreConfig:
    """A validated configuration for a test store: UTC default zone unless told otherwise."""
    values: dict[str, Any] = {"DATA_DIR": data_dir, "DEFAULT_TIMEZONE": "UTC"}
    values.update(overrides)
    return build_config(values, environ={})


def tree_digest(root: Path) -> dict[str, str]:
    """Every entry under ``root``: files by content hash, folders and links by kind (to see any change)."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = "link:" + str(path.readlink())
        elif path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def read_json(path: Path) -> Any:
    """A file as plain JSON, the way code that knows nothing of memgui reads it."""
    return json.loads(path.read_text(encoding="utf-8"))


def read_jsonl(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
