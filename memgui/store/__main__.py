"""``python -m memgui.store``: the ``memgui-store`` command line (``memgui.store.ops.cli``)."""

import sys

from memgui.store.ops.cli import main

if __name__ == "__main__":
    sys.exit(main())
