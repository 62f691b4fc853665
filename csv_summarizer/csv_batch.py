"""A batch's columns summarized together: work done once per batch, not once per column.

A wide file's batches are short (a block holds ~1,000 rows of 1,000 columns), so the
fixed cost of each pyarrow call, not the values, is what a column-by-column summary pays
for. Here the columns of a batch are laid end to end in one array (column by column, with
each value's column index beside it), so that one grouped call counts the distinct values
of every column, one call finds the nulls, one pattern match finds the columns with a
value that starts like a number, date or boolean word, and one grouped aggregation gives the
text statistics; each column's share is then cut back out by offsets and handed to its
``ColumnState``, which does what is left (its typing, its sketches).

Long batches (narrow files) gain nothing from this and go column by column, as before.
Either way every statistic is the same: the grouped calls compute what the per-column ones
did, and a column's distinct values come in the order of their first appearance in both.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from csv_classify import classify
from csv_columns import ColumnState
from csv_distinct import DistinctValues, add_values_by_column
from csv_readings import starts_typed_by_column
from csv_slots import slots_of, starts_of
from csv_text import text_by_column
from csv_typing import Locate, Unique

# Batches with at least this many rows go column by column: per-call costs are small there,
# and grouping costs more than it saves (measured: 100 to 250 columns, 2,000 to 5,400 rows a
# batch, 10-30% less CPU column by column; 1,000 columns, ~1,000 rows, 5% more).
GROUP_BELOW_ROWS = 2_048
# Values summarized in one grouped call: a grouping's hash table grows with its input, and
# the allocator keeps the pages it touched, so groups of columns are kept this small.
GROUP_VALUES = 1 << 14


def add_batch(states: list[ColumnState], cols: list[pa.Array], locate: Locate) -> None:
    """One batch of every column (all of one length), in the order of ``states``."""
    if len(cols) < 2 or len(cols[0]) >= GROUP_BELOW_ROWS:
        for state, col in zip(states, cols, strict=True):
            state.add(col, locate)
        return
    exact = [j for j, state in enumerate(states) if state.exact]
    sketched = [j for j, state in enumerate(states) if not state.exact]
    step = max(1, GROUP_VALUES // len(cols[0]))
    for i in range(0, len(exact), step):
        _add_exact(states, cols, exact[i : i + step], locate)
    for i in range(0, len(sketched), step):
        _add_sketched(states, cols, sketched[i : i + step], locate)


def _end_to_end(cols: list[pa.Array], group: list[int]) -> tuple[pa.Array, pa.Array]:
    """The columns ``group`` names laid end to end, and each value's column index."""
    column = slots_of([(j, len(cols[j])) for j in group])
    return pa.concat_arrays([cols[j] for j in group]), column


def _with_nulls(column: pa.Array, isnull: pa.Array) -> tuple[set[int], pa.Array | None]:
    """The columns holding a null, and the mask of values that are not (None: all)."""
    if not pc.any(isnull).as_py():
        return set(), None
    return set(pc.unique(pc.filter(column, isnull)).to_pylist()), pc.invert(isnull)


def _kept(keep: pa.Array | None, *arrays: pa.Array) -> tuple[pa.Array, ...]:
    """``arrays`` filtered by the mask ``keep`` (None: all kept, no copy)."""
    return arrays if keep is None else tuple(pc.filter(array, keep) for array in arrays)


