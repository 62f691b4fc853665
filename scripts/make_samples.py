"""Generate the committed sample inputs of `make demo` (deterministic; run from anywhere).

    .venv/bin/python scripts/make_samples.py

- photo-rotated.jpg     a landscape photo stored sideways with EXIF Orientation=6, GPS
                        tags and an sRGB ICC profile: variants come out upright, GPS-free
- logo-transparent.png  RGBA with a transparent background and soft edges: JPEG variants
                        get a white background, WebP/PNG keep the alpha
- sales.csv             mixed types: integers, decimals, dates, booleans, blanks, quoted
                        commas and unicode
- not-an-image.jpg      text named like a JPEG: routed to images/ by its name, rejected by
                        its bytes, so it shows an error report instead of variants

The event files in events/ name these objects (or objects of the same type), which is
how `python -m local_pipeline invoke` seeds them.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from pathlib import Path

from PIL import Image, ImageCms, ImageDraw

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "samples"

ORIENTATION = 0x0112
GPS_IFD = 0x8825
ROTATE_CW_TO_VIEW = 6  # EXIF: the stored pixels must be turned 90 degrees clockwise


def photo_rotated() -> bytes:
    width, height = 320, 240
    upright = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(upright)
    for y in range(height):  # sky fading into the horizon, then grass
        if y < 150:
            draw.line([(0, y), (width, y)], fill=(70 + y // 2, 140 + y // 3, 235))
        else:
            draw.line([(0, y), (width, y)], fill=(60, 150 - (y - 150) // 2, 60))
    draw.ellipse((230, 25, 290, 85), fill=(255, 210, 60))  # the sun, top right when upright
    draw.polygon([(40, 150), (110, 60), (180, 150)], fill=(120, 110, 100))  # a mountain
    draw.polygon([(85, 92), (110, 60), (135, 92)], fill=(245, 245, 250))  # its snow cap
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # how a sideways camera saved it
    exif = Image.Exif()
    exif[ORIENTATION] = ROTATE_CW_TO_VIEW
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    stored.save(out, "JPEG", quality=85, exif=exif, icc_profile=icc)
    return out.getvalue()


def logo_transparent() -> bytes:
    scale, size = 4, 192  # drawn 4x larger and reduced, for soft (semi-transparent) edges
    big = Image.new("RGBA", (size * scale, size * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(big)
    s = scale
    draw.ellipse((16 * s, 16 * s, 176 * s, 176 * s), fill=(230, 80, 40, 255))
    draw.ellipse((56 * s, 56 * s, 136 * s, 136 * s), fill=(0, 0, 0, 0))  # a hole
    draw.rectangle((88 * s, 4 * s, 104 * s, 188 * s), fill=(30, 90, 200, 160))  # translucent bar
    out = io.BytesIO()
    big.resize((size, size), Image.Resampling.LANCZOS).save(out, "PNG", optimize=True)
    return out.getvalue()


def sales_csv() -> bytes:
    rng = random.Random(7)
    regions = ["North", "South", "East", "West", "Île-de-France"]
    products = ["Widget", "Gadget", "Gizmo, deluxe", "Doohickey"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "order_id",
            "order_date",
            "region",
            "product",
            "quantity",
            "unit_price",
            "discount",
            "paid",
            "note",
        ]
    )
    start = date(2026, 1, 5)
    for order in range(1, 49):
        writer.writerow(
            [
                1000 + order,
                (start + timedelta(days=rng.randrange(0, 120))).isoformat(),
                rng.choice(regions),
                rng.choice(products),
                rng.randint(1, 40),
                f"{rng.uniform(2, 250):.2f}",
                "" if rng.random() < 0.3 else f"{rng.choice([0.05, 0.1, 0.15]):.2f}",
                rng.choice(["true", "false"]),
                rng.choice(["", "", "rush order", 'said "thanks"', "café delivery"]),
            ]
        )
    return out.getvalue().encode("utf-8")


NOT_AN_IMAGE = (
    b"This is a plain-text file named like a JPEG.\n"
    b"The image function checks the bytes, not the name, rejects it, and writes an error\n"
    b"report (error.json) where the variants would have been. A retry could not help, so\n"
    b"the function does not raise.\n"
)

SAMPLES = {
    "photo-rotated.jpg": photo_rotated,
    "logo-transparent.png": logo_transparent,
    "sales.csv": sales_csv,
    "not-an-image.jpg": lambda: NOT_AN_IMAGE,
}


def main() -> None:
    for name, make in SAMPLES.items():
        data = make()
        (SAMPLES_DIR / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
