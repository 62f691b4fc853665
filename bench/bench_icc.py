"""What an embedded ICC profile costs: time of the five variants, and their bytes.

    taskset -c 0 python bench/bench_icc.py               # 3 repeats, medians
    taskset -c 0 python bench/bench_icc.py --repeats 5

Inputs (generated, cached in --cache-dir):
* the 24 MP photo-like JPEG of bench_images.py, re-encoded (q92) with no profile and with a
  Display-P3 matrix profile: wall time of ``make_variants`` (decode, colour, five encodes);
* a 640x480 JPEG carrying a 16.6 MB profile (a valid Display-P3 or sRGB profile padded
  with a long copyright text, as JPEG's APP2 segments allow up to ~16.7 MB): the bytes of
  each variant.

Pin to one core (``taskset -c 0``): the encoders then run one after another, and CPU time
is the figure that other jobs on a shared machine move least. Peak RSS comes from a fresh
process (bench_images.py's child, VmHWM).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The profiles are built by the test fixtures' ICC writer (Pillow can only create sRGB,
# Lab and XYZ profiles), so the bench and the tests measure the same bytes.
sys.path[:0] = [
    str(ROOT / "image_processor"),
    str(ROOT / "layers" / "runtime"),
    str(ROOT / "tests" / "unit"),
]

import image_fixtures as fx  # noqa: E402
import variants  # noqa: E402
from bench_images import MB, child_peak_rss, make_inputs  # noqa: E402
from PIL import Image  # noqa: E402

PADDED_BYTES = 16_600_000


def _reencode(source: Path, icc: bytes | None) -> bytes:
    with Image.open(source) as image:
        out = io.BytesIO()
        image.save(out, "JPEG", quality=92, icc_profile=icc)
        return out.getvalue()


def _time_variants(data: bytes, repeats: int) -> tuple[float, float, float, list[str]]:
    """Medians of wall time, CPU time and the decode step's wall time (colour included)."""
    walls, cpus, decodes = [], [], []
    notes: list[str] = []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = variants.make_variants(data)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        decodes.append(result.decode_ms / 1000)
        notes = result.notes
    return statistics.median(walls), statistics.median(cpus), statistics.median(decodes), notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/bench-images"))
    args = parser.parse_args()

    source = make_inputs(args.cache_dir, ["24MP JPEG"])["24MP JPEG"]
    print(f"Pillow {Image.__version__}, Python {sys.version.split()[0]}, {args.repeats} repeats")
    print(
        "\n| 24 MP JPEG | median wall s | median CPU s | decode (+colour) s | peak RSS MB | notes |"
    )
    print("|---|---|---|---|---|---|")
    for label, icc in (("no profile", None), ("Display P3", fx.display_p3_profile())):
        data = _reencode(source, icc)
        wall, cpu, decode, notes = _time_variants(data, args.repeats)
        path = args.cache_dir / f"24MP_JPEG_{label.replace(' ', '_')}.jpg"
        path.write_bytes(data)
        peak = child_peak_rss("ours", path)["peak_mb"]  # a fresh process, as bench_images
        icc_notes = "; ".join(n for n in notes if n.startswith("icc")) or "-"
        print(f"| {label} | {wall:.2f} | {cpu:.2f} | {decode:.2f} | {peak:.0f} | {icc_notes} |")

    small = fx.gradient((640, 480))
    print("\n| 640x480 JPEG, 16.6 MB profile | source bytes | variant bytes | total |")
    print("|---|---|---|---|")
    for label, icc in (
        ("padded Display P3", fx.padded_profile(fx.display_p3_profile, PADDED_BYTES)),
        ("padded sRGB", fx.padded_profile(fx.srgb_profile, PADDED_BYTES)),
    ):
        data = fx.encode(small, "JPEG", quality=92, icc_profile=icc)
        result = variants.make_variants(data)
        sizes = ", ".join(f"{v.filename} {len(v.body):,}" for v in result.variants)
        total = sum(len(v.body) for v in result.variants)
        print(f"| {label} | {len(data):,} | {sizes} | {total / MB:.2f} MB |")


if __name__ == "__main__":
    main()
