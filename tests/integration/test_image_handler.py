"""ImageProcessorFunction's handler against moto: what lands in the processed bucket."""

import io
import json

import pytest
from PIL import Image
from pipeline_runtime.endings import RecordsFailedError

from tests.conftest import upload
from tests.integration.faults import fail_first_calls
from tests.unit import image_fixtures as fx

UPLOAD = "test-upload-123456789012-us-east-1"
PROCESSED = "test-processed-123456789012-us-east-1"
VARIANT_NAMES = {"compressed", "low_quality", "webp", "png", "thumbnail"}
FORMATS = {"compressed": "JPEG", "low_quality": "JPEG", "webp": "WEBP", "png": "PNG"}


# The next step every too_many_pixels report ends with.
RAISE_PIXELS = (
    "; the stack parameter MaxImagePixels raises it (with ImageMemorySize: "
    "about 10 MB per megapixel)"
)


def _jpeg(width=640, height=480, colour=(200, 30, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


@pytest.fixture
def image_fn(aws, load_function):
    return load_function("ImageProcessorFunction")


def _get(s3, key):
    return s3.get_object(Bucket=PROCESSED, Key=key)


def _manifest(s3, prefix):
    return json.loads(_get(s3, f"{prefix}/manifest.json")["Body"].read())


def _keys(s3):
    listing = s3.list_objects_v2(Bucket=PROCESSED)
    return sorted(o["Key"] for o in listing.get("Contents", []))


def test_five_variants_and_a_manifest_are_written(aws, image_fn):
    event = upload(aws, UPLOAD, "images/a/b/cat 1.jpg", _jpeg(), "0001")
    result = image_fn.invoke(event)

    (record,) = result["records"]
    assert record["status"] == "results"
    manifest = _manifest(aws, "a/b/cat 1.jpg")
    assert {v["name"] for v in manifest["variants"]} == VARIANT_NAMES
    assert manifest["source"]["key"] == "images/a/b/cat 1.jpg"
    assert manifest["source"]["sequencer"] == "0001"
    assert manifest["image"] == {"format": "JPEG", "width": 640, "height": 480, "mode": "RGB"}
    assert _keys(aws) == sorted(
        [v["key"] for v in manifest["variants"]] + ["a/b/cat 1.jpg/manifest.json"]
    )
    for variant in manifest["variants"]:
        obj = _get(aws, variant["key"])
        body = obj["Body"].read()
        assert obj["ContentType"] == variant["content_type"]
        assert obj["Metadata"]["source-sequencer"] == "0001"
        assert len(body) == variant["bytes"]
        assert variant["version_id"] == obj["VersionId"]
        with Image.open(io.BytesIO(body)) as img:
            assert (img.width, img.height) == (variant["width"], variant["height"])
            if variant["name"] == "thumbnail":
                assert (img.width, img.height) == (300, 225)
            else:
                assert img.format == FORMATS[variant["name"]]
                assert (img.width, img.height) == (640, 480)


def test_logo_png_and_logo_jpg_never_overwrite_each_other(aws, image_fn):
    png = io.BytesIO()
    Image.new("RGBA", (50, 40), (0, 0, 255, 128)).save(png, "PNG")
    image_fn.invoke(upload(aws, UPLOAD, "images/logo.png", png.getvalue(), "0001"))
    image_fn.invoke(upload(aws, UPLOAD, "images/logo.jpg", _jpeg(60, 30), "0002"))
    assert _manifest(aws, "logo.png")["image"]["format"] == "PNG"
    assert _manifest(aws, "logo.jpg")["image"]["format"] == "JPEG"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"hello, I am text pretending to be a JPEG\n", "unsupported_format"),
        (_jpeg()[:2000], "truncated"),
    ],
)
def test_bad_input_gets_an_error_report_and_no_raise(aws, image_fn, body, reason):
    event = upload(aws, UPLOAD, "images/bad.jpg", body, "0001")
    (record,) = image_fn.invoke(event)["records"]
    assert record["status"] == "error_report"
    assert record["outputs"] == ["bad.jpg/error.json"]
    report = json.loads(_get(aws, "bad.jpg/error.json")["Body"].read())
    assert report["reason"] == reason
    assert report["message"]
    assert report["source"]["key"] == "images/bad.jpg"
    assert _keys(aws) == ["bad.jpg/error.json"]


def test_too_large_is_rejected_before_download(aws, image_fn, monkeypatch):
    event = upload(aws, UPLOAD, "images/huge.jpg", _jpeg(), "0001")
    event["Records"][0]["s3"]["object"]["size"] = 10**9
    gets = fail_first_calls(image_fn.module.store.client, "get_object", 0, monkeypatch)
    (record,) = image_fn.invoke(event)["records"]
    assert record["detail"] == "too_large"
    assert gets == []
    report = json.loads(_get(aws, "huge.jpg/error.json")["Body"].read())
    assert report["message"] == (
        "the object is 1000000000 bytes, over the limit of 268435456 bytes; the stack "
        "parameter MaxImageBytes raises it"
    )


