"""``memgui-store`` / ``python -m memgui.store``: check, repair, encrypt and re-key a store from a shell.

    memgui-store verify DATA_DIR          every problem of the store; exit status 1 if there is any
    memgui-store repair DATA_DIR [USER]   act on them (damaged files are kept aside, never deleted)
    memgui-store checkpoint DATA_DIR [USER]
                                          write what the journals hold into the v1 files and sync them
    memgui-store encrypt DATA_DIR         encrypt a plain store in place (resumes an interrupted run)
    memgui-store rotate-key DATA_DIR      re-encrypt with a new key and passphrase (resumes too)
    memgui-store copy SRC DST             copy a whole store: each a folder or a postgresql:// URL / conninfo
                                          (SRC_ENCRYPTION_KEY / DST_ENCRYPTION_KEY for encrypted folders;
                                          --decrypt to copy an encrypted folder into a database)
    memgui-store search DATA_DIR QUERY    store-wide search: one hit a line, tab-separated (user, kind, id,
                                          time, role or field, snippet); --kind, --user, --role, --since,
                                          --until, --limit; DATA_DIR may be a database address too

Passphrases come from the ENCRYPTION_KEY (current) and NEW_ENCRYPTION_KEY environment variables, or from
a prompt on a terminal: never from the command line, where other users of the machine could read them.
Exit status: 0 done and healthy (search: something found), 1 problems found or left (search: no hit),
2 the command could not run.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from memgui.store import keyring
from memgui.store.documents import ROLES
from memgui.store.errors import MemoryStoreError
from memgui.store.search.sources import KINDS


def _secret(variable: str, prompt: str, *, confirm: bool = False, required: bool = True) -> str | None:
    """A passphrase from the environment, else typed at a terminal (twice with ``confirm``)."""
    value = os.environ.get(variable)
    if value:
        return value
    if not sys.stdin.isatty():
        if required:
            raise MemoryStoreError(f"set {variable} (the passphrase is never read from the command line)")
        return None
    value = getpass.getpass(f"{prompt}: ")
    if confirm and getpass.getpass(f"{prompt} (again): ") != value:
        raise MemoryStoreError("the two passphrases differ")
    return value or None


def _is_encrypted(root: Path) -> bool:
    from memgui.store.backends.json.layout import Layout

    try:
        return keyring.encryption_section(keyring.read_settings(Layout(root))) is not None
    except MemoryStoreError:
        return False


def _verify(root: Path) -> int:
    from memgui.store.ops.verify import verify_store

    passphrase = os.environ.get("ENCRYPTION_KEY") or None
    report = verify_store(root, passphrase)
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


def _repair(root: Path, user: str | None) -> int:
    from memgui.store.ops.repair import repair_store

    passphrase = _secret("ENCRYPTION_KEY", "Passphrase of the store") if _is_encrypted(root) else None
    report = repair_store(root, passphrase, user)
    for action in report.actions:
        print(action)
    if not report.actions:
        print("nothing to repair")
    for problem in report.left:
        print(f"left: {problem}")
    return 0 if report.ok else 1


def _checkpoint(root: Path, user: str | None) -> int:
    from memgui.store import JsonMemoryStore, build_config

    passphrase = _secret("ENCRYPTION_KEY", "Passphrase of the store") if _is_encrypted(root) else None
    store = JsonMemoryStore(build_config({"DATA_DIR": root, "ENCRYPTION_KEY": passphrase}, environ={}))
    try:
        users = [user] if user is not None else store.get_all_users()
        brought, failed = 0, 0
        for user_id in users:
            try:
                count = store.checkpoint(user_id)
            except MemoryStoreError as exc:  # one user's damage does not stop the others
                failed += 1
                print(f"{user_id}: not checkpointed: {exc}", file=sys.stderr)
                continue
            brought += count
            if count:
                print(f"{user_id}: {count} journaled message(s) written into its files")
    finally:
        store.close()
    print(f"checkpoint: {len(users)} user(s), {brought} message(s) brought into the v1 files"
          + (f", {failed} user(s) left (see above; memgui-store verify)" if failed else ""))
    return 1 if failed else 0


def _encrypt(root: Path) -> int:
    from memgui.store.ops.migrate import encrypt_store

    passphrase = _secret("ENCRYPTION_KEY", "New passphrase of the store", confirm=True)
    assert passphrase is not None
    print(encrypt_store(root, passphrase).summary())
    print("set ENCRYPTION_ENABLED=true and ENCRYPTION_KEY for the processes that open this store")
    return 0


def _rotate(root: Path) -> int:
    from memgui.store.ops.migrate import rotate_key

    current = _secret("ENCRYPTION_KEY", "Current passphrase of the store")
    new = _secret("NEW_ENCRYPTION_KEY", "New passphrase", confirm=True)
    assert current is not None and new is not None
    print(rotate_key(root, current, new).summary())
    print("from now on, ENCRYPTION_KEY must be the new passphrase")
    return 0


def _copy(src: str, dst: str, allow_decrypt: bool) -> int:
    from memgui.store.ops.copy import copy_store, open_store

    with open_store(src, os.environ.get("SRC_ENCRYPTION_KEY") or None) as source, \
            open_store(dst, os.environ.get("DST_ENCRYPTION_KEY") or None) as target:
        report = copy_store(source, target, progress=print, allow_decrypt=allow_decrypt)
    print(report.summary())
    return 0


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _search(args: argparse.Namespace) -> int:
    from memgui.store.ops.copy import is_database, open_store
    from memgui.store.search import Filters, SearchIndex


    location = str(args.data_dir)
    passphrase = None
    if not is_database(location):
        if not Path(location).is_dir():
            raise MemoryStoreError(f"{location} is not a folder")
        if _is_encrypted(Path(location)):
            passphrase = _secret("ENCRYPTION_KEY", "Passphrase of the store")
    with open_store(location, passphrase) as store:
        index = SearchIndex(store, read_only=args.read_only, plaintext_ok=args.plaintext_index)
        try:
            def progress(done: int, total: int) -> None:
                if total >= 50 and done % 50 == 0:
                    print(f"indexing: {done:,} of {total:,} users", file=sys.stderr)

            report = index.sync(progress)
            if report.rebuilt:
                print(f"the search index at {index.where()} was damaged: made again", file=sys.stderr)
            if report.reindexed:
                print(f"indexed {report.reindexed:,} of {report.users:,} users ({report.changed:,} entries) in "
                      f"{report.seconds:.1f} s; index {index.size() / 1e6:.1f} MB at {index.where()}",
                      file=sys.stderr)
            filters = Filters(frozenset(args.kind or ()), args.user or "", args.role or "", args.since, args.until)
            found = 0
            for batch in index.search(args.query, filters, args.limit):
                for hit in batch:
                    print("\t".join((hit.user, hit.kind, hit.ref, hit.ts, hit.role or hit.field, hit.snippet)))
                found += len(batch)
        finally:
            index.close()
    print(f"{found:,} hit{'s' if found != 1 else ''}", file=sys.stderr)
    return 0 if found else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="memgui-store", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="report every problem of a store (reads only)")
    verify.add_argument("data_dir", type=Path)
    repair = commands.add_parser("repair", help="repair what verify reports, for one user or all")
    repair.add_argument("data_dir", type=Path)
    repair.add_argument("user", nargs="?", default=None)
    checkpoint = commands.add_parser("checkpoint", help="write the journals into the v1 files, sync, reset them")
    checkpoint.add_argument("data_dir", type=Path)
    checkpoint.add_argument("user", nargs="?", default=None)
    encrypt = commands.add_parser("encrypt", help="encrypt a plain store in place (ENCRYPTION_KEY)")
    encrypt.add_argument("data_dir", type=Path)
    rotate = commands.add_parser("rotate-key", help="re-encrypt with a new key (ENCRYPTION_KEY, NEW_ENCRYPTION_KEY)")
    rotate.add_argument("data_dir", type=Path)
    copy = commands.add_parser("copy", help="copy a whole store between a folder and a PostgreSQL database")
    copy.add_argument("src")
    copy.add_argument("dst")
    copy.add_argument("--decrypt", action="store_true", help="allow an encrypted folder into a plain database")
    search = commands.add_parser("search", help="search every user's messages, facts, memories and profile")
    search.add_argument("data_dir", help="a store folder, or a postgresql:// URL / conninfo")
    search.add_argument("query", help='words (all must occur), "a phrase", prefix*')
    search.add_argument("--kind", action="append", choices=KINDS, help="only this kind (repeatable)")
    search.add_argument("--user", help="only this user")
    search.add_argument("--role", choices=ROLES, help="only messages of this role")
    search.add_argument("--since", type=_date, help="from this day (YYYY-MM-DD)")
    search.add_argument("--until", type=_date, help="up to this day, included")
    search.add_argument("--limit", type=int, default=100, help="at most this many hits (100)")
    search.add_argument("--read-only", action="store_true", help="write nothing in the store's folder "
                        "(the index goes to the user's cache folder)")
    search.add_argument("--plaintext-index", action="store_true", help="for an encrypted store: keep the index "
                        "on disk anyway (it holds the text unencrypted)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "copy":
            return _copy(args.src, args.dst, args.decrypt)
        if args.command == "search":
            return _search(args)
        root: Path = args.data_dir
        if not root.is_dir():
            raise MemoryStoreError(f"{root} is not a folder")
        if args.command == "verify":
            return _verify(root)
        if args.command == "repair":
            return _repair(root, args.user)
        if args.command == "checkpoint":
            return _checkpoint(root, args.user)
        if args.command == "encrypt":
            return _encrypt(root)
        return _rotate(root)
    except MemoryStoreError as exc:
        print(f"memgui-store {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 2


if __name__ == "__main__":
    sys.exit(main())
