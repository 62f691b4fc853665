"""Hostile input for the imaging core, by property: random bytes, magic numbers followed by
garbage, mutated valid files of every allowed container, corrupted header fields, splices.

Invariant (fuzz.invariants.check_image): ``make_variants`` returns five variants that decode
with Pillow at the sizes they report (full size = the upright source, the thumbnail fits
the box, no EXIF, XMP or ICC profile), or raises ImageRejectedError with a known reason. Nothing
else escapes, no example runs past its time bound, and no example's peak RSS grows past
32 B x max_pixels + 96 MB. The atheris harness (fuzz/fuzz_image.py) checks the same.
"""

from __future__ import annotations

import pytest
from hypothesis import currently_in_test_context, event, given
from hypothesis import strategies as st
from image_types import ImageLimits

from fuzz import mutations
from fuzz.invariants import IMAGE_LIMITS, bounds, check_image, image_memory_bound
from fuzz.seeds import image_seeds
from tests.fuzz.profiles import HANG_SECONDS, scaled

SEEDS = image_seeds()
SEED_NAMES = sorted(SEEDS)
MAGICS = (
    b"\xff\xd8\xff\xe0",
    b"\xff\xd8\xff\xc0\x00\x11\x08",
    b"\x89PNG\r\n\x1a\n",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR",
    b"GIF89a",
    b"GIF87a",
    b"RIFF\x00\x01\x00\x00WEBPVP8 ",
    b"RIFF\x00\x01\x00\x00WEBPVP8L",
    b"RIFF\x00\x01\x00\x00WEBPVP8X",
    b"II*\x00",
    b"MM\x00*",
    b"II+\x00",
    b"BM",
    b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf",
    b"\x00\x00\x00\x1cftypheic\x00\x00\x00\x00mif1heicmiaf",
)


def outcome(data: bytes, limits: ImageLimits = IMAGE_LIMITS) -> str:
    with bounds(HANG_SECONDS, image_memory_bound(limits)):
        result = check_image(data, limits)
    if currently_in_test_context():
        event(result)
    return result


positions = st.integers(0, 1 << 16)
mutation = st.one_of(
    st.tuples(st.just("flip"), positions, st.integers(0, 7)),
    st.tuples(st.just("set"), positions, st.sampled_from([0, 1, 0x7F, 0x80, 0xFF])),
    st.tuples(st.just("insert"), positions, st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("delete"), positions, st.integers(1, 256)),
    st.tuples(st.just("repeat"), positions, st.integers(1, 64), st.integers(1, 16)),
    st.tuples(st.just("truncate"), positions),
    st.tuples(
        st.just("field"),
        st.integers(0, 63),
        st.sampled_from(mutations.INTERESTING).flatmap(
            lambda v: st.sampled_from([v - 1, v, v + 1])
        ),
    ),
    st.tuples(st.just("splice"), st.integers(0, len(SEEDS)), positions, positions),
)


@scaled(300)
@given(data=st.one_of(st.binary(max_size=2048), st.sampled_from(MAGICS).flatmap(
    lambda magic: st.binary(max_size=1024).map(lambda tail: magic + tail))))  # fmt: skip
def test_random_bytes_after_a_magic_number(data: bytes) -> None:
    outcome(data)


@scaled(800)
@given(
    name=st.sampled_from(SEED_NAMES),
    edits=st.lists(mutation, min_size=1, max_size=6),
    fix=st.booleans(),
)
def test_mutated_valid_files(name: str, edits: list[mutations.Mutation], fix: bool) -> None:
    ops = [*edits, ("fix",)] if fix else edits
    outcome(mutations.apply(SEEDS[name], ops, others=list(SEEDS.values())))


@scaled(500)
@given(
    name=st.sampled_from(SEED_NAMES),
    field=st.integers(0, 63),
    value=st.one_of(st.sampled_from(mutations.INTERESTING), st.integers(0, 2**32 - 1)),
    delta=st.sampled_from([-1, 0, 0, 1]),
)
def test_corrupted_header_fields(name: str, field: int, value: int, delta: int) -> None:
    """Dimensions, depths, modes, offsets and counts set to boundary values, checksums
    repaired so the decoder reaches them; the thread pool runs the encoders."""
    seed = SEEDS[name]
    fields = mutations.header_fields(seed)
    if not fields:
        pytest.skip(f"{name}: no header fields located")
    chosen = fields[field % len(fields)]
    data = mutations.fix_checksums(mutations.set_field(seed, chosen, value + delta))
    outcome(data, ImageLimits(max_pixels=IMAGE_LIMITS.max_pixels, threads=2))


@pytest.mark.parametrize("name", SEED_NAMES)
def test_every_seed_is_a_valid_image(name: str) -> None:
    """The corpus starts from inputs that pass: mutations break working files."""
    assert outcome(SEEDS[name]) == "ok"


@pytest.mark.parametrize("name", SEED_NAMES)
def test_every_truncation_point_of_small_seeds_is_handled(name: str) -> None:
    """Exhaustive where it is cheap: every prefix (stepped for the larger seeds)."""
    seed = SEEDS[name]
    step = max(1, len(seed) // 64)
    for cut in range(0, len(seed), step):
        outcome(seed[:cut])
