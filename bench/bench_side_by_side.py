"""The five variants side by side: this project, naive Pillow and sharp (libvips), one run.

    python bench/bench_side_by_side.py                 # 24 MP, 12 MP RGBA, 100 MP, 200 MP
    python bench/bench_side_by_side.py --quick         # 24 MP and 12 MP RGBA, 3 repeats
    python bench/bench_side_by_side.py --inputs "24MP JPEG" --repeats 5

Every measurement is a fresh child process, pinned to one core (``taskset -c 0``) or left
on the default cores and threads. Each child times its own work (decode once or per variant,
all five encodes), reads its own CPU time (every thread) and its own peak memory (VmHWM:
the peak of that process, not of a forked parent). sharp runs from bench/sharp (``npm ci``
there; never a product dependency). Prints Markdown; medians over the repeats.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "image_processor"), str(ROOT / "layers" / "runtime"), str(HERE)]

from bench_images import _with_alpha, photo_like  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

SHARP_DIR = HERE / "sharp"
INPUTS = {
    "24MP JPEG": ("jpg", 6000, 4000, False),
    "12MP RGBA PNG": ("png", 4000, 3000, True),
    "100MP JPEG": ("jpg", 11648, 8736, False),  # medium format
    "200MP JPEG": ("jpg", 16320, 12240, False),  # phone 200 MP mode
}
NAMES = ("compressed", "low_quality", "webp", "png", "thumbnail")


def make_input(cache: Path, name: str) -> Path:
    ext, width, height, alpha = INPUTS[name]
    path = cache / f"{name.replace(' ', '_')}.{ext}"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        image = photo_like(width, height, width % 97)
        if alpha:
            image = _with_alpha(image)
        Image.MAX_IMAGE_PIXELS = None
        image.save(path, "JPEG" if ext == "jpg" else "PNG", quality=92, compress_level=1)
    return path


# --------------------------------------------------------------------------- children


def naive(data: bytes) -> dict[str, int]:
    """The straightforward handler: open anew per variant, Pillow's default settings."""
    sizes = {}
    for name, fmt, params in (
        ("compressed", "JPEG", {"quality": 85}),
        ("low_quality", "JPEG", {"quality": 60}),
        ("webp", "WEBP", {"quality": 80}),
        ("png", "PNG", {}),
        ("thumbnail", "JPEG", {"quality": 85}),
    ):
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
        if name == "thumbnail":
            image.thumbnail((300, 300))
        if fmt == "JPEG" and image.mode != "RGB":
            image = image.convert("RGB")
        out = io.BytesIO()
        image.save(out, fmt, **params)
        sizes[name] = out.tell()
    return sizes


def ours(data: bytes, threads: int) -> dict[str, int]:
    import variants

    result = variants.make_variants(data, variants.ImageLimits(threads=threads))
    return {v.name: len(v.body) for v in result.variants}


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_child(side: str, path: Path, threads: int) -> None:
    Image.MAX_IMAGE_PIXELS = None  # naive: no limit; ours sets its own
    data = path.read_bytes()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    sizes = naive(data) if side == "naive" else ours(data, threads)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(json.dumps({"bytes": sizes, "cpu": cpu, "wall": wall, "peak_mb": _peak_mb()}))


# --------------------------------------------------------------------------- parent


def measure(side: str, path: Path, one_core: bool) -> dict[str, object]:
    pin = ["taskset", "-c", "0"] if one_core else []
    env = dict(os.environ)
    if side == "sharp":
        if one_core:
            env["UV_THREADPOOL_SIZE"] = "1"
        cmd = [*pin, "node", str(SHARP_DIR / "five_variants.js"), str(path)]
        cmd += ["1"] if one_core else []
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = json.loads(out.stdout)
        # node's own CPU, startup included (~0.05 s): process.cpuUsage has no clean cut.
        result["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        result["wall"] = result.pop("wall_ms") / 1000
        return dict(result)
    threads = "1" if one_core else "0"
    cmd = [*pin, sys.executable, __file__, "--child", side, str(path), threads]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    return dict(json.loads(out.stdout))


def median_of(runs: list[dict[str, object]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]


def table(name: str, results: dict[tuple[str, bool], list[dict[str, object]]]) -> str:
    lines = [
        f"### {name}",
        "",
        "| engine | cores | CPU s | wall s | peak MB | " + " | ".join(NAMES) + " |",
        "|---|---|---|---|---|" + "---|" * len(NAMES),
    ]
    for (side, one_core), runs in results.items():
        sizes = runs[0]["bytes"]
        assert isinstance(sizes, dict)
        cells = " | ".join(f"{sizes[n] / 1e6:.2f} MB" for n in NAMES)
        lines.append(
            f"| {side} | {'1 (taskset)' if one_core else 'default'} | "
            f"{median_of(runs, 'cpu'):.2f} | {median_of(runs, 'wall'):.2f} | "
            f"{median_of(runs, 'peak_mb'):.0f} | {cells} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", default=None, help=f"comma-separated: {', '.join(INPUTS)}")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sides", default="ours,naive,sharp")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/bench-images"))
    parser.add_argument("--child", nargs=3, metavar=("SIDE", "PATH", "THREADS"), help="internal")
    args = parser.parse_args()
    if args.child:
        run_child(args.child[0], Path(args.child[1]), int(args.child[2]))
        return
    names = [n.strip() for n in args.inputs.split(",")] if args.inputs else list(INPUTS)
    if args.quick and not args.inputs:
        names = names[:2]
    sides = [s.strip() for s in args.sides.split(",")]
    if "sharp" in sides and not (SHARP_DIR / "node_modules" / "sharp").exists():
        if shutil.which("npm") is None:
            sys.exit("sharp needs node and npm: run `npm ci` in bench/sharp")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=SHARP_DIR, check=True)
    print(f"Pillow {Image.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    for name in names:
        path = make_input(args.cache_dir, name)
        big = INPUTS[name][1] * INPUTS[name][2] >= 50_000_000
        repeats = args.repeats or (3 if args.quick else 1 if big else 5)
        results: dict[tuple[str, bool], list[dict[str, object]]] = {}
        for _ in range(repeats):  # alternate the sides, so drift hits them alike
            for one_core in (True, False):
                for side in sides:
                    results.setdefault((side, one_core), []).append(measure(side, path, one_core))
        print(
            table(
                f"{name} ({path.stat().st_size / 1e6:.1f} MB file), medians of {repeats}", results
            ),
            "\n",
            flush=True,
        )


if __name__ == "__main__":
    main()
