import re
from pathlib import Path

import pytest
from pipeline_runtime import config as config_module
from pipeline_runtime.config import ConfigError, CsvSummarizerConfig, ImageProcessorConfig

from tests.cfn import sam_template

ROOT = Path(__file__).resolve().parents[2]
CONFIG_OF = {
    "ImageProcessorFunction": ImageProcessorConfig,
    "CsvSummarizerFunction": CsvSummarizerConfig,
}


def test_every_function_has_a_config(stack):
    assert sorted(f.logical_id for f in stack.functions()) == sorted(CONFIG_OF)


@pytest.mark.parametrize("logical_id", sorted(CONFIG_OF))
def test_template_sets_exactly_the_variables_the_code_reads(stack, logical_id):
    spec = stack.function(logical_id)
    assert sorted(spec.environment) == sorted(CONFIG_OF[logical_id].VARIABLES)


@pytest.mark.parametrize("logical_id", sorted(CONFIG_OF))
def test_template_values_are_valid_config_and_each_is_required(stack, logical_id):
    environment = stack.function(logical_id).environment
    config_class = CONFIG_OF[logical_id]
    assert isinstance(config_class.from_env(environment), config_class)
    for name in config_class.VARIABLES:
        without = {k: v for k, v in environment.items() if k != name}
        with pytest.raises(ConfigError, match=f"environment variable {name} is not set"):
            config_class.from_env(without)


def test_image_config_values(stack):
    config = ImageProcessorConfig.from_env(stack.function("ImageProcessorFunction").environment)
    assert config.upload_bucket == "test-upload-123456789012-us-east-1"
    assert config.processed_bucket == "test-processed-123456789012-us-east-1"
    assert config.upload_prefix == "images/"
    assert config.max_image_pixels == 250_000_000
    assert config.thumbnail_size == 300
    assert config.jpeg_background == "ffffff"


def test_no_module_but_config_reads_the_environment():
    readers = []
    for folder in ("image_processor", "csv_summarizer", "layers/runtime"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "config.py":
                continue
            if re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text()):
                readers.append(str(path.relative_to(ROOT)))
    assert readers == []


def _image_env(**changes):
    env = {
        "POWERTOOLS_SERVICE_NAME": "image-processor",
        "POWERTOOLS_METRICS_NAMESPACE": "ns",
        "UPLOAD_BUCKET": "in",
        "PROCESSED_BUCKET": "out",
        "IMAGE_UPLOAD_PREFIX": "images/",
        "MAX_IMAGE_PIXELS": "100",
        "MAX_IMAGE_BYTES": "100",
        "THUMBNAIL_SIZE": "300",
        "JPEG_BACKGROUND": "#ffffff",
    }
    env.update(changes)
    return {k: v for k, v in env.items() if v is not None}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"PROCESSED_BUCKET": None}, "PROCESSED_BUCKET is not set"),
        ({"UPLOAD_BUCKET": ""}, "UPLOAD_BUCKET is not set"),
        ({"MAX_IMAGE_PIXELS": "lots"}, "MAX_IMAGE_PIXELS='lots' is not an integer"),
        ({"THUMBNAIL_SIZE": "0"}, "THUMBNAIL_SIZE=0 must be positive"),
        ({"IMAGE_UPLOAD_PREFIX": "images"}, "must end with '/'"),
        ({"JPEG_BACKGROUND": "white"}, "not a hex colour"),
        ({"POWERTOOLS_SERVICE_NAME": ""}, "POWERTOOLS_SERVICE_NAME is not set"),
    ],
)
def test_bad_image_config_is_a_clear_error(changes, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        ImageProcessorConfig.from_env(_image_env(**changes))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("#ffffff", (255, 255, 255)),
        ("ffffff", (255, 255, 255)),
        ("#000000", (0, 0, 0)),
        ("#FF8000", (255, 128, 0)),
        (" #0a0b0c ", (10, 11, 12)),
    ],
)
def test_jpeg_background_is_read_as_rgb(value, expected):
    config = ImageProcessorConfig.from_env(_image_env(JPEG_BACKGROUND=value))
    assert config.jpeg_background_rgb == expected


# One rule, the template's AllowedPattern: six hex digits. The imaging core once had a second,
# laxer one (#fff) that no deployed value could reach.
@pytest.mark.parametrize(
    "value", ["", "#ffff", "#fff", "white", "#gggggg", "#fffffff", "rgb(1,2,3)"]
)
def test_jpeg_background_rejects_anything_else(value):
    with pytest.raises(ConfigError):
        ImageProcessorConfig.from_env(_image_env(JPEG_BACKGROUND=value))


def test_the_templates_pattern_is_the_configs_rule():
    pattern = sam_template()["Parameters"]["JpegBackground"]["AllowedPattern"]
    assert pattern == config_module._HEX_COLOUR.pattern


def test_overlapping_csv_prefixes_are_refused():
    env = {
        "POWERTOOLS_SERVICE_NAME": "csv",
        "POWERTOOLS_METRICS_NAMESPACE": "ns",
        "MIMALLOC_ARENA_EAGER_COMMIT": "0",
        "UPLOAD_BUCKET": "in",
        "CSV_UPLOAD_PREFIX": "data/",
        "SUMMARY_PREFIX": "data/summaries/",
        "MAX_CSV_BYTES": "10",
        "CSV_MAX_FIELD_BYTES": "10",
    }
    with pytest.raises(ConfigError, match="must not overlap"):
        CsvSummarizerConfig.from_env(env)
