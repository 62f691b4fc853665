"""The results page of a run, opened from file:// in a real browser (headless Chromium)."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from PIL import Image

from local_pipeline.cli import main
from tests.e2e.inputs import mixed_csv, rotated_jpeg, transparent_png

CHROMIUM = shutil.which("chromium") or shutil.which("google-chrome") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# Chromium as the probe of this machine runs it: no sandbox as root, and none of the
# background connections that a closed network refuses.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1800",
)
HOSTILE_NAME = "<img src=x onerror=alert(1)>.png"
HOSTILE_CELL = '<script>alert("cell")</script>'


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    inputs = tmp_path_factory.mktemp("inputs")
    (inputs / "rotated.jpg").write_bytes(rotated_jpeg())
    (inputs / HOSTILE_NAME).write_bytes(transparent_png())
    (inputs / "hostile.csv").write_text(f"name,n\n{HOSTILE_CELL},1\nplain,2\n")
    (inputs / "sales.csv").write_bytes(mixed_csv(12))
    (inputs / "broken.jpg").write_bytes(b"\xff\xd8\xffnot a jpeg")
    out = tmp_path_factory.mktemp("out")
    assert main(["run", str(inputs), "--out", str(out)]) == 0
    return out / "index.html"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    assert not missing, f"{missing}: apt-get install chromium chromium-driver (make test does)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    # DevTools network events: every request the page makes, whatever its scheme.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def opened(page: Path, browser: Any) -> Any:
    browser.get(page.as_uri())
    # Images load lazily: bring each into view, then wait for all to finish.
    browser.execute_script(
        "for (const img of document.images) img.scrollIntoView(); window.scrollTo(0, 0);"
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if browser.execute_script("return [...document.images].every(i => i.complete)"):
            break
        time.sleep(0.2)
    return browser


def test_every_input_is_named(opened: Any, page: Path) -> None:
    headings = [h.text for h in opened.find_elements("css selector", "section.card h2")]
    names = sorted(Path(h).name for h in headings)
    assert names == sorted(["rotated.jpg", HOSTILE_NAME, "hostile.csv", "sales.csv", "broken.jpg"])


def test_every_image_has_loaded(opened: Any) -> None:
    images = opened.execute_script(
        "return [...document.images].map(i => [i.src, i.complete, i.naturalWidth])"
    )
    assert len(images) == 12  # two images: the original and five variants each
    broken = [src for src, complete, width in images if not complete or width == 0]
    assert broken == []


def test_markup_in_names_and_cells_shows_as_text(opened: Any) -> None:
    assert opened.execute_script("return document.scripts.length") == 0
    assert opened.execute_script("return document.querySelectorAll('img[onerror]').length") == 0
    text = opened.find_element("tag name", "body").text
    assert HOSTILE_NAME in text
    assert HOSTILE_CELL in text


def test_nothing_is_fetched_from_the_network(opened: Any, page: Path) -> None:
    requests = [
        message["params"]["request"]["url"]
        for entry in opened.get_log("performance")
        if (message := json.loads(entry["message"])["message"])["method"]
        == "Network.requestWillBeSent"
    ]
    # The page and one preview per photo (the thumbnail, shown for the original and for
    # every variant): the full files are links, fetched only when opened.
    assert len(requests) == 3, requests
    assert [url for url in requests if not url.startswith("file://")] == []
    html = page.read_text()
    links = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert links and not [link for link in links if re.match(r"[a-z]+:|//", link)]


def test_every_link_stays_inside_the_output_folder(page: Path) -> None:
    """Originals are copied into the folder: it can be moved, and every link still works."""
    folder = page.parent.resolve()
    links = re.findall(r'(?:src|href)="([^"]*)"', page.read_text())
    targets = [(folder / unquote(link)).resolve() for link in links]
    assert [t for t in targets if not t.is_relative_to(folder) or not t.is_file()] == []
    originals = [t for t in targets if t.name in ("rotated.jpg", HOSTILE_NAME)]
    assert {t.name for t in originals} == {"rotated.jpg", HOSTILE_NAME}


def test_outcomes_and_findings_are_on_the_page(opened: Any) -> None:
    text = opened.find_element("tag name", "body").text
    assert "Rejected: unsupported_format" in text or "Rejected: corrupt" in text
    cards = {
        Path(card.find_element("tag name", "h2").text).name: card.text
        for card in opened.find_elements("css selector", "section.card")
    }
    assert "12 rows · 5 columns" in cards["sales.csv"]
    assert "original\nJPEG · 80\u00d740" in cards["rotated.jpg"]
    assert "thumbnail\nJPEG · 40\u00d780" in cards["rotated.jpg"]


def test_the_page_renders_for_a_screenshot(opened: Any, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    assert opened.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000


def _phone_photo(seed: int) -> bytes:
    """A 12 MP photo-like JPEG (about 4,000 x 3,000, a few MB): noise over gradients."""
    import io
    import random

    from PIL import Image, ImageFilter

    rnd = random.Random(seed)
    small = Image.frombytes("RGB", (400, 300), rnd.randbytes(400 * 300 * 3))
    image = small.resize((4000, 3000), Image.Resampling.BICUBIC).filter(ImageFilter.DETAIL)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def test_a_page_of_large_photos_loads_a_small_part_of_their_bytes(tmp_path: Path) -> None:
    """The images a browser fetches for the page are the previews: under 1 MB a photo
    (the target: 10 phone photos under 10 MB), while the originals are megabytes each."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for n in range(3):
        (photos / f"IMG_{n}.jpg").write_bytes(_phone_photo(n))
    out = tmp_path / "out"
    assert main(["run", str(photos), "--out", str(out)]) == 0
    html = (out / "index.html").read_text()
    shown = {unquote(src) for src in re.findall(r'<img src="([^"]*)"', html)}
    shown_bytes = sum((out / src).stat().st_size for src in shown)
    originals = sum(p.stat().st_size for p in photos.iterdir())
    assert originals > 3 * 2_000_000  # real-size inputs
    assert len(shown) == 3 and shown_bytes < 3 * 1_000_000, (shown, shown_bytes)
    for src in shown:
        with Image.open(out / src) as preview:
            assert max(preview.size) <= 300
