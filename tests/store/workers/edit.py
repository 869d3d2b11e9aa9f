"""Makes one call on a store from another process, for the stale-edit tests.

    edit.py ROOT CALL JSON_ARGS

Calls ``store.CALL(*args)`` (``args`` a JSON list) and prints the result as JSON.
"""

from __future__ import annotations

import json
import sys

from common import open_store


def main() -> None:
    root, call, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    store = open_store(root)
    result = getattr(store, call)(*args)
    store.close()
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
