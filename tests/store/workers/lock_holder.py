"""Holds one of the store's lock files from another process until its standard input closes.

    lock_holder.py LOCK_PATH

Prints ``held`` once the lock is taken (fcntl.flock, as the store's writers take it).
"""

from __future__ import annotations

import fcntl
import os
import sys


def main() -> None:
    path = sys.argv[1]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    fcntl.flock(fd, fcntl.LOCK_EX)
    print("held", flush=True)
    sys.stdin.read()
    fcntl.flock(fd, fcntl.LOCK_UN)


if __name__ == "__main__":
    main()
