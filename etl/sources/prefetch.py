"""Reading a source's next pages while the pages already received are validated and loaded."""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator

# About one loader chunk (etl.load.CHUNK_RECORDS) of 1,000-record pages: the source is read while a
# chunk is validated and loaded, and memory holds at most two chunks.
DEPTH = 20
_DONE = object()


def prefetched(pages: Iterable[list[dict]], depth: int = DEPTH) -> Iterator[list[dict]]:
    """The same pages in the same order, fetched by a thread up to `depth` pages ahead. A fetching
    error is raised here, where the failing page would have been read; leaving early stops the thread
    at its next page."""
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            for page in pages:
                if not put(page):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread, raised there
            put(exc)
            return
        put(_DONE)

    thread = threading.Thread(target=fetch, name="prefetch", daemon=True)
    thread.start()
    try:
        while (item := ahead.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
