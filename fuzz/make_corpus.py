"""Write the seed corpora: fuzz/corpus/image/ and fuzz/corpus/csv/ (gitignored).

python fuzz/make_corpus.py [--out fuzz/corpus]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [
    str(ROOT / "image_processor"),
    str(ROOT / "csv_summarizer"),
    str(ROOT / "layers" / "runtime"),
    str(ROOT),
]

from fuzz.seeds import csv_seeds, image_seeds  # noqa: E402


def write(out: Path) -> dict[str, int]:
    counts = {}
    for target, seeds in (("image", image_seeds()), ("csv", csv_seeds())):
        folder = out / target
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in seeds.items():
            (folder / f"seed-{name}").write_bytes(data)
        counts[target] = len(seeds)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "fuzz" / "corpus")
    args = parser.parse_args()
    for target, count in write(args.out).items():
        print(f"{target}: {count} seeds in {args.out / target}")


if __name__ == "__main__":
    main()
