"""Bulk work's helpers (`store.base.bulk`): the next part made while the last is used."""
import threading

import pytest

from store.base.bulk import made_ahead


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


def _making() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("custdesk-ahead")]


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
