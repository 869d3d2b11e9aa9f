"""Throughput of the memory store's hot path, beside the disk's physical limit, the older code and TinyDB.

Prints, in one run, at history sizes of 100, 10,000 and 100,000 messages already stored (archive included):

* the raw fsync rate of the disk: a 1-byte ``pwrite`` at offset 0 + ``fsync`` on a file in the benchmark
  folder, probed between every tenth of each store case and around the TinyDB cases (the rate drifts);
* durable ``add_message`` (``DURABLE_WRITES=true``, ``MAX_MESSAGES=100``) and its ratio to the median raw
  rate probed during that very case;
* the same with ``DURABLE_WRITES=false``;
* the floor of a durable ``add_message``: the file operations alone that one call does in the v1 layout (lock,
  journal append + ``fdatasync``, archive append, two file replacements; ``store_cases.time_floor``), with its
  ratio to the raw rate probed during it: the most any store writing those files could reach;
* the older implementation's ``store_message`` (``tests/support/older_store.py``: load, append, dump the v1
  files) over the same history, which it kept at MAX_MESSAGES, dropping the rest;
* with no history limit (``MAX_MESSAGES=0``): non-durable ``add_message`` and how many messages the history
  file lagged behind (see README "How a write survives"), beside the older ``store_message`` with no limit;
* TinyDB (default ``JSONStorage``) inserting the same records, one insert per message, into a database
  kept at that size (put back after every 20 inserts, untimed);
* the cost of one read of the history (the kept messages, and everything with the archive), cold and warm.

Every case runs in a fresh temporary folder (a copy of a history seeded once per size) with the same
message text; the sizes take turns, so that a drift of the machine's speed falls on all of them alike. The
timed part of a store case includes its final ``close()`` (writing the journaled messages into the v1
files), so no work is left out.
Figures only: nothing here asserts a time. ``--quick`` makes a short run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

from store_cases import time_floor, time_older_store_message, time_unlimited

from memgui.store import JsonMemoryStore, build_config

TEXT = "Hello Elysia! I was thinking about what you said yesterday, and I would like to talk about it again."
USER = "bench_user"
SIZES = (100, 10_000, 100_000)
START = datetime(2024, 1, 1, 8, tzinfo=timezone.utc)
STEP = timedelta(minutes=5)  # 100,000 messages span about a year: realistic interaction_dates


@dataclass
class Row:
    """The figures of one history size (store cases repeated; the medians are reported)."""

    size: int
    durables: list[float] = field(default_factory=list)  # add_message per second, one per repetition
    ratios: list[float] = field(default_factory=list)  # each over the raw rate probed during it
    raws: list[float] = field(default_factory=list)  # median raw fsync rate during each durable case
    overheads: list[float] = field(default_factory=list)  # ms per durable call beyond one raw fsync
    fasts: list[float] = field(default_factory=list)  # add_message per second without fsync
    floors: list[float] = field(default_factory=list)  # the bare file operations per second (time_floor)
    floor_ratios: list[float] = field(default_factory=list)  # each over the raw rate probed during it
    tinydb: float = 0.0  # inserts per second
    older: float = 0.0  # the older store_message per second
    tinydb_ops: int = 0
    reads: dict[str, float] = field(default_factory=dict)  # seconds per read

    @property
    def _median_run(self) -> int:
        """The durable run whose ratio is the median: its figures are reported together, consistently."""
        return sorted(range(len(self.ratios)), key=self.ratios.__getitem__)[(len(self.ratios) - 1) // 2]

    @property
    def durable(self) -> float:
        return self.durables[self._median_run]

    @property
    def durable_raw(self) -> float:
        return self.raws[self._median_run]

    @property
    def ratio(self) -> float:
        return self.ratios[self._median_run]

    @property
    def overhead_ms(self) -> float:
        return self.overheads[self._median_run]

    @property
    def fast(self) -> float:
        return statistics.median(self.fasts)

    @property
    def floor_ratio(self) -> float:
        return statistics.median(self.floor_ratios)


@contextlib.contextmanager
def scratch(base: Path, name: str) -> Iterator[Path]:
    """A fresh folder for one case, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-{name}-", dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def raw_fsync_rate(folder: Path, count: int) -> float:
    """1-byte pwrite at offset 0 + fsync, ``count`` times: syncs per second (the disk's physical limit)."""
    path = folder / "fsync-probe"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.pwrite(fd, b"x", 0)
        os.fsync(fd)
        start = time.perf_counter()
        for _ in range(count):
            os.pwrite(fd, b"x", 0)
            os.fsync(fd)
        return count / (time.perf_counter() - start)
    finally:
        os.close(fd)
        path.unlink()


