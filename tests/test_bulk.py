"""Bulk work's helpers (`store.base.bulk`): the next part made while the last is used,
parts worked on two at a time."""
import threading
import time

import pytest

from store.base.bulk import made_ahead, worked_at_once


def test_parts_come_in_order_made_on_another_thread_one_ahead_at_most():
    made, threads = [], set()

    def parts():
        for n in range(6):
            made.append(n)
            threads.add(threading.get_ident())
            yield None if n == 3 else n  # (a part may be None)

    taken = []
    for part in made_ahead(parts()):
        # (the part taken and the next, being made or made: never two ahead)
        assert len(made) - len(taken) <= 2
        taken.append(part)
    assert taken == [0, 1, 2, None, 4, 5] and made == list(range(6))
    assert threads and threading.get_ident() not in threads


def test_an_error_making_a_part_is_raised_where_it_is_taken_after_the_parts_before_it():
    def parts():
        yield "a"
        raise ValueError("part 2 is broken")

    taken = []
    with pytest.raises(ValueError, match="part 2 is broken"):
        for part in made_ahead(parts()):
            taken.append(part)
    assert taken == ["a"]


def _making(prefix: str = "custdesk-ahead") -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def _counted_parts(made: list[int]):
    """Parts 0 to 99, each noted in `made` as it is made."""
    for n in range(100):
        made.append(n)
        yield n


def test_a_caller_that_stops_early_stops_the_making_and_its_thread():
    made: list[int] = []
    ahead = made_ahead(_counted_parts(made))
    assert next(ahead) == 0
    ahead.close()  # (the part being made is waited for, none after)
    assert made == [0, 1] and not _making()


def test_an_error_where_a_part_is_used_stops_the_making_and_is_raised_as_it_is():
    made: list[int] = []
    with pytest.raises(OSError, match="the server went away"):
        for part in made_ahead(_counted_parts(made)):
            if part == 2:  # (a COPY the server breaks off)
                raise OSError("the server went away")
    assert made == [0, 1, 2, 3] and not _making()


class _Worker:
    """Work that takes a moment, noting how many items are worked on at once, and on which threads."""

    def __init__(self, broken: int | None = None) -> None:
        self.lock, self.now, self.most, self.threads, self.begun = threading.Lock(), 0, 0, set(), []
        self.broken = broken

    def __call__(self, item: int) -> int:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.threads.add(threading.get_ident())
            self.begun.append(item)
        time.sleep(0.02)
        with self.lock:
            self.now -= 1
        if item == self.broken:
            raise ValueError(f"item {item} is broken")
        return item * 10


def test_items_are_answered_in_order_two_worked_on_at_once_on_other_threads():
    work, taken = _Worker(), []
    made: list[int] = []
    for item, answer in worked_at_once(work, _counted_parts(made)):
        assert len(made) - len(taken) <= 2  # (the items are taken as they are needed)
        taken.append((item, answer))
    assert taken == [(n, n * 10) for n in range(100)]
    assert work.most == 2 and threading.get_ident() not in work.threads and not _making("custdesk-at-once")


def test_an_error_working_on_an_item_is_raised_at_its_turn_after_the_answers_before_it():
    work, taken = _Worker(broken=3), []
    with pytest.raises(ValueError, match="item 3 is broken"):
        for item, _answer in worked_at_once(work, range(10)):
            taken.append(item)
    assert taken == [0, 1, 2] and max(work.begun) <= 4 and not _making("custdesk-at-once")


def test_a_caller_that_stops_early_begins_no_more_and_waits_for_those_begun():
    work = _Worker()
    answers = worked_at_once(work, range(100))
    assert next(answers) == (0, 0)
    answers.close()
    assert work.begun == [0, 1] and work.now == 0 and not _making("custdesk-at-once")


def test_a_single_item_is_worked_on_where_it_is_asked():
    work = _Worker()
    assert list(worked_at_once(work, iter([4]))) == [(4, 40)] and work.threads == {threading.get_ident()}
    assert list(worked_at_once(work, [])) == []
