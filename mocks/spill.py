"""Change-log windows at national volume, within a bounded memory.

At a few hundred thousand dossiers a year a window's look-back (≈ 73 days of dossiers and their
derived records) fits in memory and `DossierGenerator` keeps it there. Above that, the records
go to disk instead: a submission day is generated once (the same `random.Random` per day, so the
same rows), each stream's records are written, sorted and compressed, to files per *arrival* day — the day of
their `NgayCapNhat` (or later under the late_updates fault), which may be weeks after the
submission — and the dossiers are dropped. A window then merges the files of its arrival days.
So a night needs only its new submission day, and memory holds one day's dossiers at a time.

An arrival day X is complete once every submission day in [X − LOOKBACK_DAYS, X] has written its
records for X. Files live in a temporary directory removed with the generator (or, if its process
was killed, by the next store's start); the least
recently used complete arrival days are deleted beyond `keep_days` (regenerated if asked for again),
and the windows' own files (uncompressed, for paging) beyond `keep_windows`.
"""
from __future__ import annotations

import heapq
import json
import os
import shutil
import tempfile
import threading
import weakref
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta

from mocks.timefmt import fmt_onestop

LINE_FIELDS = 5   # arrival, ts, key, n, JSON row


def _dumps(row: dict) -> bytes:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode()


def _order(line: bytes) -> tuple:
    _arrival, ts, key, n, _row = line.split(b"\t", 4)
    return ts, key, int(n)


class SpilledWindow(Sequence):
    """A window's entries (ts, key, n, row) in order, read from its file on demand."""

    def __init__(self, path: str, offsets: array):
        self.path = path
        self.offsets = offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i):
        if isinstance(i, slice):
            lo, hi, step = i.indices(len(self))
            if step != 1:
                raise ValueError("a window is read in contiguous slices")
            if lo >= hi:
                return []
            with open(self.path, "rb") as f:
                f.seek(self.offsets[lo])
                data = f.read(self.offsets[hi] - self.offsets[lo])
            return [_entry(line) for line in data.splitlines()]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self[i:i + 1][0]

    def close(self) -> None:
        with _suppress_missing():
            os.remove(self.path)


def _entry(line: bytes) -> tuple:
    _arrival, ts, key, n, row = line.split(b"\t", 4)
    return ts.decode(), key.decode(), int(n), json.loads(row)


class _suppress_missing:
    def __enter__(self):
        return self

    def __exit__(self, kind, _exc, _tb):
        return kind is FileNotFoundError