def message(i: int) -> dict[str, Any]:
    """The i-th message of a user's history, as ``add_messages`` takes it."""
    return {"role": "user" if i % 2 == 0 else "assistant", "content": TEXT,
            "timestamp": (START + STEP * i).isoformat(), "metadata": {}}


def tinydb_record(i: int) -> dict[str, Any]:
    """The same message as a TinyDB document (what an assistant would insert there)."""
    msg = message(i)
    return {"user_id": USER, "content": msg["content"], "timestamp": msg["timestamp"],
            "is_user": msg["role"] == "user", "role": msg["role"], "metadata": {},
            "word_count": len(TEXT.split())}


def open_store(folder: Path, durable: bool) -> JsonMemoryStore:
    config = build_config({"DATA_DIR": folder / "data", "DURABLE_WRITES": durable, "MAX_MESSAGES": 100,
                           "DEFAULT_TIMEZONE": "UTC"}, environ={})
    return JsonMemoryStore(config)


def seed_store(folder: Path, size: int, durable: bool) -> None:
    """``size`` messages already stored: MAX_MESSAGES in the history, the rest in the archive."""
    store = open_store(folder, durable)
    for first in range(0, size, 20_000):
        store.add_messages(USER, [message(i) for i in range(first, min(size, first + 20_000))])
    store.close()


