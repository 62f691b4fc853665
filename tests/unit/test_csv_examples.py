"""FirstExamples keeps (line, value) pairs packed; they must come back exactly as given."""

import copy

from csv_examples import FirstExamples


def test_examples_come_back_in_order_with_their_lines() -> None:
    first = FirstExamples()
    first.extend([3, 9], ["", "naïve ☃"])
    first.extend([12], ["x,y"])
    assert len(first) == 3
    assert first.items() == [(3, ""), (9, "naïve ☃"), (12, "x,y")]


def test_a_copy_is_independent() -> None:
    # A twin typing (a reading not settled yet) is a deep copy of the column's typing.
    first = FirstExamples()
    first.extend([1], ["a"])
    twin = copy.deepcopy(first)
    twin.extend([2], ["b"])
    assert first.items() == [(1, "a")]
    assert twin.items() == [(1, "a"), (2, "b")]


def test_empty_examples() -> None:
    assert FirstExamples().items() == []
    assert len(FirstExamples()) == 0