def test_duplicate_event_is_skipped(aws, image_fn, monkeypatch):
    event = upload(aws, UPLOAD, "images/dup.jpg", _jpeg(), "0001")
    image_fn.invoke(event)
    first = _manifest(aws, "dup.jpg")
    puts = fail_first_calls(image_fn.module.store.client, "put_object", 0, monkeypatch)
    (record,) = image_fn.invoke(event)["records"]
    assert record["status"] == "skipped_duplicate"
    assert puts == []
    assert _manifest(aws, "dup.jpg") == first


def test_an_older_event_never_overwrites_a_newer_upload(aws, image_fn):
    old_event = upload(aws, UPLOAD, "images/order.jpg", _jpeg(100, 100), "0001")
    new_event = upload(aws, UPLOAD, "images/order.jpg", _jpeg(200, 100), "0002")
    image_fn.invoke(new_event)
    (record,) = image_fn.invoke(old_event)["records"]
    assert record["status"] == "skipped_stale"
    manifest = _manifest(aws, "order.jpg")
    assert manifest["source"]["sequencer"] == "0002"
    assert manifest["image"]["width"] == 200


def test_a_newer_event_replaces_older_results(aws, image_fn):
    image_fn.invoke(upload(aws, UPLOAD, "images/v.jpg", _jpeg(100, 100), "0001"))
    image_fn.invoke(upload(aws, UPLOAD, "images/v.jpg", _jpeg(300, 100), "0002"))
    assert _manifest(aws, "v.jpg")["image"]["width"] == 300


def test_the_version_named_by_the_event_is_fetched_and_an_overwritten_one_not_written(
    aws, image_fn, monkeypatch
):
    old_event = upload(aws, UPLOAD, "images/ver.jpg", _jpeg(100, 100), "0001")
    new_event = upload(aws, UPLOAD, "images/ver.jpg", _jpeg(200, 100), "0002")  # not yet sent
    client = image_fn.module.store.client
    fetched = []
    real_get = client.get_object
    monkeypatch.setattr(client, "get_object", lambda **kw: fetched.append(kw) or real_get(**kw))

    (record,) = image_fn.invoke(old_event)["records"]
    # The old version was fetched, not the latest; but the key holds a newer upload by the
    # time the variants would be written, and that upload's event writes them: an older
    # event running beside it must never overwrite them (tests/reliability).
    assert fetched[0]["VersionId"] == old_event["Records"][0]["s3"]["object"]["versionId"]
    assert record["status"] == "skipped_stale"
    assert _keys(aws) == []

    image_fn.invoke(new_event)
    assert _manifest(aws, "ver.jpg")["image"]["width"] == 200


def test_transient_fault_is_retried_within_the_invocation(aws, image_fn, monkeypatch):
    event = upload(aws, UPLOAD, "images/flaky.jpg", _jpeg(), "0001")
    calls = fail_first_calls(image_fn.module.store.client, "put_object", 2, monkeypatch)
    (record,) = image_fn.invoke(event)["records"]
    assert record["status"] == "results"
    assert calls[0] == calls[1] == calls[2]  # the same write, retried
    assert len(_manifest(aws, "flaky.jpg")["variants"]) == 5


def test_persistent_fault_raises_and_leaves_no_manifest(aws, image_fn, monkeypatch):
    event = upload(aws, UPLOAD, "images/down.jpg", _jpeg(), "0001")
    fail_first_calls(image_fn.module.store.client, "put_object", 10**6, monkeypatch)
    with pytest.raises(RecordsFailedError):
        image_fn.invoke(event)
    assert "down.jpg/manifest.json" not in _keys(aws)


def test_partial_failure_leaves_no_manifest_so_the_retry_redoes_the_work(
    aws, image_fn, monkeypatch
):
    event = upload(aws, UPLOAD, "images/part.jpg", _jpeg(), "0001")
    # The first two variant writes succeed, then S3 stays down past the retry bound.
    real_put = image_fn.module.store.client.put_object
    calls = []

    def put(**kwargs):
        calls.append(kwargs["Key"])
        if len(calls) > 2:
            raise ConnectionResetError("connection reset by peer")
        return real_put(**kwargs)

    monkeypatch.setattr(image_fn.module.store.client, "put_object", put)
    with pytest.raises(RecordsFailedError):
        image_fn.invoke(event)
    assert "part.jpg/manifest.json" not in _keys(aws)
    monkeypatch.setattr(image_fn.module.store.client, "put_object", real_put)
    (record,) = image_fn.invoke(event)["records"]  # Lambda's retry
    assert record["status"] == "results"
    assert len(_manifest(aws, "part.jpg")["variants"]) == 5


