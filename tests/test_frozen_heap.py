"""The server keeps its long-lived heap frozen as it grows, and still collects what dies later."""

from __future__ import annotations

import gc
import threading
import time
import weakref

import pytest

from server_tuning import FrozenHeap


class Node:
    """A container the collector tracks, and that can hold a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def started():
    """Start a FrozenHeap (its own thread checks hourly unless told otherwise); afterwards stop it
    and unfreeze the test process's heap, so later tests collect as usual."""
    heaps: list[FrozenHeap] = []

    def start(**knobs: float) -> FrozenHeap:
        heaps.append(FrozenHeap(**{"check_s": 3600, **knobs}).start())
        return heaps[-1]

    yield start
    for heap in heaps:
        heap.stop()
    gc.unfreeze()
    gc.collect()


def _unfrozen() -> int:
    return len(gc.get_objects())


def test_a_grown_heap_is_frozen_and_a_small_one_is_left(started):
    heap = started(freeze_above=2_000, thaw_s=3600)
    heap.check()
    assert (heap.freezes, _unfrozen() < 2_000) == (0, True)

    grown = [Node() for _ in range(5_000)]
    assert _unfrozen() > 5_000
    heap.check()

    assert heap.freezes == 1
    assert _unfrozen() < 2_000
    assert gc.get_freeze_count() >= len(grown)


def test_a_cycle_that_dies_after_it_was_frozen_is_collected_at_the_next_thaw(started):
    heap = started(freeze_above=2_000, thaw_s=0.0)
    first, second = Node(), Node()
    first.other, second.other = second, first
    padding = [Node() for _ in range(5_000)]
    heap.check()  # freezes the cycle with the padding
    assert heap.freezes == 1
    alive = weakref.ref(first)
    del first, second, padding

    gc.collect()
    assert alive() is not None  # frozen: a collection does not reach it

    heap.check()  # thaw_s=0: the first check after a freeze thaws
    assert heap.thaws == 1
    assert alive() is None


def test_no_thaw_when_nothing_was_frozen_since_the_last(started):
    heap = started(freeze_above=1_000_000, thaw_s=0.0)
    heap.check()
    heap.check()
    assert (heap.freezes, heap.thaws) == (0, 0)


def test_the_watch_runs_on_its_own_thread_until_stopped(started):
    heap = started(freeze_above=2_000, check_s=0.05, thaw_s=3600)
    grown = [Node() for _ in range(5_000)]
    give_up = time.monotonic() + 10
    while heap.freezes == 0:
        assert time.monotonic() < give_up, "the watch never froze the grown heap"
        time.sleep(0.05)
    assert gc.get_freeze_count() >= len(grown)

    heap.stop()
    assert "frozen-heap" not in {thread.name for thread in threading.enumerate()}
