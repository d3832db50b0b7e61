"""Group commit: writes that arrive together share one transaction, written by one thread.

SQLite takes one writer at a time, so fifty clients submitting at once would otherwise queue for
fifty write transactions, each paying its BEGIN, COMMIT and the hand-overs of the interpreter
lock between them, and each holding a thread of the server's pool while it waited. Here a
coroutine puts its item on a queue and awaits a future, holding no thread; one writer thread
takes every item waiting at that moment and writes them with one call, then the next group. The
thread starts with the first item and ends once idle for IDLE_S.

A group that fails on a blip gives every member that error (each caller retries on its own); one
that fails otherwise is written item by item, so only the item at fault fails. The pattern is the
group commit of database servers' logs; no maintained Python library offers it for SQLAlchemy,
hence this small class.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from db.transient import is_transient

Item = TypeVar("Item")
Out = TypeVar("Out")
WriteGroup = Callable[[Sequence[Item]], list[Out]]

IDLE_S = 5.0  # the writer thread ends after this long with nothing to write, seconds

log = logging.getLogger(__name__)


class _Waiter(Generic[Item, Out]):
    """One caller's item, what became of it, and the future its caller awaits."""

    __slots__ = ("item", "write_group", "loop", "written", "result", "error")

    def __init__(self, item: Item, write_group: WriteGroup, loop: asyncio.AbstractEventLoop) -> None:
        self.item = item
        self.write_group = write_group
        self.loop = loop
        self.written: asyncio.Future[None] = loop.create_future()
        self.result: Out | None = None
        self.error: BaseException | None = None

    def wake(self) -> None:
        """Resolve the caller's future from the writer thread, unless it stopped waiting."""
        try:
            self.loop.call_soon_threadsafe(lambda: self.written.done() or self.written.set_result(None))
        except RuntimeError:  # its loop is closed: nobody waits any more
            pass


class GroupCommit(Generic[Item, Out]):
    """The queue of one database's writes of one kind (see the module's docstring)."""

    def __init__(self, name: str, *, idle_s: float = IDLE_S) -> None:
        self._name = name
        self._idle_s = idle_s
        self._changed = threading.Condition()
        self._waiting: list[_Waiter[Item, Out]] = []
        self._writing = False  # a writer thread is running

    async def write(self, item: Item, write_group: WriteGroup) -> Out:
        """`item`'s result, once written with whatever else was waiting. `write_group` writes a
        sequence of items in one transaction and returns their results; a group is written by
        its first member's, so every caller's must write the same database. A caller that stops
        waiting (cancelled) leaves its item queued: it is written all the same."""
        waiter = _Waiter(item, write_group, asyncio.get_running_loop())
        with self._changed:
            self._waiting.append(waiter)
            start = not self._writing
            self._writing = True
            self._changed.notify()
        if start:
            try:
                threading.Thread(target=self._write_groups, name=self._name, daemon=True).start()
            except BaseException as error:  # no thread ("can't start new thread"): fail what waits
                with self._changed:
                    stranded, self._waiting = self._waiting, []
                    self._writing = False
                for other in stranded:
                    if other is not waiter:
                        other.error = error
                        other.wake()
                raise
        await waiter.written
        if waiter.error is not None:
            raise waiter.error
        return waiter.result

    def _write_groups(self) -> None:
        while True:
            with self._changed:
                if not self._waiting:
                    self._changed.wait(self._idle_s)
                if not self._waiting:
                    self._writing = False
                    return
                group, self._waiting = self._waiting, []
            try:
                _write(group)
            except BaseException as error:  # write_group returned too few results, or raised a BaseException
                log.exception("a group of %d writes failed", len(group))
                for waiter in group:
                    if waiter.result is None and waiter.error is None:
                        waiter.error = error
            finally:
                for waiter in group:
                    waiter.wake()


def _write(group: list[_Waiter]) -> None:
    """Each waiter's result, or its error."""
    write_group = group[0].write_group
    try:
        results = write_group([waiter.item for waiter in group])
    except Exception as error:
        if len(group) == 1 or is_transient(error):
            for waiter in group:
                waiter.error = _own(error)
            return
    else:
        for waiter, result in list(zip(group, results, strict=True)):  # all or none, if the counts differ
            waiter.result = result
        return
    for waiter in group:  # a real error: find the item at fault, write the others
        try:
            waiter.result = write_group([waiter.item])[0]
        except Exception as error:
            waiter.error = error


def _own(error: Exception) -> Exception:
    """A copy of `error` for one caller, caused by it: raised from several coroutines, the one
    object would collect all their tracebacks."""
    mine = copy.copy(error)
    mine.__cause__ = error
    return mine
