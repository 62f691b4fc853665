"""atheris harness for the imaging core: ``make_variants`` on every input.

python fuzz/fuzz_image.py fuzz/corpus/image -max_total_time=600   # or: fuzz/run.py image
"""

from __future__ import annotations

import sys

import atheris
from harness import Harness  # type: ignore[import-not-found]  # fuzz/ is sys.path[0]

with atheris.instrument_imports(
    include=["PIL", "variants", "image_decode", "image_encode", "image_png", "image_types"]
):
    import pillow_heif  # type: ignore[import-not-found]  # noqa: F401
    from PIL import Image

    Image.init()  # import every plugin now, inside the instrumented block

    from fuzz.invariants import IMAGE_LIMITS, check_image, image_memory_bound
    from fuzz.seeds import image_seeds


def main() -> None:
    harness = Harness(
        "image",
        check_image,
        list(image_seeds().values()),
        seconds=10.0,
        memory=image_memory_bound(IMAGE_LIMITS),
    )
    harness.main(sys.argv)


if __name__ == "__main__":
    main()
