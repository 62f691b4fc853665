"""Bounded-memory sketches used once exact tracking would outgrow its budget.

One hash and three sketches, all vectorized with pyarrow.compute; the sketches are
mergeable batch by batch:

- ``hash_keys`` (over ``text_keys`` for text): a deterministic 64-bit hash per value, no
  per-process salt, so a summary of the same file is the same summary on every run
  (``csv_classify.value_hashes`` picks the key by type); the first two sketches use it;
- ``HyperLogLog``: distinct count, relative standard error 1.04/sqrt(2**p).
- ``HeavyHitters``: Misra-Gries counters over value hashes; every reported count is a lower
  bound and the true count exceeds it by at most ``error``.
- ``QuantileSample``: a uniform random sample of fixed size (bottom-k by random key);
  quantiles are exact while everything fits, else carry a DKW rank-error bound.
"""

from __future__ import annotations

import math
import zlib

import pyarrow as pa
import pyarrow.compute as pc
from csv_slots import sizes_of, slots_of

_U64 = pa.uint64()
_U32 = pa.uint32()
# Parts kept for later (a batch's values) are combined as they come while together they
# hold less than this: small parts cost more in their arrays' fixed cost (0.6-1.5 KiB
# each, the C++ side included) than a copy, and thousands of columns keep thousands.
COMBINED_BELOW_BYTES = 64 << 10
_SAMPLE_SLOT_BYTES = 12  # a sampled value (float64) and its key (float32)
_M1 = pa.scalar(0xFF51AFD7ED558CCD, _U64)
_M2 = pa.scalar(0xC4CEB9FE1A85EC53, _U64)
_LEN_MUL = pa.scalar(0x9E3779B97F4A7C15, _U64)
_S33 = pa.scalar(33, _U64)
# Tags keep the three key spaces apart (a number, a timestamp, a text hash).
TAG_NUMBER = 1
TAG_TIME = 2
TAG_TEXT = 3


def _mix64(x: pa.Array) -> pa.Array:
    """MurmurHash3's 64-bit finalizer, vectorized (uint64 multiply wraps)."""
    x = pc.bit_wise_xor(x, pc.shift_right(x, _S33))
    x = pc.multiply(x, _M1)
    x = pc.bit_wise_xor(x, pc.shift_right(x, _S33))
    x = pc.multiply(x, _M2)
    return pc.bit_wise_xor(x, pc.shift_right(x, _S33))


def hash_keys(keys: pa.Array, byte_lengths: pa.Array, tag: int) -> pa.Array:
    """Hash 64-bit keys (number bits, timestamps, crc32 of text) together with the text's
    byte length, so "1.0" and "1.00" stay distinct values."""
    lens = pc.cast(byte_lengths, _U64)
    salt = pc.multiply(pc.add(lens, pa.scalar(tag << 40, _U64)), _LEN_MUL)
    return _mix64(pc.bit_wise_xor(keys.view(_U64) if keys.type != _U64 else keys, salt))


def text_keys(values: pa.Array) -> pa.Array:
    """crc32 of each value's UTF-8 bytes (C speed, deterministic), as uint64."""
    crc = zlib.crc32
    return pa.array(map(crc, values.cast(pa.binary()).to_pylist()), _U64)


class HyperLogLog:
    """HyperLogLog with 2**p one-byte registers, kept as a pyarrow array.

    Raising registers rewrites all of them, and once they fill, a batch has few values that
    beat theirs. So those values wait, packed as ``register << 8 | rank``, until an eighth
    of ``m`` has gathered (half the registers' bytes): registers are a maximum, so they end
    the same. (A wide file's columns are raised together instead: ``add_hashes_by_column``.)
    """

    def __init__(self, p: int = 14) -> None:
        self.p = p
        self.m = 1 << p
        self._registers = pa.repeat(pa.scalar(0, pa.uint8()), self.m)
        self._waiting: list[pa.Array] = []
        self._waiting_count = 0
        self._alpha = 0.7213 / (1 + 1.079 / self.m)

    @property
    def relative_error(self) -> float:
        """Three standard errors (~99.7% of estimates fall inside)."""
        return 3 * 1.04 / math.sqrt(self.m)

    @property
    def registers(self) -> pa.Array:
        self._raise_waiting()
        return self._registers

    @property
    def kept_bytes(self) -> int:
        return self._registers.nbytes + 4 * self._waiting_count

    def add_hashes(self, h: pa.Array) -> None:
        if len(h) == 0:
            return
        index, rank = _register_ranks(h, self.p)
        better = pc.greater(rank, pc.take(self._registers, index))
        self._wait(_packed(pc.filter(index, better), pc.filter(rank, better)))

    def _wait(self, packed: pa.Array) -> None:
        if len(packed) == 0:
            return
        self._waiting.append(packed)
        self._waiting_count += len(packed)
        if self._waiting_count >= self.m // 8:
            self._raise_waiting()

    def _raise_waiting(self) -> None:
        if not self._waiting:
            return
        packed = pa.concat_arrays(self._waiting)
        self._waiting, self._waiting_count = [], 0
        index, rank = _unpacked(packed)
        self._registers = _raised(self._registers, index, rank)

    def estimate(self) -> int:
        # Registers hold at most 65 ranks: sum 2**-rank once per rank, times its count.
        # Every term is exact and fsum rounds once, so this is the per-register sum.
        ranks = pc.value_counts(self.registers)
        rank_list, count_list = (ranks.field(f).to_pylist() for f in ("values", "counts"))
        per_rank = dict(zip(rank_list, count_list, strict=True))
        m = self.m
        z = math.fsum(count * 2.0**-rank for rank, count in per_rank.items())
        e = self._alpha * m * m / z
        zeros = per_rank.get(0, 0)
        if e <= 2.5 * m and zeros:
            e = m * math.log(m / zeros)
        return round(e)