def _add_exact(
    states: list[ColumnState], cols: list[pa.Array], group: list[int], locate: Locate
) -> None:
    values, column = _end_to_end(cols, group)
    position = pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), len(values)))
    counted = (
        pa.table({"column": column, "value": values, "position": position})
        .group_by(["column", "value"], use_threads=False)
        .aggregate([([], "count_all"), ("position", "min")])
    )
    # In the order of first appearance: column by column, since the columns lie end to
    # end, and within a column as value_counts gives them (acero's groups come in no
    # promised order).
    order = pc.sort_indices(counted["position_min"])
    ids = pc.take(counted["column"], order).combine_chunks()
    distinct = pc.take(counted["value"], order).combine_chunks()
    counts = pc.take(counted["count_all"], order).combine_chunks()
    isnull = states[group[0]].nulls.mask(distinct)
    null_columns, keep = _with_nulls(ids, isnull)
    kept_ids, kept, kept_counts = _kept(keep, ids, distinct, counts)
    # Of the values that are not null, as the columns' typing sees them.
    typed_start = _typed_starts(states, group, kept, kept_ids)
    text = text_by_column(kept_ids, kept, kept_counts)
    sizes = pc.value_counts(ids).field("counts").to_pylist()
    classes = _classes_by_column(states, group, distinct, sizes, typed_start)
    start = 0
    for j, size in zip(group, sizes, strict=True):
        # Copies, not slices: a column keeps its distinct values until its next merge, and
        # a slice would keep the whole batch's.
        column_distinct = Unique(
            pa.concat_arrays([distinct.slice(start, size)]),
            pa.concat_arrays([counts.slice(start, size)]),
            classes.get(j),
        )
        column_isnull = isnull.slice(start, size) if j in null_columns else None
        states[j].add_distinct(
            cols[j], locate, column_distinct, column_isnull, text.get(j), typed_start.get(j)
        )
        start += size


def _typed_starts(
    states: list[ColumnState], group: list[int], values: pa.Array, column: pa.Array
) -> dict[int, bool]:
    """Whether some value (``column``: each value's index) starts like a number, a date or
    a boolean word, for the columns whose typing asks (text so far, or not typed yet): a
    typed column's batch casts, and its values need no pattern match (a missing column:
    not checked)."""
    checked = [j for j in group if states[j].readings.may_classify]
    if not checked:
        return {}
    if len(checked) < len(group):
        asked = pc.is_in(column, value_set=pa.array(checked, column.type))
        values, column = pc.filter(values, asked), pc.filter(column, asked)
    typed = starts_typed_by_column(values, column)
    return {j: j in typed for j in checked}


def _classes_by_column(
    states: list[ColumnState],
    group: list[int],
    distinct: pa.Array,
    sizes: list[int],
    typed_start: dict[int, bool],
) -> dict[int, dict[str, pa.Array]]:
    """The classes of the distinct values of the columns likely to classify theirs (a
    first batch, or text with values that start like a typed one), found by one
    ``classify`` for all of them: its patterns cost more to compile than to run on a few
    hundred values."""
    starts = starts_of(sizes)
    wanted = [
        (j, distinct.slice(starts[i], sizes[i]))
        for i, j in enumerate(group)
        if typed_start.get(j)  # only columns that may classify are checked
    ]
    if len(wanted) < 2:
        return {}
    masks = classify(pa.concat_arrays([part for _, part in wanted]))
    out: dict[int, dict[str, pa.Array]] = {}
    start = 0
    for j, part in wanted:
        out[j] = {name: mask.slice(start, len(part)) for name, mask in masks.items()}
        start += len(part)
    return out


def _add_sketched(
    states: list[ColumnState], cols: list[pa.Array], group: list[int], locate: Locate
) -> None:
    values, column = _end_to_end(cols, group)
    isnull = states[group[0]].nulls.mask(values)
    null_columns, keep = _with_nulls(column, isnull)
    kept_column, kept = _kept(keep, column, values)
    typed_start = _typed_starts(states, group, kept, kept_column)
    text = text_by_column(kept_column, kept)
    nrows = len(cols[0])
    counted: list[DistinctValues] = []
    batches: list[pa.Array] = []
    for i, j in enumerate(group):
        column_isnull = isnull.slice(i * nrows, nrows) if j in null_columns else None
        values = states[j].count_values(
            cols[j], locate, column_isnull, text.get(j), typed_start.get(j)
        )
        if values is not None:
            counted.append(states[j].distinct)
            batches.append(values)
    if counted:
        add_values_by_column(counted, batches)