def test_key_with_spaces_and_unicode(aws, image_fn):
    key = "images/holiday photos/café à la plage ☀.jpg"
    event = upload(aws, UPLOAD, key, _jpeg(), "0001")
    assert "caf%C3%A9+%C3%A0" in event["Records"][0]["s3"]["object"]["key"]
    (record,) = image_fn.invoke(event)["records"]
    assert record["status"] == "results"
    assert _manifest(aws, "holiday photos/café à la plage ☀.jpg")["source"]["key"] == key


def test_one_bad_record_does_not_stop_the_others(aws, image_fn):
    good = upload(aws, UPLOAD, "images/good.jpg", _jpeg(), "0001")
    bad = upload(aws, UPLOAD, "images/bad.png", b"not a png", "0002")
    event = {"Records": bad["Records"] + good["Records"]}
    statuses = [r["status"] for r in image_fn.invoke(event)["records"]]
    assert statuses == ["error_report", "results"]


def test_test_event_is_ignored(aws, image_fn):
    assert image_fn.invoke({"Event": "s3:TestEvent", "Service": "Amazon S3"}) == {"records": []}
    assert _keys(aws) == []


def test_folder_markers_are_ignored(aws, image_fn):
    event = upload(aws, UPLOAD, "images/holidays/", b"", "0001")
    (record,) = image_fn.invoke(event)["records"]
    assert (record["status"], record["detail"]) == ("ignored", "folder marker")
    assert _keys(aws) == []


def test_an_invalid_upload_after_a_valid_one_retires_the_older_manifest(aws, image_fn):
    image_fn.invoke(upload(aws, UPLOAD, "images/swap.png", _jpeg(), "0001"))
    invalid = upload(aws, UPLOAD, "images/swap.png", b"plain text now", "0002")
    (record,) = image_fn.invoke(invalid)["records"]
    assert record["status"] == "error_report"
    assert "swap.png/manifest.json" not in _keys(aws)
    assert "swap.png/error.json" in _keys(aws)
    # The retired manifest is still there as a noncurrent version (versioned bucket).
    versions = aws.list_object_versions(Bucket=PROCESSED, Prefix="swap.png/manifest.json")
    assert len(versions["Versions"]) == 1 and len(versions["DeleteMarkers"]) == 1
    (again,) = image_fn.invoke(invalid)["records"]
    assert again["status"] == "skipped_duplicate"


def test_a_valid_upload_after_an_invalid_one_retires_the_older_error_report(aws, image_fn):
    image_fn.invoke(upload(aws, UPLOAD, "images/fixed.jpg", b"oops", "0001"))
    (record,) = image_fn.invoke(upload(aws, UPLOAD, "images/fixed.jpg", _jpeg(), "0002"))["records"]
    assert record["status"] == "results"
    assert "fixed.jpg/error.json" not in _keys(aws)
    assert _manifest(aws, "fixed.jpg")["source"]["sequencer"] == "0002"


def test_a_10_gigapixel_png_gets_a_report_that_names_max_image_pixels(aws, image_fn):
    bomb = fx.bomb_png(100_000, 100_000)  # the header alone: no pixel data
    assert len(bomb) < 100
    (record,) = image_fn.invoke(upload(aws, UPLOAD, "images/huge.png", bomb, "0001"))["records"]
    assert record["status"] == "error_report"
    report = json.loads(_get(aws, "huge.png/error.json")["Body"].read())
    assert report["reason"] == "too_many_pixels"
    assert report["message"] == (
        "the image is 100000x100000 = 10000000000 pixels, over the limit of 250000000 pixels"
        + RAISE_PIXELS
    )


def test_a_16_6_mb_icc_profile_is_converted_not_copied_into_the_variants(aws, image_fn):
    padded = fx.padded_profile(fx.display_p3_profile, 16_600_000)
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (100, 180, 100)).save(
        buffer, "JPEG", quality=95, icc_profile=padded
    )
    assert buffer.tell() > 16_600_000
    event = upload(aws, UPLOAD, "images/p3.jpg", buffer.getvalue(), "0001")
    (record,) = image_fn.invoke(event)["records"]
    assert record["status"] == "results"
    manifest = _manifest(aws, "p3.jpg")
    assert (
        "icc: converted from 'Test Display P3' to sRGB; no profile embedded" in (manifest["notes"])
    )
    total = 0
    for variant in manifest["variants"]:
        body = _get(aws, variant["key"])["Body"].read()
        with Image.open(io.BytesIO(body)) as img:
            assert "icc_profile" not in img.info, variant["name"]
        total += len(body)
    # Flat colour: a few kilobytes of pixels in all; the profile alone was 16.6 MB a copy.
    assert total < 100_000


def test_the_manifest_says_a_16_bit_png_lost_its_depth(aws, image_fn):
    image_fn.invoke(upload(aws, UPLOAD, "images/deep.png", fx.rgb16_png(), "0001"))
    manifest = _manifest(aws, "deep.png")
    assert manifest["schema_version"] == "1.1"
    assert manifest["changes"] == [{"change": "bit_depth_reduced", "from_bits": 16, "to_bits": 8}]
