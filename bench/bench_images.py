"""Benchmark the image core against a naive handler, side by side in one process.

    python bench/bench_images.py            # full run (~3-4 min on 2 vCPUs)
    python bench/bench_images.py --quick    # fewer repeats, smaller sweep (~1-2 min)

Inputs are generated (deterministic, photo-like: smooth shapes, edges, sensor-like noise) and
cached in --cache-dir. The naive baseline is the straightforward handler: open the image
anew for every variant and save with Pillow's default encoder settings. Wall and CPU time are
medians over the repeats, alternating the two sides. Peak RSS is measured for each side in a
fresh child process (``resource.getrusage(RUSAGE_SELF).ru_maxrss``), so neither side inherits
the other's heap. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "image_processor"), str(ROOT / "layers" / "runtime")]

import variants  # noqa: E402
from image_png import PngPlan, encode_png  # noqa: E402
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps  # noqa: E402

MB = 1024 * 1024


# --------------------------------------------------------------------------- inputs


def photo_like(width: int, height: int, seed: int = 1) -> Image.Image:
    """Smooth colour regions + random strokes, upscaled, plus per-channel sensor noise."""
    rnd = random.Random(seed)
    sw, sh = max(8, width // 40), max(8, height // 40)
    small = Image.new("RGB", (sw, sh))
    draw = ImageDraw.Draw(small)
    for _ in range(60):
        x, y, r = rnd.randrange(sw), rnd.randrange(sh), rnd.randrange(2, max(3, sw // 3))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(rnd.randrange(256) for _ in "rgb"))
    mid = small.filter(ImageFilter.GaussianBlur(2)).resize(
        (width // 4, height // 4), Image.Resampling.BICUBIC
    )
    draw = ImageDraw.Draw(mid)
    for _ in range(300):
        x, y = rnd.randrange(width // 4), rnd.randrange(height // 4)
        end = (x + rnd.randrange(-200, 200), y + rnd.randrange(-200, 200))
        colour = tuple(rnd.randrange(256) for _ in "rgb")
        draw.line([(x, y), end], fill=colour, width=rnd.randrange(1, 4))
    big = mid.resize((width, height), Image.Resampling.BICUBIC)
    noise = Image.merge("RGB", [Image.effect_noise((width, height), 4 + i) for i in range(3)])
    return ImageChops.add(big, noise, 1.0, -128)


def make_inputs(cache: Path, names: list[str]) -> dict[str, Path]:
    specs: dict[str, tuple[str, Callable[[], Image.Image]]] = {
        "12MP JPEG": ("jpg", lambda: photo_like(4000, 3000, 12)),
        "24MP JPEG": ("jpg", lambda: photo_like(6000, 4000, 24)),
        "50MP JPEG": ("jpg", lambda: photo_like(8656, 5776, 50)),
        "12MP RGBA PNG": ("png", lambda: _with_alpha(photo_like(4000, 3000, 7))),
    }
    cache.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in names:
        ext, build = specs[name]
        path = cache / (name.replace(" ", "_") + "." + ext)
        if not path.exists():
            image = build()
            if ext == "jpg":
                image.save(path, "JPEG", quality=92)
            else:
                image.save(path, "PNG", compress_level=1)
        paths[name] = path
    return paths


def _with_alpha(image: Image.Image) -> Image.Image:
    alpha = Image.radial_gradient("L").resize(image.size).point(lambda v: 255 - v)
    draw = ImageDraw.Draw(alpha)
    draw.rectangle([0, 0, image.width // 5, image.height // 5], fill=0)
    image.putalpha(alpha)
    return image


# --------------------------------------------------------------------------- the two sides


def naive(data: bytes) -> dict[str, int]:
    """The straightforward handler: a fresh open per variant, default save settings."""
    sizes = {}

    def fresh() -> Image.Image:
        return ImageOps.exif_transpose(Image.open(io.BytesIO(data)))

    for name, fmt, params in (
        ("compressed", "JPEG", {"quality": 85}),
        ("low_quality", "JPEG", {"quality": 60}),
        ("webp", "WEBP", {"quality": 80}),
        ("png", "PNG", {}),
    ):
        image = fresh()
        if fmt == "JPEG" and image.mode != "RGB":
            image = image.convert("RGB")
        out = io.BytesIO()
        image.save(out, fmt, **params)
        sizes[name] = out.tell()
    image = fresh()
    image.thumbnail((300, 300))
    if image.mode != "RGB":
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    sizes["thumbnail"] = out.tell()
    return sizes


def ours(data: bytes, threads: int = 0) -> dict[str, int]:
    result = variants.make_variants(data, variants.ImageLimits(threads=threads))
    return {v.name: len(v.body) for v in result.variants}


SIDES: dict[str, Callable[[bytes], dict[str, int]]] = {
    "naive": naive,
    "ours": ours,
    "ours-1thread": lambda data: ours(data, 1),
}


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def child_peak_rss(side: str, path: Path) -> dict[str, float]:
    """Run one side once in a fresh interpreter; return its RSS before and at peak (MB)."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", side, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def _status_mb(field: str) -> float:
    """VmHWM (peak RSS) / VmRSS of this process, from /proc. Unlike ru_maxrss, VmHWM
    belongs to the process's own address space, so it does not inherit the parent's peak
    across fork+exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def run_child(side: str, path: Path) -> None:
    data = path.read_bytes()
    # Warm the imports and code paths on a tiny image so the baseline includes them.
    SIDES[side](variants_probe())
    before = _status_mb("VmHWM")
    SIDES[side](data)
    print(json.dumps({"baseline_mb": before, "peak_mb": _status_mb("VmHWM")}))


def variants_probe() -> bytes:
    out = io.BytesIO()
    photo_like(64, 48).save(out, "JPEG")
    return out.getvalue()


def decoded_mb(path: Path) -> float:
    with Image.open(path) as image:
        bands = 4 if image.mode in ("RGB", "RGBA", "CMYK") else len(image.getbands())
        return image.width * image.height * bands / MB


# --------------------------------------------------------------------------- reports


def compare(name: str, path: Path, repeats: int) -> tuple[str, dict[str, float]]:
    data = path.read_bytes()
    sides = ["naive", "ours", "ours-1thread"]
    times: dict[str, list[tuple[float, float]]] = {s: [] for s in sides}
    sizes: dict[str, dict[str, int]] = {}
    for _ in range(repeats):
        for side in sides:
            wall, cpu = time.perf_counter(), time.process_time()
            sizes[side] = SIDES[side](data)
            times[side].append((time.perf_counter() - wall, time.process_time() - cpu))
    rss = {s: child_peak_rss(s, path) for s in ("naive", "ours")}
    med = {
        s: (statistics.median(t[0] for t in v), statistics.median(t[1] for t in v))
        for s, v in times.items()
    }
    decoded = decoded_mb(path)
    lines = [
        f"### {name} ({len(data) / MB:.1f} MB file, decoded {decoded:.0f} MB in Pillow)",
        "",
        "| side | median wall s | median CPU s | peak RSS MB | RSS growth MB | peak / decoded |",
        "|---|---|---|---|---|---|",
    ]
    for side in sides:
        wall, cpu = med[side]
        if side in rss:
            peak, growth = rss[side]["peak_mb"], rss[side]["peak_mb"] - rss[side]["baseline_mb"]
            rss_cells = f"{peak:.0f} | {growth:.0f} | {peak / decoded:.2f}x"
        else:
            rss_cells = "- | - | -"
        lines.append(f"| {side} | {wall:.2f} | {cpu:.2f} | {rss_cells} |")
    speedup = med["naive"][0] / med["ours"][0]
    lines += [
        "",
        f"Wall speed-up vs naive: **{speedup:.2f}x** "
        f"(single-threaded ours: {med['naive'][0] / med['ours-1thread'][0]:.2f}x).",
        "",
        "| variant | naive bytes | ours bytes | ours / naive |",
        "|---|---|---|---|",
    ]
    worst = 0.0
    for variant, naive_bytes in sizes["naive"].items():
        our_bytes = sizes["ours"][variant]
        ratio = our_bytes / naive_bytes
        worst = max(worst, ratio)
        lines.append(f"| {variant} | {naive_bytes:,} | {our_bytes:,} | {ratio:.3f} |")
    stats = {
        "speedup": speedup,
        "worst_bytes_ratio": worst,
        "ours_peak_mb": rss["ours"]["peak_mb"],
        "decoded_mb": decoded,
    }
    return "\n".join(lines), stats


def psnr(a: Image.Image, b: Image.Image) -> float:
    histogram = ImageChops.difference(a, b).histogram()
    total = sum(histogram)
    squared = sum(count * (i % 256) ** 2 for i, count in enumerate(histogram))
    mse = squared / total
    return 99.0 if mse == 0 else 10 * math.log10(255**2 / mse)


def sweep(path: Path, quick: bool) -> str:
    """Encoder speed settings on the decoded 24 MP image: time and bytes per setting."""
    image = Image.open(path)
    image.load()
    rows = ["| encoder | setting | wall s | CPU s | bytes | note |", "|---|---|---|---|---|---|"]

    def row(encoder: str, setting: str, fn: Callable[[], bytes], note: str = "") -> bytes:
        holder: list[bytes] = []
        wall, cpu = timed(lambda: holder.append(fn()))
        rows.append(
            f"| {encoder} | {setting} | {wall:.2f} | {cpu:.2f} | {len(holder[0]):,} | {note} |"
        )
        return holder[0]

    def pillow(fmt: str, **params: object) -> Callable[[], bytes]:
        def run() -> bytes:
            out = io.BytesIO()
            image.save(out, fmt, **params)
            return out.getvalue()

        return run

    for setting, params in (
        ("baseline (default)", {}),
        ("optimize", {"optimize": True}),
        ("progressive+optimize", {"optimize": True, "progressive": True}),
    ):
        row("JPEG q85", setting, pillow("JPEG", quality=85, **params))
    for method in (0, 1, 2, 4) if quick else (0, 1, 2, 3, 4, 6):
        body = row("WebP q80", f"method {method}", pillow("WEBP", quality=80, method=method))
        decoded = Image.open(io.BytesIO(body)).convert("RGB")
        rows[-1] = rows[-1][:-2] + f"PSNR {psnr(decoded, image):.2f} dB |"
    row("PNG (Pillow)", "level 6 (default), 1 thread", pillow("PNG"))
    row("PNG (Pillow)", "level 1, 1 thread", pillow("PNG", compress_level=1))
    for level in (1, 3) if quick else (0, 1, 2, 3):  # ISA-L's levels
        for threads in (1, 2):
            plan = PngPlan(image, level=level)

            def run(plan: PngPlan = plan, threads: int = threads) -> bytes:
                if threads == 1:
                    return encode_png(image, level=plan.level)
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(threads) as pool:
                    results = [f.result() for f in [pool.submit(t) for t in plan.tasks]]
                return plan.assemble(results, None)

            row("PNG strips", f"level {level}, {threads} threads", run)
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller sweep")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/bench-images"))
    parser.add_argument(
        "--inputs",
        default=None,
        help="comma-separated subset of: 12MP JPEG, 24MP JPEG, 12MP RGBA PNG, 50MP JPEG",
    )
    parser.add_argument("--no-sweep", action="store_true", help="skip the encoder sweep")
    parser.add_argument("--child", nargs=2, metavar=("SIDE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child[0], Path(args.child[1]))
        return
    repeats = args.repeats or (1 if args.quick else 3)
    names = ["24MP JPEG", "12MP RGBA PNG", "50MP JPEG"]
    if not args.quick:
        names.insert(0, "12MP JPEG")
    if args.inputs:
        names = [name.strip() for name in args.inputs.split(",")]
    paths = make_inputs(args.cache_dir, sorted(set(names) | {"24MP JPEG"}))
    print(f"Pillow {Image.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"ours: {', '.join(f'{s.name}={dict(s.options)}' for s in variants.VARIANTS)}\n")
    summary = {}
    for name in names:
        if name == "50MP JPEG":
            continue
        table, stats = compare(name, paths[name], repeats)
        summary[name] = stats
        print(table, "\n", flush=True)
    if "50MP JPEG" in names:
        big = paths["50MP JPEG"]
        peak = child_peak_rss("ours", big)
        decoded = decoded_mb(big)
        print(
            f"### Largest allowed image: 50MP JPEG ({big.stat().st_size / MB:.1f} MB file, "
            f"decoded {decoded:.0f} MB)\n\nours peak RSS: **{peak['peak_mb']:.0f} MB** "
            f"(interpreter + imports {peak['baseline_mb']:.0f} MB; "
            f"{peak['peak_mb'] / decoded:.2f}x decoded)\n"
        )
    if not args.no_sweep:
        print("### Encoder settings on the decoded 24MP image (one encode each)\n")
        print(sweep(paths["24MP JPEG"], args.quick))
    print("\nsummary:", json.dumps(summary))


if __name__ == "__main__":
    main()
