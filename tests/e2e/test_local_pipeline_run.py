"""`python -m local_pipeline run` on generated inputs, over real HTTP on loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.e2e.cli import local_pipeline
from tests.e2e.inputs import CSV_ROWS, GZ_ROWS, ROTATED_UPRIGHT_SIZE, write_inputs

VARIANT_NAMES = {"compressed", "low_quality", "webp", "png", "thumbnail"}


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    inputs = tmp_path_factory.mktemp("inputs")
    out = tmp_path_factory.mktemp("out")
    expected = write_inputs(inputs)
    completed = local_pipeline(
        "run", str(inputs), "--out", str(out), "--report", str(out / "report.json"), timeout=180
    )
    if completed.returncode != 0:
        # One failed run fails every test of the module with its output, not with KeyErrors.
        pytest.fail(
            f"local_pipeline run exited {completed.returncode}:\n"
            f"{completed.stdout}\n{completed.stderr}",
            pytrace=False,
        )
    report = json.loads((out / "report.json").read_text())
    return {
        "inputs": inputs,
        "out": out,
        "expected": expected,
        "completed": completed,
        "report": report,
        "by_key": {entry["key"]: entry for entry in report.get("inputs", [])},
    }


def test_run_succeeds_and_says_where_outputs_are(pipeline_run: dict[str, Any]) -> None:
    completed = pipeline_run["completed"]
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"Outputs: {pipeline_run['out']}/" in completed.stdout
    assert "[7/7]" in completed.stdout  # progress: every expected event settled
    assert "not uploaded: " in completed.stdout and "notes.txt" in completed.stdout


def test_every_routed_input_has_its_outcome(pipeline_run: dict[str, Any]) -> None:
    report = pipeline_run["report"]
    routed = {
        rel: exp for rel, exp in pipeline_run["expected"].items() if exp["outcome"] != "skipped"
    }
    assert report["failed"] == 0
    assert {entry["key"] for entry in report["inputs"]} == {exp["key"] for exp in routed.values()}
    for relative, exp in routed.items():
        entry = pipeline_run["by_key"][exp["key"]]
        assert entry["outcome"] == exp["outcome"], entry
        assert entry["path"] == str(pipeline_run["inputs"] / relative)
        assert entry["attempts"] == 1
        assert entry["duration_ms"] > 0
        assert entry["bucket"] == "local-upload-123456789012-us-east-1"
        expected_function = (
            "ImageProcessorFunction"
            if exp["key"].startswith("images/")
            else "CsvSummarizerFunction"
        )
        assert entry["function"] == expected_function
        assert entry["outputs"], entry
        for output in entry["outputs"]:
            assert Path(output).is_file(), output


def _manifest(pipeline_run: dict[str, Any], key: str) -> dict[str, Any]:
    manifests = [o for o in pipeline_run["by_key"][key]["outputs"] if o.endswith("manifest.json")]
    return json.loads(Path(manifests[0]).read_text())


def test_rotated_photo_has_five_upright_variants(pipeline_run: dict[str, Any]) -> None:
    out = pipeline_run["out"] / "processed" / "photos" / "rotated.jpg"
    manifest = json.loads((out / "manifest.json").read_text())
    assert {v["name"] for v in manifest["variants"]} == VARIANT_NAMES
    for variant in manifest["variants"]:
        local = pipeline_run["out"] / "processed" / variant["key"]
        with Image.open(local) as image:
            assert image.format == variant["format"]
            if variant["name"] != "thumbnail":
                assert image.size == ROTATED_UPRIGHT_SIZE
            assert image.getexif().get(0x0112) in (None, 1)


def test_transparent_png_keeps_alpha_where_it_can(pipeline_run: dict[str, Any]) -> None:
    manifest = _manifest(pipeline_run, "images/logo")
    assert {v["name"] for v in manifest["variants"]} == VARIANT_NAMES
    png = pipeline_run["out"] / "processed" / "logo" / "image.png"
    with Image.open(png) as image:
        assert image.mode == "RGBA"
        assert image.getchannel("A").getpixel((0, 0)) == 0
    with Image.open(pipeline_run["out"] / "processed" / "logo" / "compressed.jpg") as jpeg:
        corner = jpeg.getpixel((0, 0))
        assert isinstance(corner, tuple)
        assert min(corner) >= 250  # composited on white, not black


def test_unicode_key_round_trips(pipeline_run: dict[str, Any]) -> None:
    key = "images/holiday photos/café à la plage ☀.png"
    assert pipeline_run["by_key"][key]["outcome"] == "results"
    folder = pipeline_run["out"] / "processed" / "holiday photos" / "café à la plage ☀.png"
    assert (folder / "manifest.json").is_file()


def test_csv_summaries_count_the_rows(pipeline_run: dict[str, Any]) -> None:
    summaries = pipeline_run["out"] / "upload" / "summaries"
    plain = json.loads((summaries / "reports" / "2026" / "sales.csv.json").read_text())
    assert plain["rows"] == CSV_ROWS
    assert [c["name"] for c in plain["columns"]] == ["id", "day", "amount", "ok", "label"]
    gzipped = json.loads((summaries / "sales-archive.csv.gz.json").read_text())
    assert gzipped["rows"] == GZ_ROWS


def test_rejected_inputs_get_error_reports(pipeline_run: dict[str, Any]) -> None:
    image_report = json.loads(
        (pipeline_run["out"] / "processed" / "broken.jpg" / "error.json").read_text()
    )
    assert image_report["reason"] == "unsupported_format"
    assert pipeline_run["by_key"]["images/broken.jpg"]["error"] == "unsupported_format"
    csv_report = pipeline_run["out"] / "upload" / "summaries" / "empty.csv.error.json"
    assert json.loads(csv_report.read_text())["reason"] == "empty"


def test_only_image_originals_are_copied_into_the_output_folder(
    pipeline_run: dict[str, Any],
) -> None:
    """The page links originals inside --out, so the folder can be moved; a CSV (up to
    gigabytes) is never copied, and a rejected image needs no original on the page."""
    out = pipeline_run["out"]
    assert not (out / "upload" / "csv").exists()
    copies = {
        p.relative_to(out / "upload").as_posix()
        for p in out.glob("upload/images/**/*")
        if p.is_file()
    }
    results = {
        key: entry
        for key, entry in pipeline_run["by_key"].items()
        if entry["function"] == "ImageProcessorFunction" and entry["outcome"] == "results"
    }
    assert results and copies == set(results)
    for key, entry in results.items():
        assert entry["original"] == str(out / "upload" / key)
        assert (out / "upload" / key).read_bytes() == Path(entry["path"]).read_bytes()


def test_handler_logs_are_kept_per_function(pipeline_run: dict[str, Any]) -> None:
    log = (pipeline_run["out"] / "logs" / "ImageProcessorFunction.log").read_text()
    assert "START RequestId:" in log and "Max Memory Used:" in log
    assert '"function_name":"local-image-processor"' in log
