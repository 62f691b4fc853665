"""The first values of one class in a column, with their lines: what a misfit shows."""

from __future__ import annotations

from array import array


class FirstExamples:
    """Values in the order they came, each with its line (how many is the caller's limit,
    ``Typing.max_examples``), kept compactly: a wide file's thousands of columns each keep
    a few classes' worth, and as tuples of line and string an example costs ~150 bytes of
    objects; here, ~16 and its characters.
    """

    __slots__ = ("_ends", "_lines", "_text")

    def __init__(self) -> None:
        self._lines = array("q")
        self._ends = array("q")  # where each value ends in ``_text``
        self._text = ""

    def __len__(self) -> int:
        return len(self._lines)

    def extend(self, lines: list[int], values: list[str]) -> None:
        self._lines.extend(lines)
        self._text += "".join(values)
        end = self._ends[-1] if self._ends else 0
        for value in values:
            end += len(value)
            self._ends.append(end)

    def items(self) -> list[tuple[int, str]]:
        """(line, value) of each example, in the order they came."""
        out = []
        start = 0
        for line, end in zip(self._lines, self._ends, strict=True):
            out.append((line, self._text[start:end]))
            start = end
        return out
