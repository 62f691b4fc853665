"""The idempotency protocol's pure parts: sequencer order, verdicts, source metadata.

Its S3 side (markers, conditional writes, retirement) is proven against moto in
tests/integration and tests/reliability.
"""

import pytest
from pipeline_runtime.events import S3ObjectRef
from pipeline_runtime.idempotency import (
    Markers,
    Verdict,
    compare_sequencers,
    source_metadata,
    verdict,
)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("0055AED6DCD90281E5", "0055AED6DCD90281E5", 0),
        ("0055AED6DCD90281E6", "0055AED6DCD90281E5", 1),
        ("0055AED6DCD90281E5", "0055AED6DCD90281E6", -1),
        # Different lengths: right-pad with zeros, then compare (AWS's documented rule).
        ("0055AED6DCD90281E5", "0055AED6DCD90281E500", 0),
        ("0055AED6DCD90281E6", "0055AED6DCD90281E5FF", 1),
        ("0055aed6dcd90281e6", "0055AED6DCD90281E5", 1),
    ],
)
def test_compare_sequencers(a, b, expected):
    assert compare_sequencers(a, b) == expected


REF = S3ObjectRef("b", "k", version_id="v2", etag="e2", sequencer="0002")


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        (None, Verdict.NEEDED),
        ({}, Verdict.NEEDED),
        ({"source-sequencer": "0002", "source-etag": "e2"}, Verdict.DUPLICATE),
        ({"source-sequencer": "0003"}, Verdict.STALE),
        ({"source-sequencer": "0001"}, Verdict.NEEDED),
        ({"source-version-id": "v2"}, Verdict.DUPLICATE),
        ({"source-version-id": "v1"}, Verdict.NEEDED),
    ],
)
def test_verdict_against_the_newest_marker(recorded, expected):
    assert verdict(REF, recorded) is expected


def test_verdict_by_etag_without_sequencer_or_version():
    ref = S3ObjectRef("b", "k", etag="e1")
    assert verdict(ref, {"source-etag": "e1"}) is Verdict.DUPLICATE
    assert verdict(ref, {"source-etag": "e0"}) is Verdict.NEEDED


def test_source_metadata_drops_missing_values():
    assert source_metadata(S3ObjectRef("b", "k", etag="e", sequencer="s")) == {
        "source-etag": "e",
        "source-sequencer": "s",
    }


def test_markers_name_the_result_and_the_error_report():
    markers = Markers("p/manifest.json", "p/error.json")
    assert markers.both() == ("p/manifest.json", "p/error.json")
    assert (markers.result, markers.error_report) == ("p/manifest.json", "p/error.json")
