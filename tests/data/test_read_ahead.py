"""read_ahead: a background thread produces the next items; order, errors and stopping."""

import threading
import time

import pytest

from lit_ctr.data.read_ahead import read_ahead


def test_items_come_in_order_and_all_of_them():
    assert list(read_ahead(iter(range(50)), depth=2)) == list(range(50))


def test_an_empty_source_gives_nothing():
    assert list(read_ahead(iter([]))) == []


def test_the_next_item_is_produced_while_the_caller_works_on_this_one():
    produced = []

    def source():
        for i in range(3):
            produced.append(i)
            yield i

    items = read_ahead(source(), depth=1)
    assert next(items) == 0
    deadline = time.monotonic() + 5
    while len(produced) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert produced[:2] == [0, 1]  # item 1 is ready before the caller asks for it
    assert list(items) == [1, 2]


def test_an_error_while_producing_is_raised_at_its_item():
    def source():
        yield "a"
        raise ValueError("line 3 is bad")

    items = read_ahead(source())
    assert next(items) == "a"
    with pytest.raises(ValueError, match="line 3 is bad"):
        next(items)


def test_stopping_early_stops_the_thread_and_closes_the_source():
    closed = threading.Event()

    def source():
        try:
            yield from range(1000)
        finally:
            closed.set()

    items = read_ahead(source(), depth=1)
    assert next(items) == 0
    items.close()  # what a caller's error or a dropped iterator does
    assert closed.wait(5)
    assert not any(t.name == "lit-ctr-read-ahead" for t in threading.enumerate())
