"""Output key prefixes and the background parameter."""

from __future__ import annotations

import pytest
from variants import output_prefix


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("images/a/b/cat 1.jpg", "a/b/cat 1.jpg"),
        ("images/logo.png", "logo.png"),
        ("images/logo.jpg", "logo.jpg"),
        ("images/ünïcødé ñame.jpeg", "ünïcødé ñame.jpeg"),
        ("images/images/x.png", "images/x.png"),
        ("elsewhere/x.png", "elsewhere/x.png"),
    ],
)
def test_output_prefix_is_the_whole_key_minus_the_upload_prefix(key: str, expected: str) -> None:
    assert output_prefix(key) == expected


def test_same_name_different_extension_never_collide() -> None:
    assert output_prefix("images/logo.png") != output_prefix("images/logo.jpg")


def test_custom_upload_prefix() -> None:
    assert output_prefix("uploads/x/y.png", "uploads/") == "x/y.png"


@pytest.mark.parametrize("key", ["images/", "images/folder/", ""])
def test_folder_markers_have_no_prefix(key: str) -> None:
    with pytest.raises(ValueError):
        output_prefix(key)