def time_add_message(folder: Path, size: int, ops: int, durable: bool,
                     between: Callable[[], object] = lambda: None, chunks: int = 10) -> float:
    """add_message calls per second on a store reopened over ``size`` stored messages (close included).

    ``between`` runs before every chunk of ``ops / chunks`` calls and after the last one, outside the timing
    (the raw fsync probe: the disk's rate drifts, so it is measured right beside the calls it compares with).
    """
    store = open_store(folder, durable)
    stamps = [(START + STEP * (size + i)).isoformat() for i in range(ops)]
    bounds = [ops * k // chunks for k in range(chunks + 1)]
    elapsed = 0.0
    for k in range(chunks):
        between()
        start = time.perf_counter()
        for i in range(bounds[k], bounds[k + 1]):
            store.add_message(USER, "user" if i % 2 == 0 else "assistant", TEXT, timestamp=stamps[i])
        if k == chunks - 1:
            store.close()
        elapsed += time.perf_counter() - start
    between()
    check = open_store(folder, durable)
    stored = check.get_conversation_metrics(USER)["message_count"]
    check.close()
    if stored != size + ops:
        raise SystemExit(f"benchmark broken: {stored} messages counted, {size + ops} expected")
    return ops / elapsed


def time_reads(folder: Path, size: int) -> dict[str, float]:
    """Seconds for one read of the history: kept messages and everything, first (cold) and repeated (warm)."""
    out: dict[str, float] = {}
    for label, archived in (("recent", False), ("all", True)):
        store = open_store(folder, durable=False)
        start = time.perf_counter()
        got = store.get_message_history(USER, include_archived=archived)
        out[f"{label} cold"] = time.perf_counter() - start
        repeats = 5
        start = time.perf_counter()
        for _ in range(repeats):
            store.get_message_history(USER, include_archived=archived)
        out[f"{label} warm"] = (time.perf_counter() - start) / repeats
        store.close()
        expected = min(size, 100) if not archived else size
        if len(got) < expected:
            raise SystemExit(f"benchmark broken: read {len(got)} messages, expected {expected}")
    return out


def time_tinydb(folder: Path, size: int, ops: int, batch: int = 20) -> float:
    """TinyDB inserts per second into a database holding ``size`` records (up to ``size + batch``: every
    insert rewrites the whole file, so the database is put back to ``size`` records, untimed, after each
    batch; otherwise 2,000 inserts at 100 would measure a database of 2,100)."""
    from tinydb import TinyDB

    path = folder / "tinydb.json"
    db = TinyDB(path)
    seed = [tinydb_record(i) for i in range(size)]
    records = [tinydb_record(size + i) for i in range(ops)]
    elapsed = 0.0
    for first in range(0, ops, batch):
        db.truncate()
        for chunk in range(0, size, 20_000):
            db.insert_multiple(seed[chunk:chunk + 20_000])
        start = time.perf_counter()
        for record in records[first:first + batch]:
            db.insert(record)
        elapsed += time.perf_counter() - start
    db.close()
    check = TinyDB(path)
    stored = len(check)
    check.close()
    if stored != size + len(records[(len(records) - 1) // batch * batch:]):
        raise SystemExit(f"benchmark broken: TinyDB holds {stored} records")
    return ops / elapsed


class RawProbe:
    """Raw fsync measurements interleaved with the cases; every figure is kept for the summary."""

    def __init__(self, base: Path, count: int) -> None:
        self.base = base
        self.count = count
        self.samples: list[float] = []

    def __call__(self) -> float:
        with scratch(self.base, "raw") as folder:
            rate = raw_fsync_rate(folder, self.count)
        self.samples.append(rate)
        return rate

    def during(self, case: Callable[[Callable[[], object]], float]) -> tuple[float, float]:
        """(the case's figure, the median raw rate of the probes it ran between its chunks)."""
        first = len(self.samples)
        figure = case(self)
        return figure, statistics.median(self.samples[first:])


def filesystem_of(path: Path) -> str:
    """The mount's file system type (Linux), to spot a tmpfs where fsync costs nothing."""
    best, kind = "", "unknown"
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                parts = line.split()
                if len(parts) > 2 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
                    best, kind = parts[1], parts[2]
    except OSError:
        pass
    return kind


def run(base: Path, sizes: tuple[int, ...], ops: int, tinydb_ops: dict[int, int], raw_count: int,
        repeat: int, say: Callable[[str], None]) -> tuple[list[Row], RawProbe]:
    """Every store case ``repeat`` times, the sizes taking turns (so that a drift of the machine's speed
    falls on every size alike), each in a fresh copy of a history seeded once per size; then TinyDB."""
    probe = RawProbe(base, raw_count)
    rows = {size: Row(size) for size in sizes}
    with contextlib.ExitStack() as stack:
        seeded = {}
        for size in sizes:
            seeded[size] = stack.enter_context(scratch(base, f"seed-{size}"))
            seed_store(seeded[size], size, durable=True)
        for rep in range(repeat):
            for size in sizes:
                row = rows[size]
                with scratch(base, f"durable-{size}") as folder:
                    shutil.copytree(seeded[size], folder, dirs_exist_ok=True)
                    durable, raw = probe.during(partial(time_add_message, folder, size, ops, True))
                    row.durables.append(durable)
                    row.raws.append(raw)
                    row.ratios.append(durable / raw)
                    row.overheads.append((1 / durable - 1 / raw) * 1000)
                    if rep == 0:
                        row.reads = time_reads(folder, size + ops)
                with scratch(base, f"floor-{size}") as folder:
                    floor, floor_raw = probe.during(partial(time_floor, folder, ops))
                    row.floors.append(floor)
                    row.floor_ratios.append(floor / floor_raw)
                with scratch(base, f"fast-{size}") as folder:
                    shutil.copytree(seeded[size], folder, dirs_exist_ok=True)
                    row.fasts.append(probe.during(partial(time_add_message, folder, size, ops, False))[0])
                say(f"  {size:>7,} stored, run {rep + 1}/{repeat}: durable add_message {durable:6.0f}/s "
                    f"(raw fsync {raw:4.0f}/s, ratio {durable / raw:.2f}); floor {floor:6.0f}/s "
                    f"(ratio {row.floor_ratios[-1]:.2f}); non-durable {row.fasts[-1]:6.0f}/s")
    for size in sizes:
        row = rows[size]
        row.tinydb_ops = tinydb_ops.get(size, max(3, ops // 100))
        with scratch(base, f"tinydb-{size}") as folder:
            probe()
            row.tinydb = time_tinydb(folder, size, row.tinydb_ops)
            probe()
        say(f"  {size:>7,} stored: TinyDB insert {row.tinydb:8.1f}/s ({row.tinydb_ops} inserts)")
        with scratch(base, f"older-{size}") as folder:
            row.older = time_older_store_message(folder, size, max(50, ops // 4))
        say(f"  {size:>7,} stored: older store_message {row.older:8.1f}/s")
    return list(rows.values()), probe


UNLIMITED = ((100, 300), (1_000, 300), (10_000, 300), (100_000, 100))


def run_unlimited(base: Path, quick: bool, say: Callable[[str], None]) -> list[tuple[int, float, float, float]]:
    """(history size, add_message/s, largest lag of the file in messages, older store_message/s), MAX_MESSAGES=0."""
    out = []
    for size, ops in UNLIMITED[:3] if quick else UNLIMITED:
        with scratch(base, f"unlimited-{size}") as folder:
            rate, lag = time_unlimited(folder, size, ops)
        with scratch(base, f"older-unlimited-{size}") as folder:
            older = time_older_store_message(folder, size, max(3, min(ops, 300_000 // size)), limit=0)
        say(f"  MAX_MESSAGES=0, {size:>7,} in the history: add_message {rate:7.0f}/s (file behind by at most "
            f"{lag:.0f}), older store_message {older:7.1f}/s")
        out.append((size, rate, lag, older))
    return out


def report(rows: list[Row], probe: RawProbe, ops: int, repeat: int,
           unlimited: list[tuple[int, float, float, float]]) -> None:
    raw = probe.samples
    print()
    print(f"Raw fsync (1-byte pwrite at offset 0 + fsync): median {statistics.median(raw):.0f}/s, "
          f"min {min(raw):.0f}/s, max {max(raw):.0f}/s over {len(raw)} probes")
    print()
    head = (f"{'stored':>9} | {'durable/s':>9} | {'raw fsync/s':>11} | {'ratio':>5} | {'beyond fsync':>12} | "
            f"{'floor ratio':>11} | {'no fsync/s':>10} | {'older/s':>8} | {'TinyDB/s':>8} | {'no fsync/TinyDB':>15}")
    print(head)
    print("-" * len(head))
    for r in rows:
        lead = f"{r.fast / r.tinydb:.1f}x" if r.tinydb else "-"
        print(f"{r.size:>9,} | {r.durable:>9.0f} | {r.durable_raw:>11.0f} | {r.ratio:>5.2f} | "
              f"{r.overhead_ms:>9.2f} ms | {r.floor_ratio:>11.2f} | {r.fast:>10.0f} | {r.older:>8.0f} | "
              f"{r.tinydb:>8.1f} | {lead:>15}")
    print(f"({repeat} runs of {ops} add_message calls per store case, MAX_MESSAGES=100, close() included; "
          "durable columns: the run with the median ratio; no fsync: the median run; ratio = durable over the "
          "raw rate probed during the same run; beyond fsync = time per "
          "durable call minus one raw fsync; floor ratio = the file operations alone of a durable call (no code) "
          "over the raw rate probed during them, median run; TinyDB, at most 20 records above the size: "
          + ", ".join(f"{r.tinydb_ops} inserts at {r.size:,}" for r in rows) + ")")
    print()
    print("One read of the history (get_message_history), milliseconds:")
    print(f"{'stored':>9} | {'recent, cold':>12} | {'recent, warm':>12} | {'all, cold':>10} | {'all, warm':>10}")
    for r in rows:
        ms = {k: v * 1000 for k, v in r.reads.items()}
        print(f"{r.size + ops:>9,} | {ms['recent cold']:>12.2f} | {ms['recent warm']:>12.2f} | "
              f"{ms['all cold']:>10.1f} | {ms['all warm']:>10.1f}")
    print()
    if unlimited:
        print("No history limit (MAX_MESSAGES=0), DURABLE_WRITES=false: add_message per second, how many messages "
              "the history file lagged at most right after a call, the older store_message per second:")
        print(f"{'history':>9} | {'add_message/s':>13} | {'file behind':>11} | {'older/s':>9}")
        for size, rate, lag, older in unlimited:
            print(f"{size:>9,} | {rate:>13.0f} | {lag:>11.0f} | {older:>9.1f}")
        print()
    verdicts(rows)


def verdicts(rows: list[Row]) -> None:
    """The targets of the issue, each with the figures it rests on."""
    worst = min(rows, key=lambda r: r.ratio)
    floor = max(r.floor_ratio for r in rows)
    print(f"Target: durable add_message >= 0.4 of raw fsync (MAX_MESSAGES=100): "
          f"{'met' if worst.ratio >= 0.4 else 'NOT met'} (lowest ratio {worst.ratio:.3f} at {worst.size:,}; "
          f"the file operations alone of such a call reach {floor:.2f} at best)")
    beats_older = all(r.fast > r.older for r in rows)
    print(f"Target: non-durable add_message beats the older store_message at every size: "
          f"{'met' if beats_older else 'NOT met'} (smallest lead {min(r.fast / r.older for r in rows):.1f}x)")
    beats = all(r.fast > r.tinydb for r in rows)
    print(f"Target: non-durable add_message beats TinyDB at every size: {'met' if beats else 'NOT met'} "
          f"(smallest lead {min(r.fast / r.tinydb for r in rows if r.tinydb):.1f}x)")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        # The store's own work is what could grow with the archive: it is measured without fsync, where
        # the disk's drift does not blur it. The durable figure shown beside it is the time per durable
        # call beyond one raw fsync probed during the same case.
        growth = first.fast / last.fast if last.fast else float("inf")
        print(f"Target: the cost does not grow with the archive: {'met' if growth <= 1.5 else 'NOT met'} "
              f"(non-durable cost per call at {last.size:,} vs {first.size:,} stored: x{growth:.2f}, "
              f"'met' means at most x1.5; durable time beyond one fsync: {first.overhead_ms:.2f} ms at "
              f"{first.size:,}, {last.overhead_ms:.2f} ms at {last.size:,})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run (fewer operations)")
    parser.add_argument("--dir", type=Path, default=None,
                        help="where the temporary folders go (default: the system temp folder)")
    parser.add_argument("--ops", type=int, default=None, help="add_message calls per store case")
    parser.add_argument("--sizes", type=str, default=None, help="history sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=None, help="runs of each store case (medians reported)")
    args = parser.parse_args(argv)

    ops = args.ops or (300 if args.quick else 2_000)
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else SIZES
    tinydb_ops = ({100: 300, 10_000: 30, 100_000: 3} if args.quick else {100: 2_000, 10_000: 200, 100_000: 20})
    raw_count = 40 if args.quick else 60
    repeat = args.repeat or (1 if args.quick else 3)
    base = (args.dir or Path(tempfile.gettempdir())).absolute()
    base.mkdir(parents=True, exist_ok=True)

    print(f"memgui store benchmark: Python {platform.python_version()}, {platform.system()} "
          f"{platform.release()}, {os.cpu_count()} CPUs; tinydb {version('tinydb')}, filelock {version('filelock')}")
    print(f"folder {base} on {filesystem_of(base)}; sizes {', '.join(f'{s:,}' for s in sizes)}; "
          f"{ops} add_message calls per case, {repeat} run(s) each{' (quick)' if args.quick else ''}")
    if filesystem_of(base) in ("tmpfs", "ramfs"):
        print("warning: this folder is in memory, fsync costs nothing here; use --dir on a real disk")
    started = time.perf_counter()
    say = lambda line: print(line, flush=True)  # noqa: E731
    rows, probe = run(base, sizes, ops, tinydb_ops, raw_count, repeat, say)
    unlimited = run_unlimited(base, args.quick, say)
    report(rows, probe, ops, repeat, unlimited)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