def add_hashes_by_column(hlls: list[HyperLogLog], hashes: pa.Array, slots: pa.Array) -> None:
    """``add_hashes`` for many columns' HyperLogLogs at once (all of one precision): hash
    ``i`` goes to ``hlls[slots[i]]``, and ``slots`` ascend (each column's hashes lie
    together, in the order of ``hlls``). Their registers are laid end to end and raised
    in one call, then cut back out: nothing waits, since a wide file's columns would each
    keep their waiting values in arrays of their own (~1 KiB apiece, whatever they hold)."""
    p, m = hlls[0].p, hlls[0].m
    index, rank = _register_ranks(hashes, p)
    registers = pa.concat_arrays([hll.registers for hll in hlls])
    index = pc.add(index, pc.multiply(pc.cast(slots, pa.int64()), m))
    better = pc.greater(rank, pc.take(registers, index))
    raised_per_column = sizes_of(pc.filter(slots, better), len(hlls))
    if not any(raised_per_column):
        return
    raised = _raised(registers, pc.filter(index, better), pc.filter(rank, better))
    for slot, (hll, size) in enumerate(zip(hlls, raised_per_column, strict=True)):
        if size:
            # A copy each: a slice would keep the whole group's registers alive in each.
            hll._registers = pa.concat_arrays([raised.slice(slot * m, m)])


