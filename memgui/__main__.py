"""The command line: ``memgui [DATA_DIR]`` / ``python -m memgui`` (see ``--help``)."""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from memgui.store import MemoryStore, MemoryStoreError, build_config, create_memory_store
from memgui.store.locations import is_database_address, open_location

SCREENSHOT_TIMEOUT_MS = 120_000


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="memgui",
        description="Look after an Elysia assistant's memory store: users, conversations, facts, streaks.",
        epilog="Without DATA_DIR: $DATA_DIR, else the last folder opened, else the store's default ('data'). "
               "Encryption and other store settings come from the environment (ENCRYPTION_KEY, ...).")
    parser.add_argument("data_dir", nargs="?", metavar="DATA_DIR",
                        help="the store's folder, or a PostgreSQL address (postgresql://... or host=... dbname=...)")
    parser.add_argument("--demo", action="store_true",
                        help="generate a realistic store in a fresh temporary folder and open it")
    parser.add_argument("--read-only", action="store_true", help="open without allowing any write")
    parser.add_argument("--screenshot", metavar="PATH",
                        help="render the window to a PNG once loaded, then exit (works with QT_QPA_PLATFORM=offscreen)")
    parser.add_argument("--select", metavar="USER_ID", help="the user shown first")
    parser.add_argument("--tab", metavar="NAME",
                        help="the tab shown first: conversation, facts, memories, profile, global, metrics")
    parser.add_argument("--search", metavar="QUERY", help="open the store-wide search on QUERY (with --screenshot: "
                                                          "the first result opened)")
    parser.add_argument("--size", metavar="WxH", default=None, help="window size, e.g. 1280x800 (screenshots)")
    return parser.parse_args(argv)


def open_store(args: argparse.Namespace, last_folder: str | None) -> MemoryStore:
    if args.demo:
        from memgui.demo import generate

        folder = Path(tempfile.mkdtemp(prefix="memgui-demo-"))
        print(f"memgui: demo store in {folder}", file=sys.stderr)
        generate(folder).close()
        return create_memory_store(build_config({"DATA_DIR": folder}, environ=dict(os.environ)))
    if args.data_dir:  # a folder, or a PostgreSQL address
        return open_location(args.data_dir)
    if not os.environ.get("DATA_DIR") and last_folder and (is_database_address(last_folder)
                                                           or Path(last_folder).is_dir()):
        return open_location(last_folder)
    return create_memory_store(build_config({}, environ=dict(os.environ)))


def settle_garbage_collector() -> None:
    """Keep the cyclic garbage collector from stalling the window.

    Everything alive after start-up (modules, Qt wrappers: most objects of the process) is moved out of the
    collector's sight (``gc.freeze``): a full collection scans every tracked object while holding the GIL, and
    one took 150 ms, a visible stall (benchmarks/bench_gui.py). Then the thresholds are raised (young collections
    every 50,000 allocations instead of 700, full ones far more rarely): the workers reading the store allocate
    millions of short-lived objects, freed by reference counting, which with the default thresholds made a full
    collection of the documents cached meanwhile every few hundred thousand allocations — up to 124 ms each
    while a search index was built (benchmarks/bench_search.py: longest stall 137 ms before, 30 ms after).
    Cycles are rare here (reference counting frees the rest); they are collected later, not never.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from PySide6.QtCore import QSettings, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from memgui.app import MainWindow
    from memgui.views.activity_pane import ActivityPane

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setOrganizationName("memgui")
    app.setApplicationName("memgui")
    settings = QSettings("memgui", "memgui")
    try:
        store = open_store(args, settings.value("folders/last"))
    except MemoryStoreError as exc:
        print(f"memgui: {exc}", file=sys.stderr)
        return 2
    window = MainWindow(store, settings=settings, read_only=args.read_only, select=args.select, tab=args.tab)
    where = store.folder() or store.location()
    if where and not args.demo:
        window.state.remember_folder(str(where))
    if args.size:
        width, _, height = args.size.partition("x")
        window.resize(int(width), int(height))
    window.show()
    if args.search and not args.screenshot:
        window.loaded.connect(lambda: window.search_for(args.search), Qt.ConnectionType.SingleShotConnection)
    settle_garbage_collector()
    status = 0
    if args.screenshot:
        target = Path(args.screenshot)

        def shoot() -> None:
            nonlocal status
            pane = window.tabs.currentWidget()
            if isinstance(pane, ActivityPane) and pane.loader.busy:  # its charts are still being computed
                pane.updated.connect(shoot, Qt.ConnectionType.SingleShotConnection)
                return
            for _ in range(3):  # the layout requests the last results posted (the charts' new sizes)
                app.sendPostedEvents()
                app.processEvents()
            if not window.grab().save(str(target), "PNG"):
                print(f"memgui: could not write {target}", file=sys.stderr)
                status = 1
            window.close()

        def too_slow() -> None:
            nonlocal status
            print("memgui: the window did not finish loading; no screenshot", file=sys.stderr)
            status = 1
            window.close()

        def search_then_shoot() -> None:
            def opened() -> None:
                window.search_pane.select_row(0)
                window.conversation_model.loading.connect(maybe_shoot)
                maybe_shoot()

            def maybe_shoot() -> None:
                if not window.conversation_model.is_loading:
                    window.conversation_model.loading.disconnect(maybe_shoot)
                    shoot()

            window.search.finished.connect(opened, Qt.ConnectionType.SingleShotConnection)
            window.search_for(args.search)

        window.loaded.connect(search_then_shoot if args.search else shoot)
        QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, window, too_slow)
    app.exec()
    store.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