def _remove_orphans() -> None:
    """Directories of simulator processes that are gone: a server stopped by SIGTERM exits
    without running its finalizers."""
    root = tempfile.gettempdir()
    for name in os.listdir(root):
        parts = name.split("-")
        if not (name.startswith("mocks-spill-") and len(parts) == 4 and parts[2].isdigit()):
            continue
        try:
            os.kill(int(parts[2]), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
        except PermissionError:
            pass


class SpillStore:
    def __init__(self, gen, keep_days: int = 16, keep_windows: int = 6):
        self.gen = gen
        _remove_orphans()
        self.dir = tempfile.mkdtemp(prefix=f"mocks-spill-{os.getpid()}-")
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.dir, True)
        self.keep_days = keep_days
        self.keep_windows = keep_windows
        # arrival day -> submission days whose records for it are on disk
        self.written: dict[date, set[date]] = {}
        self.runs: dict[tuple[str, date], list[tuple[int, int]]] = {}   # (stream, arrival day) -> (offset, length)
        self.used: OrderedDict[date, None] = OrderedDict()
        self.windows: OrderedDict[tuple, SpilledWindow] = OrderedDict()
        self.generated: list[date] = []   # submission days generated, in order (tests check laziness)
        self.lock = threading.Lock()
        self._serial = 0

    # ------------------------------------------------------------------ submission days
    def _submission_days(self, x: date) -> list[date]:
        p = self.gen.profile
        from mocks.dossiers import LOOKBACK_DAYS
        lo = max(p.data_start, x - timedelta(days=LOOKBACK_DAYS))
        hi = min(p.data_end, x)
        return [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]

    def _complete(self, x: date) -> bool:
        done = self.written.get(x, set())
        return all(d in done for d in self._submission_days(x))

    def _path(self, stream: str, x: date) -> str:
        return os.path.join(self.dir, f"{stream}-{x:%Y%m%d}")

    def _spill_day(self, d: date) -> None:
        """Generate submission day d and append each stream's records to their arrival days' files."""
        from mocks.dossiers import LOOKBACK_DAYS
        batch = self.gen._generate_day(d)
        self.generated.append(d)
        arrivals: set[date] = set()
        for name, build in self.gen.builders.items():
            groups: dict[str, list] = {}
            for e in build(batch):
                groups.setdefault(e[0][:8], []).append(e)
            for xs, entries in groups.items():
                x = datetime.strptime(xs, "%Y%m%d").date()
                arrivals.add(x)
                if d in self.written.get(x, ()):
                    continue
                entries.sort(key=lambda e: e[1:4])
                lines = []
                for arrival, ts, key, n, ref in entries:
                    row = batch.dossiers[ref[1]].version(ref[2]) if name == "hoso" else ref
                    lines.append(b"\t".join((arrival.encode(), ts.encode(), key.encode(), str(n).encode(),
                                             _dumps(row))) + b"\n")
                data = zlib.compress(b"".join(lines), 1)
                with open(self._path(name, x), "ab") as f:
                    offset = f.tell()
                    f.write(data)
                self.runs.setdefault((name, x), []).append((offset, len(data)))
        for x in arrivals | {d + timedelta(days=i) for i in range(LOOKBACK_DAYS + 1)}:
            self.written.setdefault(x, set()).add(d)
            self.used.setdefault(x, None)

    def _lines(self, stream: str, x: date) -> Iterator[bytes]:
        """The records of one arrival day in (ts, key, n) order: one sorted run per submission day."""
        runs = self.runs.get((stream, x), [])
        if not runs:
            return iter(())
        path = self._path(stream, x)

        def run(offset: int, length: int) -> Iterator[bytes]:
            inflate = zlib.decompressobj()
            tail = b""
            with open(path, "rb") as f:
                f.seek(offset)
                while length > 0:
                    chunk = f.read(min(length, 1 << 15))
                    length -= len(chunk)
                    lines = (tail + inflate.decompress(chunk)).split(b"\n")
                    tail = lines.pop()
                    for line in lines:
                        yield line + b"\n"
        if len(runs) == 1:
            return run(*runs[0])
        return heapq.merge(*(run(o, n) for o, n in runs), key=_order)

    def _evict(self, needed: set[date]) -> None:
        """Drop the least recently used arrival days beyond keep_days, past or complete ones: not the
        days after this window still being filled by later submission days (they would cost their
        whole look-back again)."""
        first = min(needed, default=date.max)
        done = [x for x in self.used if x not in needed and (x < first or self._complete(x))]
        for x in done[:max(0, len(done) - self.keep_days)]:
            self.used.pop(x)
            self.written.pop(x, None)
            for name in self.gen.builders:
                self.runs.pop((name, x), None)
                with _suppress_missing():
                    os.remove(self._path(name, x))

    # ------------------------------------------------------------------ windows
    def window(self, name: str, start: datetime, end: datetime) -> SpilledWindow:
        key = (name, start, end)
        with self.lock:
            hit = self.windows.get(key)
            if hit is not None:
                self.windows.move_to_end(key)
                return hit
            from mocks.dossiers import LOOKBACK_DAYS
            p = self.gen.profile
            first = max(start.date(), p.data_start)
            last = min((end - timedelta(microseconds=1)).date(), p.data_end + timedelta(days=LOOKBACK_DAYS))
            needed = [first + timedelta(days=i) for i in range((last - first).days + 1)]
            todo = sorted({d for x in needed if not self._complete(x)
                           for d in self._submission_days(x) if d not in self.written.get(x, ())})
            for d in todo:
                self._spill_day(d)
            for x in needed:
                self.used[x] = None
                self.used.move_to_end(x)
            a, b = fmt_onestop(start).encode(), fmt_onestop(end).encode()
            self._serial += 1
            path = os.path.join(self.dir, f"window-{self._serial}")
            offsets = array("q", [0])
            merged = heapq.merge(*(self._lines(name, x) for x in needed), key=_order)
            with open(path, "wb") as out:
                pos = 0
                for line in merged:
                    if a <= line[:14] < b:
                        out.write(line)
                        pos += len(line)
                        offsets.append(pos)
            w = SpilledWindow(path, offsets)
            self.windows[key] = w
            while len(self.windows) > self.keep_windows:
                self.windows.popitem(last=False)[1].close()
            self._evict(set(needed))
            return w