def raise_waiting_by_column(hlls: list[HyperLogLog], registers_at_once: int = 1 << 20) -> None:
    """Every HyperLogLog's waiting values raised into its registers (at the end of a file),
    for many columns at once: one call per ``registers_at_once`` registers, not one per
    column."""
    waiting = [hll for hll in hlls if hll._waiting]
    if not waiting:
        return
    m = waiting[0].m
    step = max(1, registers_at_once // m)
    for i in range(0, len(waiting), step):
        group = waiting[i : i + step]
        registers = pa.concat_arrays([hll._registers for hll in group])
        packed = pa.concat_arrays([part for hll in group for part in hll._waiting])
        slots = slots_of([(slot, hll._waiting_count) for slot, hll in enumerate(group)])
        index, rank = _unpacked(packed)
        index = pc.add(index, pc.multiply(pc.cast(slots, pa.int64()), m))
        raised = _raised(registers, index, rank)
        for slot, hll in enumerate(group):
            hll._registers = pa.concat_arrays([raised.slice(slot * m, m)])
            hll._waiting, hll._waiting_count = [], 0


def _register_ranks(h: pa.Array, p: int) -> tuple[pa.Array, pa.Array]:
    """Each hash's register (its first ``p`` bits, as int64) and rank (1 + the leading
    zeros of the rest, as uint8)."""
    index = pc.cast(pc.shift_right(h, pa.scalar(64 - p, _U64)), pa.int64())
    w = pc.bit_wise_or(pc.shift_left(h, pa.scalar(p, _U64)), pa.scalar(1 << (p - 1), _U64))
    # The top 53 bits convert to a double exactly, so its exponent field (1023 + the
    # position of the highest set bit) gives the leading zeros, with no log2: 53 - that
    # position = 1076 - the field.
    top = pc.cast(pc.shift_right(w, pa.scalar(11, _U64)), pa.float64())
    exponent = pc.shift_right(top.view(_U64), pa.scalar(52, _U64))
    rank = pc.cast(pc.subtract(pa.scalar(1076, _U64), exponent), pa.uint8())
    return index, rank


def _packed(index: pa.Array, rank: pa.Array) -> pa.Array:
    """``index << 8 | rank`` as uint32 (``p`` is at most 14: the index fits in 24 bits)."""
    shifted = pc.shift_left(pc.cast(index, _U32), pa.scalar(8, _U32))
    return pc.bit_wise_or(shifted, pc.cast(rank, _U32))


def _unpacked(packed: pa.Array) -> tuple[pa.Array, pa.Array]:
    """``_packed`` undone: each value's register (int64) and rank (uint8)."""
    index = pc.cast(pc.shift_right(packed, pa.scalar(8, _U32)), pa.int64())
    return index, pc.cast(pc.bit_wise_and(packed, pa.scalar(0xFF, _U32)), pa.uint8())


def _raised(registers: pa.Array, index: pa.Array, rank: pa.Array) -> pa.Array:
    """``registers`` with each ``index``'s register raised to its largest ``rank``: waiting
    values, each of which beat its register when it was added (``add_hashes`` and
    ``add_hashes_by_column`` keep no other), and registers change only here."""
    # Per register, the largest rank: sort ascending by rank and scatter (the last write to
    # a position wins). Every rank scattered beats its register, so it replaces it.
    order = pc.array_sort_indices(rank)
    dense = pc.scatter(pc.take(rank, order), pc.take(index, order), max_index=len(registers) - 1)
    return pc.fill_null(dense, registers)


class QuantileSample:
    """Uniform sample of at most ``size`` values: bottom-``size`` by a seeded random key.

    Keys are single precision: a slot costs 12 bytes, and 15 at the peak (1.25 samples,
    see ``add``), within the 16 a column's memory share sets aside for it. Two keys that
    round alike are a tie, broken by position; it changes which of two values is kept, not
    the sample's uniformity.
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seed = seed
        self.seen = 0
        self._batches = 0
        self.values = pa.array([], pa.float64())
        self.keys = pa.array([], pa.float32())
        self._pending_v: list[pa.Array] = []
        self._pending_k: list[pa.Array] = []
        self._pending = 0
        self.threshold = 2.0

    def add(self, values: pa.Array) -> None:
        n = len(values)
        if n == 0:
            return
        self._batches += 1
        self.seen += n
        keys = pc.cast(
            pc.random(n, initializer=(self.seed * 1_000_003 + self._batches) & 0x7FFFFFFF),
            pa.float32(),
            safe=False,
        )
        if self.threshold < 1.0:
            keep = pc.less(keys, self.threshold)
            values, keys = pc.filter(values, keep), pc.filter(keys, keep)
        if len(values):
            self._pending_v.append(values)
            self._pending_k.append(keys)
            self._pending += len(values)
        # Compacted once a quarter of a sample is pending (the peak, 1.25 samples, is what
        # a column's memory share pays for), or every batch while that is cheap (see
        # COMBINED_BELOW_BYTES). The sample is the same either way (the ``size`` smallest
        # keys).
        pending_bytes = _SAMPLE_SLOT_BYTES * self._pending
        if self._pending + len(self.values) > self.size + self.size // 4 or (
            len(self._pending_v) > 1 and pending_bytes < COMBINED_BELOW_BYTES
        ):
            self._compact()

    def _compact(self) -> None:
        if not self._pending_v:
            return
        v = pa.concat_arrays([self.values, *self._pending_v])
        k = pa.concat_arrays([self.keys, *self._pending_k])
        self._pending_v, self._pending_k, self._pending = [], [], 0
        if len(v) > self.size:
            idx = pc.partition_nth_indices(k, pivot=self.size)[: self.size]
            v, k = pc.take(v, idx), pc.take(k, idx)
            self.threshold = pc.max(k).as_py()
        self.values, self.keys = v, k

    def kept_bytes(self) -> int:
        arrays = [self.values, self.keys, *self._pending_v, *self._pending_k]
        return sum(a.nbytes for a in arrays)

    @property
    def exact(self) -> bool:
        return self.seen <= self.size

    def rank_error(self, confidence: float = 0.99) -> float:
        """Dvoretzky-Kiefer-Wolfowitz bound on the rank error of any sample quantile."""
        if self.exact:
            return 0.0
        return math.sqrt(math.log(2 / (1 - confidence)) / (2 * self.size))

    def quantiles(self, qs: list[float]) -> list[float]:
        self._compact()
        if len(self.values) == 0:
            return []
        out = pc.quantile(self.values, q=qs, interpolation="linear")
        return [float(x) for x in out.to_pylist()]
