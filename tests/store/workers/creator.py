"""Creates one user from many processes at once, for the concurrency tests.

    creator.py ROOT USER GO INDEX

Waits for GO to exist, then calls ``create_user(USER, {"creator": INDEX})`` and prints whether it created it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from common import open_store, wait_for


def main() -> None:
    root, user, go, index = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    store = open_store(root, LOCK_TIMEOUT=60)
    wait_for(go.exists, 60, "the start signal", interval=0.001)
    created = store.create_user(user, {"creator": index})
    profile = store.get_or_create_user(user)
    print(json.dumps({"index": index, "created": created, "creator": profile.get("creator")}))


if __name__ == "__main__":
    main()
