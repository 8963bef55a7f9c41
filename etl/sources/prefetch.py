"""Reading a source's next pages while the pages already received are validated and loaded."""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator

# About one loader chunk (etl.load.CHUNK_RECORDS) of 1,000-record pages: the source is read while a
# chunk is validated and loaded, and memory holds at most two chunks per reader.
DEPTH = 20
_DONE = object()


class Prefetch:
    """The same pages in the same order, fetched by a thread (started at once) up to `depth` pages ahead.
    With `after`, the thread starts fetching when that reader has fetched its last page: a system's feeds
    are read in turn, never two at a time, while the feeds before them load. A fetching error is raised
    where the failing page would have been read; `close()` (or leaving the iteration) stops the thread at
    its next page. `name` names the thread. Iterate it once."""

    def __init__(self, pages: Iterable[list[dict]], depth: int = DEPTH, after: Prefetch | None = None,
                 name: str = "prefetch"):
        self._ahead: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self.fetched = threading.Event()  # the last page is queued, or the thread gave up
        self._thread = threading.Thread(target=self._fetch, args=(pages, after), name=name, daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _fetch(self, pages: Iterable[list[dict]], after: Prefetch | None) -> None:
        try:
            while after is not None and not after.fetched.wait(0.1) and not self._stop.is_set():
                continue
            if self._stop.is_set():
                return
            for page in pages:
                if not self._put(page):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread, raised there
            self._put(exc)
            return
        finally:
            self.fetched.set()
        self._put(_DONE)

    def __iter__(self) -> Iterator[list[dict]]:
        try:
            while (item := self._ahead.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()


def prefetched(pages: Iterable[list[dict]], depth: int = DEPTH) -> Iterator[list[dict]]:
    """One source's pages read ahead (Prefetch)."""
    return iter(Prefetch(pages, depth))
